"""Records what the workers report: SynthOutcome JSON from RESULTS_LIST, each exactly once.

The bot is the only writer of storage, so outcomes come here. Each one is moved (BLMOVE) from
RESULTS_LIST to RESULTS_PROCESSING, recorded, its job cleared out of Redis, and only then
removed from RESULTS_PROCESSING: a bot that dies halfway finds it there at the next start (or
the sweeper's next round) and records it then; recording is idempotent (only an open request
moves on), so once more is harmless.

The loop survives every error: a Redis that went away, a database that is busy, an outcome
that cannot be read. Its blocking pop waits POP_TIMEOUT_SECONDS on a client whose socket
timeout is longer (redis-py's default of 5 s would cut a 5 s pop, log a false alarm and could
drop the outcome popped at that moment).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import redis.asyncio as aioredis
from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from redis.exceptions import RedisError

from bot.queue import JobQueue

if TYPE_CHECKING:
    from bot.metrics import ServiceMetrics
    from bot.progress import StatusBoard
from storage import Storage
from worker.api import RESULTS_LIST, RESULTS_PROCESSING, SynthOutcome, synth_job_id

log = logging.getLogger(__name__)
T = TypeVar("T")

POP_TIMEOUT_SECONDS = 2
SOCKET_TIMEOUT_SECONDS = POP_TIMEOUT_SECONDS + 8
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


class OutcomeRecorder:
    """Applies outcomes to storage and clears their jobs out of Redis."""

    def __init__(
        self,
        store: Storage,
        jobs: JobQueue,
        bot: Bot,
        metrics: ServiceMetrics | None = None,
        status: StatusBoard | None = None,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.bot = bot
        self.metrics = metrics
        self.status = status  # the request's status message goes as its outcome comes
        self.redis = aioredis.Redis.from_url(jobs.url, socket_timeout=SOCKET_TIMEOUT_SECONDS)

    async def close(self) -> None:
        await self.redis.aclose()

    async def record(self, outcome: SynthOutcome) -> None:
        if await self.store.requests.record_outcome(outcome):
            if self.metrics is not None:
                self.metrics.observe_outcome(outcome)
            log.info(
                "request %s %s in %.1f s%s",
                outcome.request_id,
                "done" if outcome.ok else f"failed ({outcome.error_code})",
                outcome.total_seconds,
                " (sent a second time after a cut-off upload)" if outcome.sent_again else "",
            )
        else:
            log.info("request %s was already closed; outcome noted", outcome.request_id)
        if self.status is not None:
            await self.status.finish(outcome.request_id)
        await self.keep_note(outcome)
        await self.jobs.purge([outcome.job_id or synth_job_id(outcome.request_id)])
        if outcome.error_code == "telegram_error" and await blocked_us(self.bot, outcome.user_id):
            log.info("user %s blocked the bot", outcome.user_id)
            await self.store.users.set_blocked(outcome.user_id, True)

    async def keep_note(self, outcome: SynthOutcome) -> None:
        """The sent note's file_id, for inline mode; a note that was not sent is dropped."""
        if outcome.ok and outcome.file_id and outcome.file_kind in ("voice", "audio"):
            await self.store.notes.deliver(
                outcome.request_id, outcome.file_id, outcome.file_kind, outcome.audio_seconds
            )
        else:
            await self.store.notes.drop(outcome.request_id)

    async def handle(self, raw: bytes) -> None:
        """Record one outcome taken from the list, then let go of it."""
        outcome = parse_outcome(raw)
        if outcome is not None:
            await self.record(outcome)
        await self.redis.lrem(RESULTS_PROCESSING, 1, raw)

    async def handle_leftovers(self) -> int:
        """Outcomes taken by an earlier run (or round) and not let go of: record them now."""
        leftovers = await self.redis.lrange(RESULTS_PROCESSING, 0, -1)
        for raw in leftovers:
            await self.handle(raw)
        return len(leftovers)

    async def run(self) -> None:
        """Runs until cancelled."""
        await self.guarded(self.handle_leftovers)
        while True:
            raw = await self.guarded(self.take)
            if raw is not None:
                await self.guarded(lambda raw=raw: self.handle(raw))

    async def take(self) -> bytes | None:
        return await self.redis.blmove(
            RESULTS_LIST, RESULTS_PROCESSING, POP_TIMEOUT_SECONDS, "LEFT", "RIGHT"
        )

    async def guarded(self, step: Callable[[], Awaitable[T]]) -> T | None:
        """`await step()`, or None after logging what went wrong and waiting a moment: an
        outcome it was handling stays in RESULTS_PROCESSING for the next round."""
        try:
            return await step()
        except asyncio.CancelledError:
            raise
        except RedisError as error:
            log.warning("results: Redis unavailable (%s); retrying", error)
        except Exception:
            log.exception("results: recording an outcome failed; it will be tried again")
        await asyncio.sleep(REDIS_RETRY_SECONDS)
        return None
