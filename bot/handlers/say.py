"""/say, plain text when a voice is active, and /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.locales import Texts
from bot.queue import JobQueue
from bot.services import Asker, SpeechOrder, SpeechService
from bot.text_check import clean_text
from storage import Storage, User
from worker.api import Cancel

# /cancel lives in its own router, included first, so that it works in any FSM state.
cancel_router = Router(name="cancel")
router = Router(name="say")


@cancel_router.message(Command("cancel"))
async def cancel(
    message: Message,
    state: FSMContext,
    jobs: JobQueue,
    speech: SpeechService,
    user: User,
    texts: Texts,
) -> None:
    """Tell the truth about each queued request: taken out of the queue, or stopped before
    it is sent (a worker had it), or too late (its upload has begun): worker/api/calls.py."""
    had_state = await state.get_state() is not None
    await state.clear()
    had_pending = await jobs.drop_pending(user.id)
    found = await speech.cancel_all(user.id)
    if Cancel.SENDING in found or Cancel.DONE in found:
        await message.answer(texts.cancel_running)
    elif Cancel.FLAGGED in found:  # a voice note being made: it will not be sent
        await message.answer(texts.cancelled_in_progress)
    elif Cancel.REMOVED in found or had_state or had_pending:
        await message.answer(texts.cancelled)
    else:
        await message.answer(texts.nothing_to_cancel)


# One handler, registered twice: /say takes its text from the command's arguments (the
# Command filter injects `command`), plain text is the text itself.
@router.message(Command("say"))
@router.message(F.text & ~F.text.startswith("/"))
async def say(
    message: Message,
    speech: SpeechService,
    store: Storage,
    user: User,
    texts: Texts,
    command: CommandObject | None = None,
) -> None:
    raw_text = command.args if command is not None else message.text
    text = clean_text(raw_text or "")
    checked = speech.check_text(text, texts, usage=texts.say_usage)
    if checked.reply is not None:
        await message.answer(checked.reply)
        return
    asker = Asker(user, texts, message.chat.id, message.message_id)
    voice = await store.voices.get_active(user.id)
    if voice is None:
        # Their first recording may be being learned: said in that voice once it is.
        learning = await speech.say_when_learned(asker, text)
        await message.answer(texts.voice_being_learned if learning else texts.no_voice)
        return
    await speech.request(asker, SpeechOrder(voice, text, symbols=checked.symbols))
