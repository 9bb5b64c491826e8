"""The bot's sweeper and results consumer, in-process: storage with a clock the test moves, a
real Redis, and a stand-in for the Bot object that keeps what would have been sent."""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.background.results import OutcomeRecorder
from bot.background.sweeper import (
    LOOK_AFTER_SECONDS,
    MAX_REQUEST_AGE_SECONDS,
    Sweeper,
    close_interrupted_recordings,
)
from bot.locales import Texts
from bot.locales.en import TEXTS as EN
from bot.locales.ru import TEXTS as RU
from bot.queue import JobQueue, QueueTimeouts
from storage import RequestStatus, Storage
from tests.storage.conftest import FakeClock
from worker.api import (
    QUEUE,
    RESULTS_DEAD,
    RESULTS_LIST,
    RESULTS_PROCESSING,
    SERIALIZER,
    SynthOutcome,
    SynthRequest,
)
from worker.api.keys import settled_key

SWEEPER_DB = 5
USER = 4242


@dataclass
class SentMessages:
    """Bot.send_message and send_chat_action, kept instead of sent."""

    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.sent.append((chat_id, text))

    async def send_chat_action(self, chat_id: int, action: str, **_: Any) -> None:
        return None


@dataclass
class Rig:
    store: Storage
    jobs: JobQueue
    redis: Redis
    bot: SentMessages
    recorder: OutcomeRecorder
    sweeper: Sweeper
    clock: FakeClock

    async def open_request(self, kind: str = "synth") -> int:
        return await self.store.requests.create(USER, None, 10, kind=kind)  # type: ignore[arg-type]

    def enqueue(self, request_id: int) -> None:
        from rq import Queue

        request = SynthRequest(request_id, USER, USER, None, "hello", [0.0] * 256)
        Queue(QUEUE, connection=self.redis, serializer=SERIALIZER).enqueue(
            "worker.jobs.synth_job", request.to_dict(), job_id=f"synth-{request_id}"
        )

    async def status(self, request_id: int) -> RequestStatus:
        row = await self.store.requests.get(request_id)
        assert row is not None
        return row.status


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[str]:
    url = f"{redis_url.rstrip('/')}/{SWEEPER_DB}"
    with Redis.from_url(url) as client:
        client.flushdb()
    yield url


@pytest.fixture
async def rig(redis_db: str, tmp_path: Path) -> AsyncIterator[Rig]:
    clock = FakeClock()
    store = await Storage.open(tmp_path / "data", clock=clock)
    await store.users.ensure(USER, "en")
    jobs = JobQueue(redis_db, QueueTimeouts(embed_wait_seconds=60, result_ttl_seconds=600))
    bot = SentMessages()
    recorder = OutcomeRecorder(store, jobs, bot)  # type: ignore[arg-type]
    sweeper = Sweeper(store, jobs, recorder, bot, embed_wait_seconds=60)  # type: ignore[arg-type]
    with Redis.from_url(redis_db) as redis:
        yield Rig(store, jobs, redis, bot, recorder, sweeper, clock)
    await recorder.close()
    await jobs.close()
    await store.close()


async def test_a_request_whose_job_vanished_is_failed_and_its_user_told(rig: Rig) -> None:
    request_id = await rig.open_request()  # its job was lost with Redis's data
    rig.clock.advance(LOOK_AFTER_SECONDS + 1)
    await rig.sweeper.sweep()
    assert await rig.status(request_id) == RequestStatus.queued  # once may be a passing moment
    await rig.sweeper.sweep()
    assert await rig.status(request_id) == RequestStatus.failed
    assert rig.bot.sent == [
        (USER, "Sorry, your last request got lost in a restart on my side. Please send it again.")
    ]


async def test_a_request_with_its_job_in_the_queue_is_left_alone(rig: Rig) -> None:
    request_id = await rig.open_request()
    rig.enqueue(request_id)
    rig.clock.advance(LOOK_AFTER_SECONDS + 1)
    for _ in range(3):
        await rig.sweeper.sweep()
    assert await rig.status(request_id) == RequestStatus.queued
    assert rig.bot.sent == []


async def test_a_settled_outcome_that_never_reached_the_bot_is_recorded(rig: Rig) -> None:
    request_id = await rig.open_request()
    outcome = SynthOutcome(
        request_id, USER, ok=True, synth_seconds=1.0, job_id=f"synth-{request_id}"
    )
    rig.redis.set(settled_key(f"synth-{request_id}"), json.dumps(outcome.to_dict()))
    rig.clock.advance(LOOK_AFTER_SECONDS + 1)
    await rig.sweeper.sweep()
    assert await rig.status(request_id) == RequestStatus.done
    assert not rig.redis.exists(settled_key(f"synth-{request_id}"))  # and cleared out
    assert rig.bot.sent == []  # the worker told the user; nothing more to say


async def test_a_request_nobody_will_answer_expires_with_a_word_to_its_user(rig: Rig) -> None:
    request_id = await rig.open_request()
    rig.enqueue(request_id)  # queued, but no worker has come for hours
    rig.clock.advance(MAX_REQUEST_AGE_SECONDS + 1)
    await rig.sweeper.sweep()
    assert await rig.status(request_id) == RequestStatus.failed
    assert len(rig.bot.sent) == 1
    assert not rig.redis.exists(f"rq:job:synth-{request_id}")  # its text and voice went too


async def test_recordings_an_earlier_run_was_listening_to_are_closed_at_start(rig: Rig) -> None:
    request_id = await rig.open_request(kind="embed")
    assert await close_interrupted_recordings(rig.store, rig.jobs, rig.bot) == 1  # type: ignore[arg-type]
    assert await rig.status(request_id) == RequestStatus.failed
    assert rig.bot.sent == [
        (USER, "Sorry, I was restarted while listening to your recording. Please send it again.")
    ]


async def test_an_outcome_taken_but_not_recorded_survives_the_crash(rig: Rig) -> None:
    request_id = await rig.open_request()
    outcome = SynthOutcome(request_id, USER, ok=True, job_id=f"synth-{request_id}")
    # The bot had moved it off the results list when it died.
    rig.redis.rpush(RESULTS_PROCESSING, json.dumps(outcome.to_dict()))
    assert await rig.recorder.handle_leftovers() == 1
    assert await rig.status(request_id) == RequestStatus.done
    assert rig.redis.llen(RESULTS_PROCESSING) == 0


async def test_the_results_consumer_survives_bad_outcomes_and_goes_on(rig: Rig) -> None:
    first, second = await rig.open_request(), await rig.open_request()
    rig.redis.rpush(RESULTS_LIST, b"this is not JSON")
    rig.redis.rpush(RESULTS_LIST, json.dumps({"request_id": first}))  # not an outcome
    rig.redis.rpush(RESULTS_LIST, json.dumps(SynthOutcome(second, USER, ok=True).to_dict()))
    task = asyncio.create_task(rig.recorder.run())
    try:
        for _ in range(100):
            if await rig.status(second) == RequestStatus.done:
                break
            await asyncio.sleep(0.05)
        assert await rig.status(second) == RequestStatus.done
        assert await rig.status(first) == RequestStatus.queued
        assert rig.redis.llen(RESULTS_LIST) == 0 and rig.redis.llen(RESULTS_PROCESSING) == 0
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


UNREADABLE_OUTCOMES = [
    b"null",
    b"this is not JSON",
    b"\xff\xfe not even text",
    b"[1, 2, 3]",
    b'"a string"',
    json.dumps({"request_id": 1}).encode(),  # fields missing
    json.dumps({**SynthOutcome(1, USER, ok=True).to_dict(), "request_id": "1"}).encode(),
    json.dumps({**SynthOutcome(1, USER, ok=True).to_dict(), "ok": "yes"}).encode(),
    json.dumps({**SynthOutcome(1, USER, ok=False).to_dict(), "error_code": ["x"]}).encode(),
    json.dumps({**SynthOutcome(10**30, USER, ok=True).to_dict()}).encode(),  # past SQLite's ints
]


async def test_unreadable_outcomes_are_set_aside_counted_and_the_sweep_goes_on(rig: Rig) -> None:
    vanished = await rig.open_request()  # its job is gone: the sweep must get to it
    rig.redis.set(settled_key(f"synth-{vanished}"), b"null")  # and what it left is garbage
    recorded = await rig.open_request()
    good = json.dumps(SynthOutcome(recorded, USER, ok=True, job_id="x").to_dict()).encode()
    # Taken off the results list by a consumer that could not record them.
    rig.redis.rpush(RESULTS_PROCESSING, *UNREADABLE_OUTCOMES, good)
    rig.clock.advance(LOOK_AFTER_SECONDS + 1)
    for _ in range(2):
        await rig.sweeper.sweep()
    assert await rig.status(recorded) == RequestStatus.done
    assert await rig.status(vanished) == RequestStatus.failed
    assert rig.redis.llen(RESULTS_PROCESSING) == 0
    assert sorted(rig.redis.lrange(RESULTS_DEAD, 0, -1)) == sorted(UNREADABLE_OUTCOMES)
    assert await rig.jobs.unreadable_outcomes() == len(UNREADABLE_OUTCOMES)
    later = await rig.open_request()  # and outcomes after them are recorded as ever
    rig.redis.rpush(RESULTS_LIST, b"null", json.dumps(SynthOutcome(later, USER, ok=True).to_dict()))
    for _ in range(2):
        raw = await rig.recorder.take()
        assert raw is not None
        await rig.recorder.handle(raw)
    assert await rig.status(later) == RequestStatus.done
    assert await rig.jobs.unreadable_outcomes() == len(UNREADABLE_OUTCOMES) + 1


@pytest.mark.parametrize("texts", [EN, RU], ids=["en", "ru"])
def test_admin_stats_show_the_unreadable_outcomes(texts: Texts) -> None:
    figures = {name: 0 for _, name, _, _ in string.Formatter().parse(texts.stats) if name}
    shown = texts.stats.format(**{**figures, "unreadable_outcomes": 73, "failure_rate": 0.0})
    assert "73" in shown.splitlines()[-1]


async def test_the_results_consumer_outlives_a_failing_database(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await rig.open_request()
    calls = 0
    real = rig.store.requests.record_outcome

    async def busy_once(outcome: SynthOutcome) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        return await real(outcome)

    monkeypatch.setattr(rig.store.requests, "record_outcome", busy_once)
    monkeypatch.setattr("bot.background.results.REDIS_RETRY_SECONDS", 0.05)
    rig.redis.rpush(RESULTS_LIST, json.dumps(SynthOutcome(request_id, USER, ok=True).to_dict()))
    task = asyncio.create_task(rig.recorder.run())
    try:
        await asyncio.sleep(0.5)
        assert rig.redis.llen(RESULTS_PROCESSING) == 1  # kept for the next round
        await rig.recorder.handle_leftovers()  # what the sweeper's round does
        assert await rig.status(request_id) == RequestStatus.done
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_blocking_pop_waits_less_than_its_clients_socket_timeout(rig: Rig) -> None:
    from bot.background.results import POP_TIMEOUT_SECONDS

    timeout = rig.recorder.redis.connection_pool.connection_kwargs["socket_timeout"]
    assert timeout > POP_TIMEOUT_SECONDS
    assert await rig.recorder.take() is None  # an idle pop returns nothing, raises nothing
