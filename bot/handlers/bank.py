"""/bank: the shared voices, paginated; use, preview, and (admins) remove."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import BankAction, BankCb
from bot.handlers.common import show_screen
from bot.locales import Texts
from bot.queue import JobQueue
from bot.settings import Settings
from bot.speech import request_speech
from storage import Storage, User, Voice

log = logging.getLogger(__name__)
router = Router(name="bank")


async def bank_screen(
    store: Storage, page: int, settings: Settings, texts: Texts, *, is_admin: bool
) -> tuple[str, object]:
    found = await store.voices.bank_page(page=page, page_size=settings.bank_page_size)
    if found.total == 0:
        return texts.bank_empty, None
    header = texts.bank_header.format(page=found.page + 1, pages=found.pages)
    return header, keyboards.bank_page(found, texts, is_admin=is_admin)


@router.message(Command("bank"))
async def bank(
    message: Message, store: Storage, settings: Settings, texts: Texts, is_admin: bool
) -> None:
    text, markup = await bank_screen(store, 0, settings, texts, is_admin=is_admin)
    await message.answer(text, reply_markup=markup)  # type: ignore[arg-type]


@router.callback_query(BankCb.filter(F.action == BankAction.page))
async def turn_page(
    callback: CallbackQuery,
    callback_data: BankCb,
    store: Storage,
    settings: Settings,
    texts: Texts,
    is_admin: bool,
) -> None:
    text, markup = await bank_screen(store, callback_data.page, settings, texts, is_admin=is_admin)
    await show_screen(callback, text, markup)  # type: ignore[arg-type]
    await callback.answer()


async def usable_or_refuse(
    callback: CallbackQuery, voice_id: int, store: Storage, user: User, texts: Texts
) -> Voice | None:
    voice = await store.voices.get_usable(user.id, voice_id)
    if voice is None:
        log.info("user %s pressed a bank button of unusable voice %s", user.id, voice_id)
        await callback.answer(texts.voice_gone, show_alert=True)
    return voice


@router.callback_query(BankCb.filter(F.action == BankAction.use))
async def use_bank_voice(
    callback: CallbackQuery,
    callback_data: BankCb,
    bot: Bot,
    store: Storage,
    user: User,
    texts: Texts,
) -> None:
    voice = await usable_or_refuse(callback, callback_data.voice_id, store, user, texts)
    if voice is None:
        return
    if not await store.users.set_active_voice(user.id, voice.id):
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    chat_id = callback.message.chat.id if callback.message else user.id
    await bot.send_message(chat_id, texts.voice_active.format(name=voice.name))
    await callback.answer()


@router.callback_query(BankCb.filter(F.action == BankAction.preview))
async def preview_bank_voice(
    callback: CallbackQuery,
    callback_data: BankCb,
    bot: Bot,
    settings: Settings,
    store: Storage,
    jobs: JobQueue,
    user: User,
    texts: Texts,
) -> None:
    voice = await usable_or_refuse(callback, callback_data.voice_id, store, user, texts)
    if voice is None:
        return
    await callback.answer()
    chat_id = callback.message.chat.id if callback.message else user.id
    await request_speech(
        bot=bot,
        chat_id=chat_id,
        reply_to=None,
        user=user,
        voice=voice,
        text=texts.preview_phrase,
        settings=settings,
        store=store,
        jobs=jobs,
        texts=texts,
    )


@router.callback_query(BankCb.filter(F.action == BankAction.remove))
async def remove_bank_voice(
    callback: CallbackQuery,
    callback_data: BankCb,
    store: Storage,
    settings: Settings,
    user: User,
    texts: Texts,
    is_admin: bool,
) -> None:
    if not is_admin:
        log.warning("user %s (not an admin) pressed a bank removal button", user.id)
        await callback.answer(texts.admin_only, show_alert=True)
        return
    voice = await store.voices.get_unchecked(callback_data.voice_id)
    if voice is None or not voice.public or not await store.voices.remove_from_bank(voice.id):
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    log.info("admin %s removed voice %s from the bank", user.id, voice.id)
    text, markup = await bank_screen(store, callback_data.page, settings, texts, is_admin=True)
    await show_screen(callback, text, markup)  # type: ignore[arg-type]
    await callback.answer(texts.bank_removed.format(name=voice.name))
