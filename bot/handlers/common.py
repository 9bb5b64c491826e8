"""Small helpers shared by the feature routers."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

log = logging.getLogger(__name__)


async def show_screen(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons; send a new message if it cannot be
    edited (too old, deleted). An unchanged screen is not an error."""
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as error:
            if "not modified" in str(error):
                return
            log.info("could not edit message %s: %s", message.message_id, error)
    if callback.message is not None:
        await callback.bot.send_message(callback.message.chat.id, text, reply_markup=markup)  # type: ignore[union-attr]
