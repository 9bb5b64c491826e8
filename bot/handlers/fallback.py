"""Whatever no other router took: unknown commands, stickers, photos, stray buttons.

A stray button is one from an older version of the bot, one whose payload fails validation,
or one whose voice the `OwnedVoice`/`UsableVoice` filter refused (gone, deleted, someone
else's): all of them get the same "voice is gone" alert here.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.locales import Texts

router = Router(name="fallback")


@router.message(F.text)
async def unknown_command(message: Message, texts: Texts) -> None:
    await message.answer(texts.fallback)


@router.message()
async def unsupported(message: Message, texts: Texts) -> None:
    await message.answer(texts.unsupported_message)


@router.callback_query()
async def stale_button(callback: CallbackQuery, texts: Texts) -> None:
    await callback.answer(texts.voice_gone, show_alert=True)
