"""One status message per long request: the queue place as it moves, then "making: 40 % ·
about 30 s left", with a Cancel button; deleted when the request is over.

`StatusBoard.track` takes a request as it is queued. A request queued behind others gets
its message at once (the queue place, as before); one that a worker takes at once gets a
message only if it is still running after STATUS_EDIT_SECONDS (short work shows none). A
background task (`run`) goes over the tracked requests every TICK_SECONDS: their row in
storage (over: the message is deleted), the worker's progress hash (worker/progress.py),
the place in the queue. A message is edited only when its text changed and at most once
every STATUS_EDIT_SECONDS (3 s by default: Telegram allows about one message a second in a
chat, edits included, and the bot has other things to say there).

Text sent while the sender's first voice is still being learned is kept here too
(`speak_when_ready`) and queued as speech in the round after the recording's request
closes, if a voice came of it.

Each message sent is kept in storage (`store.status_messages`), so a restarted bot follows
it again (`restore`): it goes on moving and is deleted when the note arrives, instead of
keeping its last text and a Cancel button. Those rows go with the user on /forget. Nothing of
the board is written to Redis; what it reads from Redis is parsed and bounded
(worker.api.JobProgress). A waiting text (`speak_when_ready`) lives in memory only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from redis.exceptions import RedisError

from bot.callbacks import RequestCb
from bot.locales import Texts, texts_for
from bot.queue import JobQueue
from bot.settings import Settings
from storage import ACTIVE_STATUSES, StatusMessage, Storage
from worker.api import JobProgress, progress_key, synth_job_id

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5


def cancel_keyboard(request_id: int, user_id: int, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=texts.btn_cancel_request,
        callback_data=RequestCb(request_id=request_id, user_id=user_id),
    )
    return kb.as_markup()


def progress_text(progress: JobProgress, texts: Texts) -> str:
    if progress.seconds_left is None:
        return texts.status_making.format(percent=progress.percent)
    return texts.status_making_left.format(
        percent=progress.percent, seconds=max(1, progress.seconds_left)
    )


@dataclass(frozen=True, slots=True)
class WaitingText:
    """Text sent while the sender's voice was being learned: spoken once it is ready."""

    user_id: int
    chat_id: int
    reply_to: int | None
    text: str
    texts: Texts


@dataclass(slots=True)
class Status:
    """A tracked request and its message (None until one is sent)."""

    request_id: int
    job_id: str
    user_id: int
    chat_id: int
    texts: Texts
    started: float
    message_id: int | None = None
    text: str = ""
    edited_at: float = 0.0
    recording: bool = False  # a recording being learned: its handler owns the message


class StatusBoard:
    def __init__(
        self,
        bot: Bot,
        store: Storage,
        jobs: JobQueue,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.store = store
        self.jobs = jobs
        self.every = settings.status_edit_seconds
        self.clock = clock
        self.statuses: dict[int, Status] = {}
        self.waiting: dict[int, WaitingText] = {}  # by user: the latest text wins
        # Who says a waiting text once its voice is ready: the speech service, which tracks
        # what it queues on this board (bot/services/speech.py sets itself here).
        self.speaker: Callable[[WaitingText], Awaitable[None]] | None = None

    def speak_when_ready(self, waiting: WaitingText) -> None:
        """Say `waiting.text` once the user's recording being learned has become a voice (a
        round after its request closes); nothing, if it did not."""
        self.waiting[waiting.user_id] = waiting

    async def track(
        self, request_id: int, user_id: int, chat_id: int, texts: Texts, place: int | None
    ) -> None:
        """Follow a request of speech just queued at `place` (1-based; None: unknown)."""
        status = Status(request_id, synth_job_id(request_id), user_id, chat_id, texts, self.clock())
        self.statuses[request_id] = status
        if place is not None and place > 1:
            await self.show(status, texts.queue_place.format(place=place), at_once=True)

    def follow_recording(
        self,
        request_id: int,
        job_id: str,
        user_id: int,
        chat_id: int,
        message_id: int,
        texts: Texts,
    ) -> None:
        """Follow a recording whose "listening" message is `message_id`: while it waits for a
        worker, the message shows its place. Its handler untracks it before it answers."""
        status = Status(request_id, job_id, user_id, chat_id, texts, self.clock(), message_id)
        status.text, status.edited_at, status.recording = texts.listening, self.clock(), True
        self.statuses[request_id] = status

    async def restore(self) -> int:
        """Follow again the status messages an earlier run of the bot left (how many): they
        move on as before, and one whose request ended meanwhile goes in the first round, as
        any other's does."""
        kept = await self.store.status_messages.all()
        for message in kept:
            user = await self.store.users.get(message.user_id)  # rows go with their user
            texts = texts_for(user.language if user else None)
            job_id = synth_job_id(message.request_id)  # as `track` follows speech
            status = Status(
                message.request_id, job_id, message.user_id, message.chat_id, texts, self.clock()
            )
            # Its text is unknown: the next round writes the current one (Telegram answers
            # "not modified" if it was that already; logged, harmless).
            status.message_id = message.message_id
            self.statuses[message.request_id] = status
        if kept:
            log.info("status messages: following %d again after a restart", len(kept))
        return len(kept)

    def untrack(self, request_id: int) -> Status | None:
        """Stop following a request; its message stays as it is (the caller's to change)."""
        return self.statuses.pop(request_id, None)

    async def let_go(self, request_id: int) -> None:
        """`untrack`, for good: the caller writes the message's last text, so a restarted bot
        must not follow it again either."""
        status = self.untrack(request_id)
        if status is not None and status.message_id is not None:
            await self.store.status_messages.drop(request_id)

    async def run(self) -> None:
        """Runs until cancelled."""
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("status messages: a round failed; trying again")
            await asyncio.sleep(TICK_SECONDS)

    async def tick(self) -> None:
        for waiting in list(self.waiting.values()):
            if not await self.store.requests.list_active(waiting.user_id, "embed"):
                del self.waiting[waiting.user_id]
                if self.speaker is not None:
                    await self.speaker(waiting)
        for status in list(self.statuses.values()):
            try:
                await self.update(status)
            except (RedisError, TelegramAPIError, OSError) as error:  # the next round tries again
                log.warning("status of request %s: %s", status.request_id, error)

    async def update(self, status: Status) -> None:
        """One status: closed when its request is over, else shown as it is now."""
        row = await self.store.requests.get(status.request_id)
        if row is None or row.status not in ACTIVE_STATUSES:
            if status.recording:
                self.untrack(status.request_id)
            else:
                await self.close(status)
            return
        text = await self.text_now(status)
        if text is not None:
            await self.show(status, text)

    async def text_now(self, status: Status) -> str | None:
        """What the message should say now; None while there is nothing to say: taken by a
        worker that has not reported yet, being sent, or first in the queue with no message
        yet (it waits only for a worker to be free)."""
        if status.recording:
            try:
                place = await self.jobs.place_of(status.job_id)
            except RedisError as error:
                log.debug("place of %s unknown: %s", status.job_id, error)
                return None
            texts = status.texts
            return texts.listening if place is None else texts.listening_queued.format(place=place)
        try:
            found = await self.jobs.redis.hgetall(progress_key(status.job_id))
            progress = JobProgress.from_hash(found) if found else None
            if progress is not None:
                return progress_text(progress, status.texts)
            place = await self.jobs.place_of(status.job_id)
        except RedisError as error:
            log.debug("status of %s unknown: %s", status.job_id, error)
            return None
        if place is None or (place == 1 and status.message_id is None):
            return None
        return status.texts.queue_place.format(place=place)

    async def show(self, status: Status, text: str, *, at_once: bool = False) -> None:
        """Send the message (`at_once`, or once the request has run `every` seconds), or edit
        it: only a changed text, at most every `every` seconds."""
        now = self.clock()
        if self.statuses.get(status.request_id) is not status:
            return  # let go of while this round awaited: over, or its owner writes the message
        if status.message_id is None:
            if not at_once and now - status.started < self.every:
                return
            markup = cancel_keyboard(status.request_id, status.user_id, status.texts)
            try:
                sent = await self.bot.send_message(status.chat_id, text, reply_markup=markup)
            except TelegramAPIError as error:
                log.info("status of request %s not sent: %s", status.request_id, error)
                self.untrack(status.request_id)
                return
            status.message_id, status.text, status.edited_at = sent.message_id, text, now
            if self.statuses.get(status.request_id) is not status:
                await self.close(status)  # it ended while the message was on its way
                return
            kept = StatusMessage(status.request_id, status.user_id, status.chat_id, sent.message_id)
            await self.store.status_messages.keep(kept)
            return
        if text == status.text or now - status.edited_at < self.every:
            return
        status.text, status.edited_at = text, now
        markup = None
        if not status.recording:  # a recording is cancelled with /cancel
            markup = cancel_keyboard(status.request_id, status.user_id, status.texts)
        try:
            await self.bot.edit_message_text(
                text, chat_id=status.chat_id, message_id=status.message_id, reply_markup=markup
            )
        except TelegramAPIError as error:
            log.info("status of request %s not edited: %s", status.request_id, error)

    async def finish(self, request_id: int) -> None:
        """The request's outcome is recorded: its status message goes now, not a round later
        (bot/background/results.py calls this)."""
        status = self.statuses.get(request_id)
        if status is not None and not status.recording:
            await self.close(status)

    async def close(self, status: Status) -> None:
        """The request is over: its note (or the word why not) is the answer now."""
        self.untrack(status.request_id)
        if status.message_id is None:
            return
        await self.store.status_messages.drop(status.request_id)
        log.info("request %s is over: its status message goes", status.request_id)
        try:
            await self.bot.delete_message(status.chat_id, status.message_id)
        except TelegramAPIError as error:
            log.info("status of request %s not deleted: %s", status.request_id, error)
