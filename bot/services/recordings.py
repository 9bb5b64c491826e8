"""Recordings: a recording learned as a voice (a new one, or merged into the sender's active
voice), and a recording checked for the watermark (/check, a forwarded note).

Both are refused over the size and length limits before anyone downloads them, and with no
worker ready. A recording to learn passes the admission of every heavy request (one at a
time, the minute's budget, the voice cap: bot/admission.py) and waits for its worker here,
its place shown in the "listening" message while it is queued (bot/progress.py); a check
passes the gate of bot/checks.py. The worker reads the file (worker/check.py for the
watermark) and the answer is worded here.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.types import Message, ReplyParameters

from bot import keyboards
from bot.admission import limits_of, refusal_text
from bot.checks import CheckGate
from bot.locales import Texts
from bot.names import clean_voice_name
from bot.progress import StatusBoard
from bot.queue import EmbedOutcome, JobQueue
from bot.samples import sample_of
from bot.services.asker import Asker, admitted
from bot.services.recording_input import limit_problem
from bot.settings import Settings
from storage import (
    EncoderMismatchError,
    RequestStatus,
    Sample,
    Storage,
    User,
    Voice,
    VoiceLimitError,
)
from worker.api import CheckResult, EmbedRequest, EmbedResult, embed_job_id

log = logging.getLogger(__name__)

QUIET_DBFS = -35.0
CLIPPED_FRACTION = 0.001
SHORT_SPEECH_SECONDS = 8.0


def quality_hint(result: EmbedResult, texts: Texts) -> str:
    if result.recording.clipped_fraction > CLIPPED_FRACTION:
        return texts.hint_clipped
    if result.recording.level_dbfs < QUIET_DBFS:
        return texts.hint_quiet
    if result.recording.speech_seconds < SHORT_SPEECH_SECONDS:
        return texts.hint_short
    return texts.hint_good


def embed_error_text(code: str, settings: Settings, texts: Texts) -> str:
    if code == "timeout":
        return texts.embed_timeout
    template = texts.embed_errors.get(code, texts.embed_errors["internal"])
    return template.format(min=settings.min_speech_seconds, limit=settings.max_audio_seconds)


def verdict_text(result: CheckResult, texts: Texts) -> str:
    template = {
        "found": texts.check_found,
        "absent": texts.check_absent,
        "unclear": texts.check_unclear,
    }[result.verdict]
    return template.format(confidence=round(100 * result.confidence))


def check_error_text(code: str, settings: Settings, texts: Texts) -> str:
    if code == "too_short":
        return texts.check_too_short
    return embed_error_text(code, settings, texts)


class RecordingService:
    """Learns and checks recordings; `board` shows a queued recording's place."""

    def __init__(
        self,
        bot: Bot,
        settings: Settings,
        store: Storage,
        jobs: JobQueue,
        checks: CheckGate,
        board: StatusBoard,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.store = store
        self.jobs = jobs
        self.checks = checks
        self.board = board

    async def _refused_early(self, asker: Asker, request: EmbedRequest) -> bool:
        """Over the limits, or no worker to read it: the user is told so (True)."""
        problem = limit_problem(request, self.settings, asker.texts)
        if problem is None and await self.jobs.workers_ready() == 0:
            problem = asker.texts.worker_down
        if problem is not None:
            await self.bot.send_message(asker.chat_id, problem)
        return problem is not None

    async def offer_or_learn(self, asker: Asker, request: EmbedRequest) -> None:
        """A recording to learn: refused over the limits or with no worker; with an own
        active voice, the question "add to it or make a new one?"; else a new voice at once."""
        if await self._refused_early(asker, request):
            return
        user, texts = asker.user, asker.texts
        active = await self.store.voices.get_active(user.id)
        if active is not None and active.owner_id == user.id:
            await self.jobs.put_pending(user.id, request)
            await self.bot.send_message(
                asker.chat_id,
                texts.merge_or_new.format(name=active.name),
                reply_markup=keyboards.merge_or_new(active, texts),
            )
            return
        await self.learn(asker, request, None)

    async def learn(self, asker: Asker, request: EmbedRequest, merge_into: Voice | None) -> None:
        """Admit the recording (one at a time, the minute's budget, the voice cap), have a
        worker make it a voice (in `merge_into`, or a new one), and store it; the request row
        is closed whatever happens."""
        request_id = await self._admit(asker, merge_into)
        if request_id is None:
            return
        failure = "internal"
        try:
            status = await self.bot.send_message(asker.chat_id, asker.texts.listening)
            await self.bot.send_chat_action(asker.chat_id, ChatAction.TYPING)
            outcome = await self._embed(request_id, asker, request, status)
            if outcome.result is None:
                failure = outcome.error_code or "internal"
                await self._answer_failure(request_id, failure, asker, status)
                return
            kept = await self._keep(status, asker, request, outcome.result, merge_into)
            failure = "" if kept else "voices"
        finally:
            if failure == "cancelled":
                await self.store.requests.mark_cancelled(request_id)
            elif failure:
                await self.store.requests.mark_failed(request_id, failure)
            else:
                await self.store.requests.mark_finished(request_id)

    async def _admit(self, asker: Asker, merge_into: Voice | None) -> int | None:
        user, limits = asker.user, limits_of(self.settings)
        merge_id = merge_into.id if merge_into else None
        admission = await self.store.requests.admit(
            user.id, merge_id, 0, limits, kind="embed", new_voice=merge_into is None
        )
        return await admitted(self.bot, self.settings, asker, admission)

    async def _embed(
        self, request_id: int, asker: Asker, request: EmbedRequest, status: Message
    ) -> EmbedOutcome:
        """Wait for a worker to read the recording; meanwhile the board shows its place in
        the queue in `status`, the "listening" message."""
        job_id, user_id = embed_job_id(request_id), asker.user.id
        following = (request_id, job_id, user_id, asker.chat_id, status.message_id, asker.texts)
        self.board.follow_recording(*following)
        try:
            return await self.jobs.embed(request_id, request)
        finally:
            self.board.untrack(request_id)

    async def _answer_failure(
        self, request_id: int, failure: str, asker: Asker, status: Message
    ) -> None:
        row = await self.store.requests.get(request_id)
        if failure == "cancelled" or (row is not None and row.status == RequestStatus.cancelled):
            await status.edit_text(asker.texts.cancelled)
            return
        log.info("embedding for user %s failed: %s", asker.user.id, failure)
        await status.edit_text(embed_error_text(failure, self.settings, asker.texts))

    async def _keep(
        self,
        status: Message,
        asker: Asker,
        request: EmbedRequest,
        result: EmbedResult,
        merge_into: Voice | None,
    ) -> bool:
        """Store the new recording: in `merge_into`, or as a new voice; answer in `status`.
        False when a new voice would pass the voice cap (a /mix took the last place while the
        recording was being listened to): the cap is counted again as the voice is made."""
        user, texts = asker.user, asker.texts
        sample = sample_of(result, request.kind)
        hint = quality_hint(result, texts)
        if merge_into is not None:
            voice = await self._merge(user, merge_into, sample)
            if voice is not None:
                speech = texts.seconds(voice.speech_seconds)
                merged = texts.voice_merged.format(
                    name=voice.name, count=voice.sample_count, speech=speech, hint=hint
                )
                await status.edit_text(merged)
                return True
        name = await self._default_name(user, texts)
        limit = self.settings.max_voices_per_user
        try:
            voice = await self.store.voices.create(user.id, name, sample, max_voices=limit)
        except VoiceLimitError:
            log.info("recording of user %s not kept: the voice cap was reached meanwhile", user.id)
            await status.edit_text(texts.too_many_voices.format(limit=limit))
            return False
        log.info("user %s registered voice %s", user.id, voice.id)
        speech = texts.seconds(result.recording.speech_seconds)
        await status.edit_text(
            texts.voice_registered.format(name=voice.name, speech=speech, hint=hint)
        )
        return True

    async def _merge(self, user: User, into: Voice, sample: Sample) -> Voice | None:
        """The sample added to `into`, made the active voice; None when `into` was made by
        another encoder (a new voice is made instead)."""
        try:
            voice = await self.store.voices.add_sample(user.id, into.id, sample)
        except EncoderMismatchError:
            log.warning("voice %s was made by another encoder; making a new voice", into.id)
            return None
        if voice is not None:
            await self.store.users.set_active_voice(user.id, voice.id)
        return voice

    async def _default_name(self, user: User, texts: Texts) -> str:
        """ "Voice N" with the first N past the user's count that is free, by the name rule."""
        taken = {v.name for v in await self.store.voices.list_owned(user.id)}
        n = len(taken) + 1
        while clean_voice_name(texts.default_voice_name.format(n=n)) in taken:
            n += 1
        return clean_voice_name(texts.default_voice_name.format(n=n))

    async def check(self, asker: Asker, request: EmbedRequest) -> None:
        """Have a worker read the watermark of `request`'s file and tell the user what it
        found, in a reply to `asker.reply_to`."""
        if await self._refused_early(asker, request):
            return
        user, texts = asker.user, asker.texts
        ticket = await self.checks.admit(user.id)
        if ticket.refusal is not None:
            log.info("check of user %s refused: %s", user.id, ticket.refusal)
            # The refusals of every heavy request; a second check is told more precisely.
            refusal = (
                texts.check_busy
                if ticket.checking
                else refusal_text(ticket.refusal, self.settings, texts)
            )
            await self.bot.send_message(asker.chat_id, refusal)
            return
        try:
            await self._check(ticket.token, asker, request)
        finally:
            await self.checks.release(user.id, ticket.token)

    async def _check(self, token: str, asker: Asker, request: EmbedRequest) -> None:
        replying = (
            None
            if asker.reply_to is None
            else ReplyParameters(message_id=asker.reply_to, allow_sending_without_reply=True)
        )
        texts = asker.texts
        status = await self.bot.send_message(
            asker.chat_id, texts.checking, reply_parameters=replying
        )
        await self.bot.send_chat_action(asker.chat_id, ChatAction.TYPING)
        outcome = await self.jobs.check(token, request)
        if outcome.result is None:
            log.info("check for user %s failed: %s", asker.user.id, outcome.error_code)
            code = outcome.error_code or "internal"
            await status.edit_text(check_error_text(code, self.settings, texts))
            return
        log.info("check for user %s: %s", asker.user.id, outcome.result.verdict)
        await status.edit_text(verdict_text(outcome.result, texts))
