"""Registering a voice: a voice message, an audio file or document, or a video note."""

from __future__ import annotations

import logging
from pathlib import PurePath

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.admission import limits_of, refusal_text
from bot.callbacks import RegisterCb, RegisterChoice
from bot.filters import OwnedVoice
from bot.locales import Texts
from bot.names import clean_voice_name
from bot.progress import StatusBoard
from bot.queue import JobQueue
from bot.samples import sample_of
from bot.screens import chat_id_of
from bot.settings import Settings
from storage import EncoderMismatchError, RequestStatus, Storage, User, Voice, VoiceLimitError
from worker.api import EmbedRequest, EmbedResult, embed_job_id

log = logging.getLogger(__name__)
router = Router(name="register")

AUDIO_EXTENSIONS = frozenset(
    {".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".wav", ".flac", ".webm", ".amr", ".wma"}
)
QUIET_DBFS = -35.0
CLIPPED_FRACTION = 0.001
SHORT_SPEECH_SECONDS = 8.0


def embed_request_of(message: Message) -> EmbedRequest | None:
    """What the worker needs to fetch and read the recording; None if it is not audio."""
    if message.voice:
        v = message.voice
        return EmbedRequest(v.file_id, "voice", v.file_size, float(v.duration), v.mime_type)
    if message.audio:
        a = message.audio
        return EmbedRequest(a.file_id, "audio", a.file_size, float(a.duration), a.mime_type)
    if message.video_note:
        n = message.video_note
        return EmbedRequest(n.file_id, "video_note", n.file_size, float(n.duration), "video/mp4")
    if message.document and _is_audio_document(
        message.document.mime_type, message.document.file_name
    ):
        d = message.document
        return EmbedRequest(d.file_id, "document", d.file_size, None, d.mime_type)
    return None


def _is_audio_document(mime_type: str | None, file_name: str | None) -> bool:
    if mime_type and mime_type.startswith("audio/"):
        return True
    generic = mime_type in (None, "application/octet-stream")
    return generic and PurePath(file_name or "").suffix.lower() in AUDIO_EXTENSIONS


def limit_problem(request: EmbedRequest, settings: Settings, texts: Texts) -> str | None:
    """Refuse what is over the limits before anyone downloads it."""
    if request.file_size is not None and request.file_size > settings.max_audio_bytes:
        return texts.file_too_big.format(limit_mb=settings.max_audio_bytes // (1024 * 1024))
    if request.duration is not None and request.duration > settings.max_audio_seconds:
        return texts.recording_too_long.format(limit=settings.max_audio_seconds)
    return None


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


async def default_voice_name(store: Storage, user_id: int, texts: Texts) -> str:
    """ "Voice N" with the first N past the user's count that is free, by the name rule."""
    taken = {v.name for v in await store.voices.list_owned(user_id)}
    n = len(taken) + 1
    while clean_voice_name(texts.default_voice_name.format(n=n)) in taken:
        n += 1
    return clean_voice_name(texts.default_voice_name.format(n=n))


@router.message(F.voice | F.audio | F.video_note | F.document)
async def recording_received(
    message: Message,
    bot: Bot,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
    status_board: StatusBoard | None = None,
) -> None:
    request = embed_request_of(message)
    if request is None:
        await message.answer(texts.not_audio_file)
        return
    await offer_or_learn(
        bot, message.chat.id, settings, store, jobs, user, texts, request, status_board
    )


async def offer_or_learn(
    bot: Bot,
    chat_id: int,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
    request: EmbedRequest,
    status_board: StatusBoard | None = None,
) -> None:
    """A recording to learn: refused over the limits or with no worker; with an own active
    voice, the question "add to it or make a new one?"; else a new voice at once."""
    problem = limit_problem(request, settings, texts)
    if problem is not None:
        await bot.send_message(chat_id, problem)
        return
    if await jobs.workers_ready() == 0:
        await bot.send_message(chat_id, texts.worker_down)
        return
    active = await store.voices.get_active(user.id)
    if active is not None and active.owner_id == user.id:
        await jobs.put_pending(user.id, request)
        await bot.send_message(
            chat_id,
            texts.merge_or_new.format(name=active.name),
            reply_markup=keyboards.merge_or_new(active, texts),
        )
        return
    await learn_voice(bot, chat_id, settings, store, jobs, user, texts, request, None, status_board)


# One handler, registered twice: "merge" only with the sender's own voice (OwnedVoice injects
# it as `voice`; a refused one ends at the fallback's "voice is gone"), "new" with no voice.
@router.callback_query(RegisterCb.filter(F.choice == RegisterChoice.merge), OwnedVoice())
@router.callback_query(RegisterCb.filter(F.choice == RegisterChoice.new))
async def merge_or_new_chosen(
    callback: CallbackQuery,
    bot: Bot,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
    voice: Voice | None = None,
    status_board: StatusBoard | None = None,
) -> None:
    request = await jobs.take_pending(user.id)
    if request is None:
        await callback.answer(texts.pending_expired, show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    chat_id = chat_id_of(callback)
    await learn_voice(
        bot, chat_id, settings, store, jobs, user, texts, request, voice, status_board
    )


async def learn_voice(
    bot: Bot,
    chat_id: int,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
    request: EmbedRequest,
    merge_into: Voice | None,
    status_board: StatusBoard | None = None,
) -> None:
    """Admit the recording (one at a time, the minute's budget, the voice cap), have a worker
    make it a voice, and store it; the request row is closed whatever happens. While it waits
    for a worker, `status_board` shows its place in the "listening" message."""
    admission = await store.requests.admit(
        user.id,
        merge_into.id if merge_into else None,
        0,
        limits_of(settings),
        kind="embed",
        new_voice=merge_into is None,
    )
    if admission.request_id is None:
        assert admission.refusal is not None
        log.info("recording of user %s refused: %s", user.id, admission.refusal)
        await bot.send_message(chat_id, refusal_text(admission.refusal, settings, texts))
        return
    request_id = admission.request_id
    failure = "internal"
    try:
        status = await bot.send_message(chat_id, texts.listening)
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
        if status_board is not None:
            job_id = embed_job_id(request_id)
            board_args = (request_id, job_id, user.id, chat_id, status.message_id, texts)
            status_board.follow_recording(*board_args)
        try:
            outcome = await jobs.embed(request_id, request)
        finally:
            if status_board is not None:
                status_board.untrack(request_id)
        if outcome.result is None:
            failure = outcome.error_code or "internal"
            row = await store.requests.get(request_id)
            if failure == "cancelled" or (
                row is not None and row.status == RequestStatus.cancelled
            ):
                await status.edit_text(texts.cancelled)
                return
            log.info("embedding for user %s failed: %s", user.id, failure)
            await status.edit_text(embed_error_text(failure, settings, texts))
            return
        kept = await keep_voice(
            status, settings, store, user, texts, request, outcome.result, merge_into
        )
        failure = "" if kept else "voices"
    finally:
        if failure == "cancelled":
            await store.requests.mark_cancelled(request_id)
        elif failure:
            await store.requests.mark_failed(request_id, failure)
        else:
            await store.requests.mark_finished(request_id)


async def keep_voice(
    status: Message,
    settings: Settings,
    store: Storage,
    user: User,
    texts: Texts,
    request: EmbedRequest,
    result: EmbedResult,
    merge_into: Voice | None,
) -> bool:
    """Store the new recording: in `merge_into`, or as a new voice; answer in `status`.
    False when a new voice would pass the voice cap (a /mix took the last place while the
    recording was being listened to): the cap is counted again as the voice is made."""
    sample = sample_of(result, request.kind)
    hint = quality_hint(result, texts)
    voice = None
    if merge_into is not None:
        try:
            voice = await store.voices.add_sample(user.id, merge_into.id, sample)
        except EncoderMismatchError:
            log.warning("voice %s was made by another encoder; making a new voice", merge_into.id)
        if voice is not None:
            await store.users.set_active_voice(user.id, voice.id)
            await status.edit_text(
                texts.voice_merged.format(
                    name=voice.name,
                    count=voice.sample_count,
                    speech=texts.seconds(voice.speech_seconds),
                    hint=hint,
                )
            )
            return True
    name = await default_voice_name(store, user.id, texts)
    try:
        voice = await store.voices.create(
            user.id, name, sample, max_voices=settings.max_voices_per_user
        )
    except VoiceLimitError:
        log.info("recording of user %s not kept: the voice cap was reached meanwhile", user.id)
        await status.edit_text(texts.too_many_voices.format(limit=settings.max_voices_per_user))
        return False
    log.info("user %s registered voice %s", user.id, voice.id)
    await status.edit_text(
        texts.voice_registered.format(
            name=voice.name, speech=texts.seconds(result.recording.speech_seconds), hint=hint
        )
    )
    return True
