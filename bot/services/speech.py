"""Turning a user's text into a queued synth job (used by /say, plain text, /dialogue and bank
previews)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.enums import ChatAction
from redis.exceptions import RedisError

from bot.admission import limits_of, refusal_text
from bot.locales import Texts
from bot.progress import StatusBoard
from bot.queue import JobQueue
from bot.settings import Settings
from bot.text_check import symbol_count
from storage import Storage, User, Voice
from worker.api import DialogueTurn, SynthRequest, synth_job_id
from worker.revocation import forgotten_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A /dialogue's voices (`speakers`) and its turns, which index them."""

    speakers: list[Voice]
    turns: list[DialogueTurn]


async def request_speech(
    *,
    bot: Bot,
    chat_id: int,
    reply_to: int | None,
    user: User,
    voice: Voice,
    text: str,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    texts: Texts,
    dialogue: Dialogue | None = None,
    keep_note: bool = True,
    symbols: int | None = None,
    status: StatusBoard | None = None,
) -> int | None:
    """Admit the request (every limit checked as its row is made, bot/admission.py) and
    enqueue its job; tell the user what happens next. `dialogue`: `text` is its script and
    `voice` its first speaker. `keep_note`: the note goes into the user's recent ones, which
    inline mode offers (not a bank preview). `symbols`: what the spoken text (a dialogue's
    turns, not its names) comes to, the unit of the job's time budget, when the caller has
    counted it already (bot/handlers/say.py `checked_text`); counted here otherwise.
    `status`: the request gets a status message with its place, progress and a Cancel button
    while it waits and runs (bot/progress.py).

    Returns the request id, or None when nothing was queued (the user was told why).
    """
    if await jobs.workers_ready() == 0:
        await bot.send_message(chat_id, texts.worker_down)
        return None
    admission = await store.requests.admit(user.id, voice.id, len(text), limits_of(settings))
    if admission.request_id is None:
        assert admission.refusal is not None
        log.info("request of user %s refused: %s", user.id, admission.refusal)
        await bot.send_message(chat_id, refusal_text(admission.refusal, settings, texts))
        return None
    request_id = admission.request_id
    if symbols is None:
        # What will be spoken, not the names of a dialogue's voices.
        spoken = "\n".join(turn.text for turn in dialogue.turns) if dialogue else text
        symbols = symbol_count(spoken)
    speakers = dialogue.speakers if dialogue else [voice]
    request = SynthRequest(
        request_id=request_id,
        user_id=user.id,
        chat_id=chat_id,
        reply_to_message_id=reply_to,
        text=text,
        embedding=[float(x) for x in voice.embedding],
        output_format=user.output_format,
        language=user.language,
        voice_name=", ".join(v.name for v in dialogue.speakers) if dialogue else voice.name,
        enqueued_at=time.time(),
        pace=user.pace,
        speakers=[[float(x) for x in v.embedding] for v in dialogue.speakers] if dialogue else [],
        turns=list(dialogue.turns) if dialogue else [],
        user_since=user.created_at.timestamp(),
        forget_mark=forgotten_key(user.id, settings.bot_token.get_secret_value()),
        voice_ids=[i for v in speakers for i in await store.mixes.lineage(v.id)],
    )
    if keep_note:
        await store.notes.expect(request_id, user.id, text)
    try:
        place = await jobs.enqueue_synth(request, symbols)
    except RedisError as error:
        log.warning("could not enqueue request %s: %s", request_id, error)
        await store.requests.mark_failed(request_id, "internal")
        await store.notes.drop(request_id)
        await bot.send_message(chat_id, texts.worker_down)
        return None
    log.info("request %s queued for user %s (place %s)", request_id, user.id, place)
    action = (
        ChatAction.RECORD_VOICE if user.output_format == "voice" else ChatAction.UPLOAD_DOCUMENT
    )
    await bot.send_chat_action(chat_id, action)
    if status is not None:
        job_id = synth_job_id(request_id)
        await status.track(request_id, job_id, user.id, chat_id, texts, place)
    elif place is not None and place > 1:
        await bot.send_message(chat_id, texts.queue_place.format(place=place))
    return request_id
