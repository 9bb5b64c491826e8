"""Speech: a user's text made a queued synth job (/say, plain text, /dialogue, bank previews,
a text that waited for its voice to be learned), and taken back (/cancel, a status message's
Cancel button, /forget)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import NamedTuple

from aiogram import Bot
from aiogram.enums import ChatAction
from redis.exceptions import RedisError

from bot.admission import limits_of
from bot.locales import Texts
from bot.progress import StatusBoard, WaitingText
from bot.queue import JobQueue
from bot.services.asker import Asker, admitted
from bot.settings import Settings
from bot.text_check import symbol_count
from storage import Request, Storage, Voice
from sv2tts.text import text_problem
from worker.api import Cancel, DialogueTurn, SynthRequest, embed_job_id, synth_job_id
from worker.api.keys import forgotten_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A /dialogue's voices (`speakers`) and its turns, which index them."""

    speakers: list[Voice]
    turns: list[DialogueTurn]


@dataclass(frozen=True, slots=True)
class SpeechOrder:
    """What to say in which voice. `dialogue`: `text` is its script and `voice` its first
    speaker. `symbols`: what the spoken text (a dialogue's turns, not its names) comes to, the
    unit of the job's time budget, when the caller has counted it already
    (`SpeechService.check_text`); counted when the job is made otherwise. `preview`: a bank
    preview, whose note does not go into the user's recent ones (which inline mode offers)
    and which gets no status message (a place in the queue is said once)."""

    voice: Voice
    text: str
    dialogue: Dialogue | None = None
    symbols: int | None = None
    preview: bool = False

    def symbol_count(self) -> int:
        if self.symbols is not None:
            return self.symbols
        # What will be spoken, not the names of a dialogue's voices.
        spoken = "\n".join(t.text for t in self.dialogue.turns) if self.dialogue else self.text
        return symbol_count(spoken)

    @property
    def speakers(self) -> list[Voice]:
        return self.dialogue.speakers if self.dialogue else [self.voice]


class CheckedText(NamedTuple):
    reply: str | None  # what to answer instead of speaking, or None: it may be spoken
    symbols: int  # what the synthesizer would read (0 when refused before it was counted)


def job_id_of(request: Request) -> str:
    return embed_job_id(request.id) if request.kind == "embed" else synth_job_id(request.id)


class SpeechService:
    """Admits, queues and takes back speech. Its requests are followed on `board` (their
    place, progress and a Cancel button, bot/progress.py), which speaks through this service
    the texts that waited for a voice being learned."""

    def __init__(
        self, bot: Bot, settings: Settings, store: Storage, jobs: JobQueue, board: StatusBoard
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.store = store
        self.jobs = jobs
        self.board = board
        board.speaker = self.speak_learned

    def check_text(self, text: str, texts: Texts, *, usage: str) -> CheckedText:
        """The limits of /say, which /dialogue applies to its whole script: what to answer a
        text that cannot be spoken (empty, too long, nothing speakable), and its symbol count,
        which the job's time budget is made of.

        Two length limits: MAX_TEXT_CHARS first, a cheap gate before the text is spelled out;
        then MAX_TEXT_SYMBOLS on what the synthesizer would read (bot/text_check.py), the
        work."""
        settings = self.settings
        problem = text_problem(text, settings.max_text_chars)
        if problem == "empty":
            return CheckedText(f"{texts.text_empty}\n\n{usage}", 0)
        if problem == "too_long":
            too_long = texts.text_too_long.format(limit=settings.max_text_chars, length=len(text))
            return CheckedText(too_long, 0)
        if problem == "nothing_to_say":
            return CheckedText(texts.nothing_speakable, 0)
        symbols = symbol_count(text)
        if symbols > settings.max_text_symbols:
            too_much = texts.text_too_much_work.format(
                symbols=symbols, limit=settings.max_text_symbols
            )
            return CheckedText(too_much, symbols)
        return CheckedText(None, symbols)

    async def request(self, asker: Asker, order: SpeechOrder) -> int | None:
        """Admit the request (every limit checked as its row is made, bot/admission.py) and
        enqueue its job; tell the user what happens next.

        Returns the request id, or None when nothing was queued (the user was told why)."""
        if await self.jobs.workers_ready() == 0:
            await self.bot.send_message(asker.chat_id, asker.texts.worker_down)
            return None
        request_id = await self._admit(asker, order)
        if request_id is None:
            return None
        job = await self._job(request_id, asker, order)
        if not order.preview:
            await self.store.notes.expect(request_id, asker.user.id, order.text)
        try:
            place = await self.jobs.enqueue_synth(job, order.symbol_count())
        except RedisError as error:
            log.warning("could not enqueue request %s: %s", request_id, error)
            await self.store.requests.mark_failed(request_id, "internal")
            await self.store.notes.drop(request_id)
            await self.bot.send_message(asker.chat_id, asker.texts.worker_down)
            return None
        log.info("request %s queued for user %s (place %s)", request_id, asker.user.id, place)
        await self._announce(request_id, asker, order, place)
        return request_id

    async def _admit(self, asker: Asker, order: SpeechOrder) -> int | None:
        user, limits = asker.user, limits_of(self.settings)
        admission = await self.store.requests.admit(
            user.id, order.voice.id, len(order.text), limits
        )
        return await admitted(self.bot, self.settings, asker, admission)

    async def _job(self, request_id: int, asker: Asker, order: SpeechOrder) -> SynthRequest:
        user, dialogue = asker.user, order.dialogue
        return SynthRequest(
            request_id=request_id,
            user_id=user.id,
            chat_id=asker.chat_id,
            reply_to_message_id=asker.reply_to,
            text=order.text,
            embedding=[float(x) for x in order.voice.embedding],
            output_format=user.output_format,
            language=user.language,
            voice_name=", ".join(v.name for v in order.speakers),
            enqueued_at=time.time(),
            pace=user.pace,
            speakers=[[float(x) for x in v.embedding] for v in dialogue.speakers]
            if dialogue
            else [],
            turns=list(dialogue.turns) if dialogue else [],
            user_since=user.created_at.timestamp(),
            forget_mark=forgotten_key(user.id, self.settings.bot_token.get_secret_value()),
            voice_ids=[i for v in order.speakers for i in await self.store.mixes.lineage(v.id)],
        )

    async def _announce(
        self, request_id: int, asker: Asker, order: SpeechOrder, place: int | None
    ) -> None:
        voice_note = asker.user.output_format == "voice"
        action = ChatAction.RECORD_VOICE if voice_note else ChatAction.UPLOAD_DOCUMENT
        await self.bot.send_chat_action(asker.chat_id, action)
        if not order.preview:
            user_id, chat_id = asker.user.id, asker.chat_id
            await self.board.track(request_id, user_id, chat_id, asker.texts, place)
        elif place is not None and place > 1:
            await self.bot.send_message(asker.chat_id, asker.texts.queue_place.format(place=place))

    async def say_when_learned(self, asker: Asker, text: str) -> bool:
        """With the sender's first recording being learned, keep `text` to be said in that
        voice once it is (True); False when no recording of theirs is being learned."""
        if not await self.store.requests.list_active(asker.user.id, "embed"):
            return False
        user_id, texts = asker.user.id, asker.texts
        waiting = WaitingText(user_id, asker.chat_id, asker.reply_to, text, texts)
        self.board.speak_when_ready(waiting)
        return True

    async def speak_learned(self, waiting: WaitingText) -> None:
        """Say a text that waited for the sender's recording to become a voice."""
        user = await self.store.users.get(waiting.user_id)
        voice = await self.store.voices.get_active(waiting.user_id)
        if user is None or voice is None:
            log.info("user %s has no voice after learning; their text is dropped", waiting.user_id)
            return
        asker = Asker(user, waiting.texts, waiting.chat_id, waiting.reply_to)
        await self.request(asker, SpeechOrder(voice, waiting.text))

    async def cancel_all(self, user_id: int) -> list[Cancel]:
        """Take back the user's open requests; what each one's job answered.

        One taken out of the queue is closed as cancelled at once. One that a worker holds is
        flagged (it will not be sent) but stays open, counting against "one at a time", until
        the worker lets go of it and its outcome closes it: the worker is still busy with it,
        and /cancel must not be a way around the limits. One too late to take back stays open
        until its outcome arrives."""
        found = []
        for request in await self.store.requests.list_active(user_id):
            answer = await self._take_back(request)
            if request.kind == "embed" and answer is Cancel.FLAGGED:
                # A recording being listened to: this bot process is the one waiting for it,
                # and it stops waiting now (the worker drops the result, which holds the
                # recording).
                await self.store.requests.mark_cancelled(request.id)
                answer = Cancel.REMOVED
            found.append(answer)
        return found

    async def cancel(self, request: Request) -> Cancel:
        """Take back one open request of speech (its status message's Cancel button): closed
        at once when taken out of the queue; flagged, when a worker has it, so that it is not
        sent (its outcome closes it). Either way its status is no longer followed."""
        answer = await self._take_back(request)
        if answer in (Cancel.REMOVED, Cancel.FLAGGED):
            await self.board.let_go(request.id)
        return answer

    async def _take_back(self, request: Request) -> Cancel:
        """Cancel the request's job; one taken out of the queue is closed as cancelled."""
        answer = await self.jobs.cancel(job_id_of(request))
        if answer is Cancel.REMOVED:
            await self.store.requests.mark_cancelled(request.id)
            await self.store.notes.drop(request.id)
        return answer
