"""/bank: the shared voices, paginated; use and preview. The admins' remove button: admin.py.

A button's voice id is resolved by the `UsableVoice` filter (bot/filters.py): own or public
voices, the ones the sender may speak with.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.callbacks import BankAction, BankCb
from bot.filters import UsableVoice
from bot.locales import Texts
from bot.screens import bank_screen, chat_id_of, show_screen
from bot.services import Asker, SpeechOrder, SpeechService
from bot.settings import Settings
from storage import Storage, User, Voice

router = Router(name="bank")


@router.message(Command("bank"))
async def bank(
    message: Message, store: Storage, settings: Settings, texts: Texts, is_admin: bool
) -> None:
    text, markup = await bank_screen(store, 0, settings, texts, is_admin=is_admin)
    await message.answer(text, reply_markup=markup)


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
    await show_screen(callback, text, markup)
    await callback.answer()


@router.callback_query(BankCb.filter(F.action == BankAction.use), UsableVoice())
async def use_bank_voice(
    callback: CallbackQuery, voice: Voice, bot: Bot, store: Storage, user: User, texts: Texts
) -> None:
    if not await store.users.set_active_voice(user.id, voice.id):  # withdrawn since the filter
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    chosen = texts.voice_active_curated if voice.curated else texts.voice_active
    await bot.send_message(chat_id_of(callback), chosen.format(name=voice.name))
    await callback.answer()


@router.callback_query(BankCb.filter(F.action == BankAction.preview), UsableVoice())
async def preview_bank_voice(
    callback: CallbackQuery, voice: Voice, speech: SpeechService, user: User, texts: Texts
) -> None:
    await callback.answer()
    asker = Asker(user, texts, chat_id_of(callback))
    await speech.request(asker, SpeechOrder(voice, texts.preview_phrase, preview=True))
