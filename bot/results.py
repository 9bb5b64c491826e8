"""Records what the workers report: SynthOutcome JSON popped from RESULTS_LIST."""

from __future__ import annotations

import asyncio
import json
import logging

import redis.asyncio as aioredis
from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from redis.exceptions import RedisError

from storage import Storage
from worker.api import RESULTS_LIST, SynthOutcome

log = logging.getLogger(__name__)

POP_TIMEOUT_SECONDS = 5
REDIS_RETRY_SECONDS = 2.0


def parse_outcome(raw: bytes | str) -> SynthOutcome | None:
    try:
        return SynthOutcome.from_dict(json.loads(raw))
    except (ValueError, TypeError) as error:
        log.error("dropping an unreadable synth outcome (%s): %.200r", error, raw)
        return None


async def blocked_us(bot: Bot, user_id: int) -> bool:
    """Whether Telegram refuses to deliver to the user (they blocked the bot).

    An outcome says only "telegram_error" when the worker's upload failed; a chat action is
    the cheapest request that Telegram answers with 403 for a user who blocked the bot.
    """
    try:
        await bot.send_chat_action(user_id, ChatAction.TYPING)
    except TelegramForbiddenError:
        return True
    except TelegramAPIError as error:
        log.info("could not check whether user %s blocked the bot: %s", user_id, error)
    return False


async def record_outcomes(redis: aioredis.Redis, store: Storage, bot: Bot) -> None:
    """Runs until cancelled; the bot is the only writer of storage, so outcomes come here."""
    while True:
        try:
            popped = await redis.blpop([RESULTS_LIST], timeout=POP_TIMEOUT_SECONDS)
        except RedisError as error:
            log.warning("results: Redis unavailable (%s); retrying", error)
            await asyncio.sleep(REDIS_RETRY_SECONDS)
            continue
        if popped is None:
            continue
        outcome = parse_outcome(popped[1])
        if outcome is None:
            continue
        if await store.requests.record_outcome(outcome):
            log.info(
                "request %s %s in %.1f s",
                outcome.request_id,
                "done" if outcome.ok else f"failed ({outcome.error_code})",
                outcome.total_seconds,
            )
        else:
            log.info("request %s was already closed; outcome ignored", outcome.request_id)
        if outcome.error_code == "telegram_error" and await blocked_us(bot, outcome.user_id):
            log.info("user %s blocked the bot", outcome.user_id)
            await store.users.set_blocked(outcome.user_id, True)
