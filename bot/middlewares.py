"""Middlewares: access control, the user record, 429 retry.

They read the dependencies from the Dispatcher's workflow data (bot/app.py puts `settings`,
`store` (storage.Storage), `jobs` (bot.queue.JobQueue) and the services `speech`,
`recordings` and `voices` (bot/services/) in every event's `data`) and add, for the filters
and handlers after them: `is_admin` (AccessMiddleware), `user` (storage.User) and
`texts` (bot.locales.Texts) (UserMiddleware).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineQuery,
    InlineQueryResultsButton,
    Message,
    TelegramObject,
    Update,
)
from aiogram.types import User as TgUser

from bot.locales import language_from_code, texts_for
from bot.services.groups import first_word_in_chat
from bot.settings import Settings
from storage import Storage

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
MAX_RETRY_AFTER_SECONDS = 60


async def tell(event: TelegramObject, text: str) -> None:
    """Answer a message with a reply, a button press with an alert, an inline query with an
    empty list under a button that says it (an unanswered query spins in the client)."""
    if isinstance(event, Update):
        event = event.event
    if isinstance(event, Message):
        await event.answer(text)
    elif isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, InlineQuery):
        button = InlineQueryResultsButton(text=text[:64], start_parameter="inline")
        await event.answer([], cache_time=5, is_personal=True, button=button)


class AccessMiddleware(BaseMiddleware):
    """A private deployment admits only ALLOWED_USER_IDS (and admins); others get one line:
    in a private chat at each message, in a group once per chat (as a public deployment
    explains itself there once, bot/handlers/chats.py), so that a stranger's chatter in a
    group is not answered message by message."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        settings: Settings = data["settings"]
        sender: TgUser | None = data.get("event_from_user")
        if sender is None or sender.is_bot:
            return None
        data["is_admin"] = sender.id in settings.admin_ids
        if settings.allowed_user_ids and not (
            data["is_admin"] or sender.id in settings.allowed_user_ids
        ):
            log.info("refused user %s (not in ALLOWED_USER_IDS)", sender.id)
            texts = texts_for(language_from_code(sender.language_code))
            chat: Chat | None = data.get("event_chat")
            message = event.event if isinstance(event, Update) else event
            if chat is not None and chat.type != ChatType.PRIVATE and isinstance(message, Message):
                # A message in a group (a button press there still gets its own alert).
                if await first_word_in_chat(data["jobs"], chat.id):
                    await tell(event, texts.access_denied)
                return None
            inline = isinstance(event, Update) and event.inline_query is not None
            await tell(event, texts.inline_private if inline else texts.access_denied)
            return None
        return await handler(event, data)


class UserMiddleware(BaseMiddleware):
    """The sender's record (created on first sight, marked seen) and their texts."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        store: Storage = data["store"]
        sender: TgUser = data["event_from_user"]
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.type != ChatType.PRIVATE:
            # Groups get one explanation (bot/handlers/chats.py); their members get no record.
            data["texts"] = texts_for(language_from_code(sender.language_code))
            return await handler(event, data)
        user = await store.users.ensure(sender.id, language_from_code(sender.language_code))
        if user.blocked:  # they wrote again, so they unblocked the bot
            user = await store.users.set_blocked(sender.id, False) or user
        data["user"] = user
        data["texts"] = texts_for(user.language)
        return await handler(event, data)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On a 429, wait what Telegram asks (capped) and try once more."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            wait = min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
            log.warning("%s: flood control, retrying once in %s s", method.__api_method__, wait)
            await asyncio.sleep(wait)
            return await make_request(bot, method)
