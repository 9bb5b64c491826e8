"""/check: was a voice note made here? And what to do with a forwarded voice note.

Three ways in, one check (`check_recording`):
- `/check` as a reply to a message with audio checks that audio;
- `/check` alone waits for the next voice note or audio file (a state of its own, so the
  recording is checked, not made a voice; /cancel leaves it, and text in it is answered with
  what the bot waits for);
- a forwarded voice note or audio file (Telegram sets `forward_origin`) is not made a voice
  at once: the bot asks whether to check it or learn it, with the note kept as the sender's
  pending recording until they choose.

A worker fetches the file and reads the watermark (worker/check.py) under the same size and
length limits as a recording; the limits of bot/checks.py apply (the gate of every heavy
request: one at a time with speech and recordings, the global cap; a budget per minute). The
answer is worded by the worker's verdict, with the detector's figure.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyParameters

from bot import keyboards
from bot.admission import refusal_text
from bot.callbacks import ForwardedCb, ForwardedChoice
from bot.checks import CheckGate
from bot.handlers.register import (
    embed_error_text,
    embed_request_of,
    limit_problem,
    offer_or_learn,
)
from bot.locales import Texts
from bot.queue import JobQueue
from bot.screens import chat_id_of
from bot.settings import Settings
from storage import Storage, User
from worker.api import CheckResult, EmbedRequest

log = logging.getLogger(__name__)
router = Router(name="check")

AUDIO = F.voice | F.audio | F.video_note | F.document


class Check(StatesGroup):
    waiting_for_audio = State()


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


async def check_recording(
    bot: Bot,
    chat_id: int,
    reply_to: int | None,
    settings: Settings,
    jobs: JobQueue,
    checks: CheckGate,
    user: User,
    texts: Texts,
    request: EmbedRequest,
) -> None:
    """Have a worker read the watermark of `request`'s file and tell the user what it found."""
    problem = limit_problem(request, settings, texts)
    if problem is not None:
        await bot.send_message(chat_id, problem)
        return
    if await jobs.workers_ready() == 0:
        await bot.send_message(chat_id, texts.worker_down)
        return
    ticket = await checks.admit(user.id)
    if ticket.refusal is not None:
        log.info("check of user %s refused: %s", user.id, ticket.refusal)
        # The refusals of every heavy request; a second check is told more precisely.
        refusal = (
            texts.check_busy if ticket.checking else refusal_text(ticket.refusal, settings, texts)
        )
        await bot.send_message(chat_id, refusal)
        return
    try:
        replying = (
            None
            if reply_to is None
            else ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        )
        status = await bot.send_message(chat_id, texts.checking, reply_parameters=replying)
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
        outcome = await jobs.check(ticket.token, request)
        if outcome.result is None:
            log.info("check for user %s failed: %s", user.id, outcome.error_code)
            code = outcome.error_code or "internal"
            await status.edit_text(check_error_text(code, settings, texts))
            return
        log.info("check for user %s: %s", user.id, outcome.result.verdict)
        await status.edit_text(verdict_text(outcome.result, texts))
    finally:
        await checks.release(user.id, ticket.token)


@router.message(Command("check"))
async def check_command(
    message: Message,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    jobs: JobQueue,
    checks: CheckGate,
    user: User,
    texts: Texts,
) -> None:
    replied = message.reply_to_message
    if replied is None:
        await state.set_state(Check.waiting_for_audio)
        await message.answer(texts.check_prompt)
        return
    request = embed_request_of(replied)
    if request is None:
        await message.answer(texts.check_reply_no_audio)
        return
    await state.clear()
    await check_recording(
        bot, message.chat.id, replied.message_id, settings, jobs, checks, user, texts, request
    )


@router.message(Check.waiting_for_audio, AUDIO)
async def audio_to_check(
    message: Message,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    jobs: JobQueue,
    checks: CheckGate,
    user: User,
    texts: Texts,
) -> None:
    request = embed_request_of(message)
    if request is None:  # a document that is not audio: still waiting
        await message.answer(texts.check_not_audio)
        return
    await state.clear()
    await check_recording(
        bot, message.chat.id, message.message_id, settings, jobs, checks, user, texts, request
    )


# Commands go on to their own handlers (the state stays until /cancel or the check).
@router.message(Check.waiting_for_audio, F.text & ~F.text.startswith("/"))
@router.message(Check.waiting_for_audio, ~F.text)
async def still_waiting(message: Message, texts: Texts) -> None:
    await message.answer(texts.check_waiting)


@router.message(F.forward_origin, AUDIO)
async def forwarded_recording(message: Message, jobs: JobQueue, user: User, texts: Texts) -> None:
    """A forwarded note may be someone's voice to learn, or a note whose origin they doubt:
    ask, and keep it as their pending recording meanwhile."""
    request = embed_request_of(message)
    if request is None:
        await message.answer(texts.not_audio_file)
        return
    await jobs.put_pending(user.id, request)
    await message.answer(texts.forwarded_offer, reply_markup=keyboards.forwarded(texts))


@router.callback_query(ForwardedCb.filter())
async def forwarded_choice(
    callback: CallbackQuery,
    callback_data: ForwardedCb,
    bot: Bot,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    checks: CheckGate,
    user: User,
    texts: Texts,
) -> None:
    request = await jobs.take_pending(user.id)  # the presser's own: nobody else's is reachable
    if request is None:
        await callback.answer(texts.pending_expired, show_alert=True)
        return
    await callback.answer()
    reply_to = None
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        reply_to = callback.message.message_id
    chat_id = chat_id_of(callback)
    if callback_data.choice is ForwardedChoice.check:
        await check_recording(bot, chat_id, reply_to, settings, jobs, checks, user, texts, request)
    else:
        await offer_or_learn(bot, chat_id, settings, store, jobs, user, texts, request)
