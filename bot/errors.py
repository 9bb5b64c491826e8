"""What happens when a handler fails: Telegram's refusals are expected, not crashes."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.types import User as TgUser
from redis.exceptions import RedisError

from bot.locales import Texts, language_from_code, texts_for
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


@router.errors(ExceptionTypeFilter(RedisError))
async def redis_away(
    event: ErrorEvent, texts: Texts | None = None, event_from_user: TgUser | None = None
) -> None:
    """Redis restarting, or unreachable: nothing was queued; the user is told to try again
    (not "something broke"), and nobody is left waiting for an answer."""
    log.warning("update %s: Redis is unavailable (%s)", event.update.update_id, event.exception)
    await answer_anyway(event, texts_of(texts, event_from_user).worker_down)


@router.errors()
async def anything_else(
    event: ErrorEvent, texts: Texts | None = None, event_from_user: TgUser | None = None
) -> None:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    await answer_anyway(event, texts_of(texts, event_from_user).embed_errors["internal"])


def texts_of(texts: Texts | None, sender: TgUser | None) -> Texts:
    """The user's texts; when the update failed before they were found (in a middleware),
    those of the language their Telegram client reports."""
    if texts is not None:
        return texts
    return texts_for(language_from_code(sender.language_code if sender else None))


async def answer_anyway(event: ErrorEvent, text: str) -> None:
    try:
        await tell(event.update, text)
    except Exception:  # the answer is best effort; the error is already logged
        log.debug("could not answer update %s", event.update.update_id)
