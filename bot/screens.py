"""Small helpers shared by the feature routers."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

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
