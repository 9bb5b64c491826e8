"""Records what the workers report: SynthOutcome JSON from RESULTS_LIST, each exactly once.

The bot is the only writer of storage, so outcomes come here. Each one is moved (BLMOVE) from
RESULTS_LIST to RESULTS_PROCESSING, recorded, its job cleared out of Redis, and only then
removed from RESULTS_PROCESSING: a bot that dies halfway finds it there at the next start (or
the sweeper's next round) and records it then; recording is idempotent (only an open request
moves on), so once more is harmless.

The loop survives every error: a Redis that went away, a database that is busy, an outcome
that cannot be read. An unreadable outcome (not JSON, not an object, a field missing or of the
wrong type: a worker of another version, a bug, or someone writing into Redis) is moved to
RESULTS_DEAD and counted (admins see the count in /stats); it would fail the same way at
every try, so keeping it in RESULTS_PROCESSING would stop every sweep behind it.

The loop's blocking pop waits POP_TIMEOUT_SECONDS on a client whose socket timeout is longer
(redis-py's default of 5 s would cut a 5 s pop, log a false alarm and could drop the outcome
popped at that moment).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import redis.asyncio as aioredis
from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from redis.exceptions import RedisError

from bot.queue import JobQueue

if TYPE_CHECKING:
    from bot.background.metrics import ServiceMetrics
    from bot.progress import StatusBoard
from storage import Storage
from storage.models import MAX_ERROR_CODE_CHARS
from worker.api import (
    RESULTS_DEAD,
    RESULTS_DEAD_COUNT,
    RESULTS_DEAD_KEPT,
    RESULTS_LIST,
    RESULTS_PROCESSING,
    SynthOutcome,
    synth_job_id,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

POP_TIMEOUT_SECONDS = 2
SOCKET_TIMEOUT_SECONDS = POP_TIMEOUT_SECONDS + 8
REDIS_RETRY_SECONDS = 2.0
DEAD_KEPT_BYTES = 4096  # of each unreadable outcome set aside: enough to see what it was
MAX_ID = 2**63 - 1  # SQLite's integers: a larger id would raise in the database, every time


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _is_number(value: object) -> bool:
    """Any JSON number, NaN included: storage keeps a figure it cannot use as NULL (a likeness
    of NaN is "not measured"), so only a value of another type makes an outcome unreadable."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or check(value)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


# Each field of SynthOutcome and what its value must be for storage to take it.
_FIELD_CHECKS: dict[str, Callable[[object], bool]] = {
    "request_id": _is_id,
    "user_id": _is_id,
    "ok": lambda value: isinstance(value, bool),
    "error_code": _optional(lambda v: isinstance(v, str) and 0 < len(v) <= MAX_ERROR_CODE_CHARS),
    "queue_seconds": _is_number,
    "synth_seconds": _is_number,
    "audio_seconds": _is_number,
    "total_seconds": _is_number,
    "sent_message_id": _optional(_is_id),
    "job_id": _is_text,
    "sent_again": lambda value: isinstance(value, bool),
    "likeness": _optional(_is_number),
    "file_id": _optional(_is_text),
    "file_kind": _optional(_is_text),
}
assert set(_FIELD_CHECKS) == {f.name for f in fields(SynthOutcome)}, "a field without a check"


def parse_outcome(raw: bytes | str) -> SynthOutcome | None:
    """The outcome in `raw`, or None (logged) when it is not one storage can record."""
    try:
        data: Any = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__}, not an object")
        outcome = SynthOutcome.from_dict(data)
    except (ValueError, TypeError) as error:  # UnicodeDecodeError and JSON's are ValueErrors
        log.error("unreadable synth outcome (%s): %.200r", error, raw)
        return None
    wrong = [name for name, ok in _FIELD_CHECKS.items() if not ok(getattr(outcome, name))]
    if wrong:
        log.error("unreadable synth outcome (bad %s): %.200r", ", ".join(wrong), raw)
        return None
    return outcome


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
        """Record one outcome taken from the list, then let go of it; an unreadable one is set
        aside and counted instead."""
        outcome = parse_outcome(raw)
        if outcome is None:
            await self.set_aside(raw)
            return
        await self.record(outcome)
        await self.redis.lrem(RESULTS_PROCESSING, 1, raw)

    async def set_aside(self, raw: bytes) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(RESULTS_DEAD, raw[:DEAD_KEPT_BYTES])
            pipe.ltrim(RESULTS_DEAD, 0, RESULTS_DEAD_KEPT - 1)
            pipe.incr(RESULTS_DEAD_COUNT)
            pipe.lrem(RESULTS_PROCESSING, 1, raw)
            await pipe.execute()

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
