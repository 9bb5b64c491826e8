"""What happens when a handler fails: Telegram's refusals are expected, not crashes."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.locales import Texts
from bot.middlewares import tell
from storage import Storage

log = logging.getLogger(__name__)
router = Router(name="errors")


def sender_id(event: ErrorEvent) -> int | None:
    inner = event.update.event
    sender = getattr(inner, "from_user", None)
    return sender.id if sender is not None else None


@router.errors(ExceptionTypeFilter(TelegramForbiddenError))
async def user_blocked_us(event: ErrorEvent, store: Storage) -> None:
    user_id = sender_id(event)
    log.info("user %s blocked the bot (%s)", user_id, event.exception)
    if user_id is not None:
        await store.users.set_blocked(user_id, True)


@router.errors(ExceptionTypeFilter(TelegramBadRequest))
async def bad_request(event: ErrorEvent) -> None:
    log.warning(
        "Telegram refused a request in update %s: %s", event.update.update_id, event.exception
    )


@router.errors()
async def anything_else(event: ErrorEvent, texts: Texts | None = None) -> None:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    if texts is not None:
        try:
            await tell(event.update, texts.embed_errors["internal"])
        except Exception:  # the apology is best effort; the error is already logged
            log.debug("could not apologise for update %s", event.update.update_id)
