"""/check: was a voice note made here? And what to do with a forwarded voice note.

Three ways in, one check (`RecordingService.check`, bot/services/recordings.py):
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

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ForwardedCb, ForwardedChoice
from bot.locales import Texts
from bot.queue import JobQueue
from bot.screens import chat_id_of
from bot.services import Asker, RecordingService
from bot.services.recording_input import AUDIO, embed_request_of
from storage import User

router = Router(name="check")


class Check(StatesGroup):
    waiting_for_audio = State()


@router.message(Command("check"))
async def check_command(
    message: Message,
    state: FSMContext,
    recordings: RecordingService,
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
    await recordings.check(Asker(user, texts, message.chat.id, replied.message_id), request)


@router.message(Check.waiting_for_audio, AUDIO)
async def audio_to_check(
    message: Message,
    state: FSMContext,
    recordings: RecordingService,
    user: User,
    texts: Texts,
) -> None:
    request = embed_request_of(message)
    if request is None:  # a document that is not audio: still waiting
        await message.answer(texts.check_not_audio)
        return
    await state.clear()
    await recordings.check(Asker(user, texts, message.chat.id, message.message_id), request)


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
    jobs: JobQueue,
    recordings: RecordingService,
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
    asker = Asker(user, texts, chat_id_of(callback), reply_to)
    if callback_data.choice is ForwardedChoice.check:
        await recordings.check(asker, request)
    else:
        await recordings.offer_or_learn(asker, request)
