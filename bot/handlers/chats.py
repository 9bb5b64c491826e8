"""The bot serves private chats. In a group it explains that once, and does nothing else.

Everything the bot offers is personal (voices, recordings, `/forget`), and its buttons act for
whoever presses them; in a group that would be anyone. So this router, tried first, takes
every message and button press that does not come from a private chat. The explanation is
given once per group (a Redis key per chat, kept for a month), so a busy group is not flooded.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.locales import Texts
from bot.queue import JobQueue
from bot.services.groups import first_word_in_chat

log = logging.getLogger(__name__)
router = Router(name="chats")


@router.message(F.chat.type != ChatType.PRIVATE)
async def not_in_private(message: Message, jobs: JobQueue, texts: Texts) -> None:
    if await first_word_in_chat(jobs, message.chat.id):
        log.info(
            "told chat %s (%s) that the bot works in private chats",
            message.chat.id,
            message.chat.type,
        )
        await message.answer(texts.private_only)


@router.callback_query(F.message.chat.type != ChatType.PRIVATE)
async def button_not_in_private(callback: CallbackQuery, texts: Texts) -> None:
    await callback.answer(texts.private_only, show_alert=True)
