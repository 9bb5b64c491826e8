"""What happens when a handler fails: Telegram's refusals are expected, not crashes."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.types import User as TgUser

from bot.locales import Texts
from bot.middlewares import tell
from storage import Storage

log = logging.getLogger(__name__)
router = Router(name="errors")


# Error handlers get the failed update's data, so `event_from_user` (aiogram's sender of the
# update; absent for updates without one) is there as for any handler.
@router.errors(ExceptionTypeFilter(TelegramForbiddenError))
async def user_blocked_us(
    event: ErrorEvent, store: Storage, event_from_user: TgUser | None = None
) -> None:
    user_id = event_from_user.id if event_from_user is not None else None
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
