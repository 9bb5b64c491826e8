"""/forget: delete everything the bot holds about the user, after a confirmation."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ForgetCb
from bot.handlers.common import show_screen
from bot.locales import Texts
from bot.queue import JobQueue
from storage import Storage, User

log = logging.getLogger(__name__)
router = Router(name="forget")


@router.message(Command("forget"))
async def ask_forget(message: Message, texts: Texts) -> None:
    await message.answer(texts.forget_confirm, reply_markup=keyboards.forget(texts))


@router.callback_query(ForgetCb.filter(F.confirm))
async def forget(
    callback: CallbackQuery,
    state: FSMContext,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
) -> None:
    for request in await store.requests.list_active(user.id):
        await jobs.cancel_synth(request.id)
    await jobs.drop_pending(user.id)
    await state.clear()
    report = await store.forget(user.id)
    log.info("user %s asked to be forgotten: %s", user.id, report)
    await show_screen(
        callback,
        texts.forgotten.format(
            voices=report.voices, recordings=report.recordings, requests=report.requests
        ),
    )
    await callback.answer()


@router.callback_query(ForgetCb.filter(~F.confirm))
async def keep(callback: CallbackQuery, texts: Texts) -> None:
    await show_screen(callback, texts.forget_cancelled)
    await callback.answer()
