"""Records what the workers report: SynthOutcome JSON popped from RESULTS_LIST."""

from __future__ import annotations

import asyncio
import json
import logging

import redis.asyncio as aioredis
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


async def record_outcomes(redis: aioredis.Redis, store: Storage) -> None:
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
