"""Screens: a bot message's text and buttons, shown on a button press; what several feature
routers show alike (the bank's page: /bank and the admins' remove button)."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.locales import Texts
from bot.settings import Settings
from storage import Storage

log = logging.getLogger(__name__)

# A screen: the text of a bot message and its buttons (None: no buttons).
Screen = tuple[str, InlineKeyboardMarkup | None]


async def show_screen(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons; send a new message if it cannot be
    edited (too old, deleted). An unchanged screen is not an error."""
    message = callback.message
    if message is None:  # Telegram leaves it out when it is too old to show
        return
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as error:
            if "not modified" in str(error):
                return
            log.info("could not edit message %s: %s", message.message_id, error)
    await message.answer(text, reply_markup=markup)


def chat_id_of(callback: CallbackQuery) -> int:
    """The chat the pressed button is in; the sender's private chat when Telegram leaves the
    message out (too old)."""
    return callback.message.chat.id if callback.message else callback.from_user.id


async def bank_screen(
    store: Storage, page: int, settings: Settings, texts: Texts, *, is_admin: bool
) -> Screen:
    found = await store.voices.bank_page(page=page, page_size=settings.bank_page_size)
    if found.total == 0:
        return texts.bank_empty, None
    header = texts.bank_header.format(page=found.page + 1, pages=found.pages)
    if any(voice.curated for voice in found.voices):
        header = f"{header}\n{texts.bank_curated_note}"
    return header, keyboards.bank_page(found, texts, is_admin=is_admin)
