"""/start, /help and /language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import LanguageCb
from bot.locales import Texts, supported_languages, texts_for
from bot.screens import show_screen
from storage import Storage, User

router = Router(name="start")


@router.message(CommandStart())
async def start(message: Message, texts: Texts) -> None:
    await message.answer(texts.welcome)


@router.message(Command("help"))
async def help_(message: Message, texts: Texts) -> None:
    await message.answer(texts.help)


@router.message(Command("language"))
async def language_menu(message: Message, texts: Texts) -> None:
    await message.answer(texts.language_prompt, reply_markup=keyboards.languages())


@router.callback_query(LanguageCb.filter(F.language.in_(supported_languages())))
async def language_chosen(
    callback: CallbackQuery, callback_data: LanguageCb, store: Storage, user: User
) -> None:
    await store.users.set_language(user.id, callback_data.language)
    await show_screen(callback, texts_for(callback_data.language).language_set)
    await callback.answer()
