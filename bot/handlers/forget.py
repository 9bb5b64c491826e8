"""/forget: delete everything the bot holds about the user, after a confirmation."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ForgetCb
from bot.locales import Texts
from bot.screens import show_screen
from bot.services import VoiceService
from storage import User

log = logging.getLogger(__name__)
router = Router(name="forget")


@router.message(Command("forget"))
async def ask_forget(message: Message, user: User, texts: Texts) -> None:
    await message.answer(texts.forget_confirm, reply_markup=keyboards.forget(texts, user.id))


@router.callback_query(ForgetCb.filter(F.confirm))
async def forget(
    callback: CallbackQuery,
    callback_data: ForgetCb,
    state: FSMContext,
    voices: VoiceService,
    user: User,
    texts: Texts,
) -> None:
    if callback_data.user_id != user.id:  # someone else's button (a forwarded message)
        log.info("user %s pressed the /forget button of user %s", user.id, callback_data.user_id)
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    report = await voices.forget(user, state)
    await show_screen(
        callback,
        texts.forgotten.format(
            voices=report.voices, recordings=report.recordings, requests=report.requests
        ),
    )
    await callback.answer()


@router.callback_query(ForgetCb.filter(~F.confirm))
async def keep(callback: CallbackQuery, callback_data: ForgetCb, user: User, texts: Texts) -> None:
    if callback_data.user_id != user.id:
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    await show_screen(callback, texts.forget_cancelled)
    await callback.answer()
