"""`/check`'s one-at-a-time slot counts the work, not the bot's wait (bot/checks.py): a check
whose wait timed out while a worker still runs its job keeps the slot until the job lets go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.checks import CheckGate
from storage import AdmissionLimits, Refusal, Storage
from worker.api import check_job_id
from worker.api.keys import lease_key

CHECK_SLOT_DB = 13
USER = 5353
LIMITS = AdmissionLimits(
    max_active_per_user=1, per_minute=10, max_queued=100, max_voices_per_user=5
)


@pytest.fixture
async def gate(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[CheckGate, aioredis.Redis]]:
    client = aioredis.Redis.from_url(f"{redis_url.rstrip('/')}/{CHECK_SLOT_DB}")
    await client.flushdb()
    store = await Storage.open(tmp_path / "data")
    await store.users.ensure(USER)
    yield CheckGate(client, store, "secret", limits=LIMITS), client
    await store.close()
    await client.flushdb()
    await client.aclose()


async def test_a_check_still_running_on_a_worker_keeps_the_slot_after_the_wait_ends(
    gate: tuple[CheckGate, aioredis.Redis],
) -> None:
    checks, redis = gate
    first = await checks.admit(USER)
    assert first.refusal is None
    await redis.set(lease_key(check_job_id(first.token)), "worker-1:abc", ex=15)  # still running
    await checks.release(USER, first.token)  # the bot's wait timed out
    assert (await checks.admit(USER)).refusal is Refusal.busy
    assert await checks.running(USER) == first.token  # /forget still finds its job
    await redis.delete(lease_key(check_job_id(first.token)))  # the worker let go of it
    assert (await checks.admit(USER)).refusal is None


async def test_a_finished_check_frees_the_slot_at_once(
    gate: tuple[CheckGate, aioredis.Redis],
) -> None:
    checks, _ = gate
    ticket = await checks.admit(USER)
    await checks.release(USER, ticket.token)
    assert (await checks.admit(USER)).refusal is None
