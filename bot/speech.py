"""Turning a user's text into a queued synth job (used by /say, plain text and bank previews)."""

from __future__ import annotations

import logging
import time

from aiogram import Bot
from aiogram.enums import ChatAction
from redis.exceptions import RedisError

from bot.admission import limits_of, refusal_text
from bot.locales import Texts
from bot.queue import JobQueue
from bot.settings import Settings
from storage import Storage, User, Voice
from worker.api import SynthRequest

log = logging.getLogger(__name__)


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
) -> int | None:
    """Admit the request (every limit checked as its row is made, bot/admission.py) and
    enqueue its job; tell the user what happens next.

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
    request = SynthRequest(
        request_id=request_id,
        user_id=user.id,
        chat_id=chat_id,
        reply_to_message_id=reply_to,
        text=text,
        embedding=[float(x) for x in voice.embedding],
        output_format=user.output_format,
        language=user.language,
        voice_name=voice.name,
        enqueued_at=time.time(),
        pace=user.pace,
    )
    try:
        place = await jobs.enqueue_synth(request)
    except RedisError as error:
        log.warning("could not enqueue request %s: %s", request_id, error)
        await store.requests.mark_failed(request_id, "internal")
        await bot.send_message(chat_id, texts.worker_down)
        return None
    log.info("request %s queued for user %s (place %s)", request_id, user.id, place)
    action = (
        ChatAction.RECORD_VOICE if user.output_format == "voice" else ChatAction.UPLOAD_DOCUMENT
    )
    await bot.send_chat_action(chat_id, action)
    if place is not None and place > 1:
        await bot.send_message(chat_id, texts.queue_place.format(place=place))
    return request_id
