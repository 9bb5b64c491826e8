"""/say, plain text when a voice is active, and /cancel."""

from __future__ import annotations

import logging
from typing import NamedTuple

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.locales import Texts
from bot.progress import StatusBoard, WaitingText
from bot.queue import JobQueue
from bot.services.speech import request_speech
from bot.settings import Settings
from bot.text_check import clean_text, symbol_count
from storage import Request, RequestKind, Storage, User
from sv2tts.text import text_problem
from worker.api import embed_job_id, synth_job_id
from worker.delivery import Cancel

log = logging.getLogger(__name__)

# /cancel lives in its own router, included first, so that it works in any FSM state.
cancel_router = Router(name="cancel")
router = Router(name="say")


@cancel_router.message(Command("cancel"))
async def cancel(
    message: Message, state: FSMContext, store: Storage, jobs: JobQueue, user: User, texts: Texts
) -> None:
    """Tell the truth about each queued request: taken out of the queue, or stopped before
    it is sent (a worker had it), or too late (its upload has begun): worker/delivery.py."""
    had_state = await state.get_state() is not None
    await state.clear()
    had_pending = await jobs.drop_pending(user.id)
    found = await cancel_requests(store, jobs, user.id)
    if Cancel.SENDING in found or Cancel.DONE in found:
        await message.answer(texts.cancel_running)
    elif Cancel.FLAGGED in found:  # a voice note being made: it will not be sent
        await message.answer(texts.cancelled_in_progress)
    elif Cancel.REMOVED in found or had_state or had_pending:
        await message.answer(texts.cancelled)
    else:
        await message.answer(texts.nothing_to_cancel)


async def cancel_requests(
    store: Storage, jobs: JobQueue, user_id: int, kind: RequestKind | None = None
) -> list[Cancel]:
    """Take back the user's open requests (of `kind`); what each one's job answered.

    One taken out of the queue is closed as cancelled at once. One that a worker holds is
    flagged (it will not be sent) but stays open, counting against "one at a time", until
    the worker lets go of it and its outcome closes it: the worker is still busy with it, and
    /cancel must not be a way around the limits. One too late to take back stays open until
    its outcome arrives."""
    found = []
    for request in await store.requests.list_active(user_id, kind):
        answer = await jobs.cancel(job_id_of(request))
        if answer is Cancel.REMOVED:
            await store.requests.mark_cancelled(request.id)
            await store.notes.drop(request.id)
        elif request.kind == "embed" and answer is Cancel.FLAGGED:
            # A recording being listened to: this bot process is the one waiting for it, and
            # it stops waiting now (the worker drops the result, which holds the recording).
            await store.requests.mark_cancelled(request.id)
            answer = Cancel.REMOVED
        found.append(answer)
    return found


def job_id_of(request: Request) -> str:
    return embed_job_id(request.id) if request.kind == "embed" else synth_job_id(request.id)


class CheckedText(NamedTuple):
    reply: str | None  # what to answer instead of speaking, or None: it may be spoken
    symbols: int  # what the synthesizer would read (0 when refused before it was counted)


def checked_text(text: str, settings: Settings, texts: Texts, *, usage: str) -> CheckedText:
    """The limits of /say, which /dialogue applies to its whole script: what to answer a text
    that cannot be spoken (empty, too long, nothing speakable), and its symbol count, which
    the job's time budget is made of (bot/services/speech.py).

    Two length limits: MAX_TEXT_CHARS first, a cheap gate before the text is spelled out;
    then MAX_TEXT_SYMBOLS on what the synthesizer would read (bot/text_check.py), the work."""
    problem = text_problem(text, settings.max_text_chars)
    if problem == "empty":
        return CheckedText(f"{texts.text_empty}\n\n{usage}", 0)
    if problem == "too_long":
        return CheckedText(
            texts.text_too_long.format(limit=settings.max_text_chars, length=len(text)), 0
        )
    if problem == "nothing_to_say":
        return CheckedText(texts.nothing_speakable, 0)
    symbols = symbol_count(text)
    if symbols > settings.max_text_symbols:
        reply = texts.text_too_much_work.format(symbols=symbols, limit=settings.max_text_symbols)
        return CheckedText(reply, symbols)
    return CheckedText(None, symbols)


# One handler, registered twice: /say takes its text from the command's arguments (the
# Command filter injects `command`), plain text is the text itself.
@router.message(Command("say"))
@router.message(F.text & ~F.text.startswith("/"))
async def say(
    message: Message,
    bot: Bot,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
    command: CommandObject | None = None,
    status_board: StatusBoard | None = None,
) -> None:
    raw_text = command.args if command is not None else message.text
    text = clean_text(raw_text or "")
    checked = checked_text(text, settings, texts, usage=texts.say_usage)
    if checked.reply is not None:
        await message.answer(checked.reply)
        return
    voice = await store.voices.get_active(user.id)
    if voice is None:
        if status_board is not None and await store.requests.list_active(user.id, "embed"):
            # Their first recording is being learned: say it in that voice once it is.
            waiting = WaitingText(user.id, message.chat.id, message.message_id, text, texts)
            status_board.speak_when_ready(waiting)
            await message.answer(texts.voice_being_learned)
            return
        await message.answer(texts.no_voice)
        return
    await request_speech(
        bot=bot,
        chat_id=message.chat.id,
        reply_to=message.message_id,
        user=user,
        voice=voice,
        text=text,
        settings=settings,
        store=store,
        jobs=jobs,
        texts=texts,
        symbols=checked.symbols,
        status=status_board,
    )
