"""Retries only for transient failures; one apology and one outcome for a request that fails.

These run the real worker class in-process (burst mode) with a stand-in engine.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus

import worker.jobs
from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import ToneEngine
from worker.api import (
    EMBED_JOB,
    EMBED_QUEUE,
    ERROR_CODE_META,
    JOB_RETRY_INTERVALS,
    JOB_RETRY_MAX,
    QUEUES,
    RESULTS_LIST,
    SYNTH_JOB,
    SYNTH_QUEUE,
    EmbedRequest,
    SynthOutcome,
    SynthRequest,
)
from worker.recovery import lease_key, recover_orphans
from worker.runtime import Runtime
from worker.worker import ResidentWorker


@pytest.fixture
def resident_worker(
    runtime: Runtime, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ResidentWorker]:
    monkeypatch.setattr(worker.jobs, "resident_runtime", lambda: runtime)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield ResidentWorker(QUEUES, runtime=runtime, connection=redis_conn, lease_seconds=15)
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def synth_request(language: str = "en", text: str = "Hello world.") -> dict[str, object]:
    return SynthRequest(
        request_id=9,
        user_id=1001,
        chat_id=1001,
        reply_to_message_id=3,
        text=text,
        embedding=[0.0] * 256,
        language=language,
        enqueued_at=time.time(),
    ).to_dict()


def enqueue_synth(redis: Redis, retry: bool = True, **request: str) -> Job:
    queue = Queue(SYNTH_QUEUE, connection=redis)
    policy = Retry(max=JOB_RETRY_MAX, interval=list(JOB_RETRY_INTERVALS)) if retry else None
    return queue.enqueue(SYNTH_JOB, synth_request(**request), retry=policy)


def outcomes(redis: Redis) -> list[SynthOutcome]:
    return [SynthOutcome.from_dict(json.loads(x)) for x in redis.lrange(RESULTS_LIST, 0, -1)]


def test_bad_input_fails_at_once_with_one_apology_in_the_users_language(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    job = enqueue_synth(redis_conn, language="ru", text="   ")
    resident_worker.work(burst=True)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert job.retries_left == 0
    assert job.meta[ERROR_CODE_META] == "nothing_to_say"
    [apology] = bot_api.calls_of("sendMessage")
    assert apology.params["chat_id"] == 1001
    assert "нечего произнести" in apology.params["text"]
    [outcome] = outcomes(redis_conn)
    assert not outcome.ok and outcome.error_code == "nothing_to_say"


def test_a_telegram_server_error_schedules_a_retry_without_telling_the_user(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    bot_api.fail_next("sendVoice", 502, "Bad Gateway")
    job = enqueue_synth(redis_conn)
    resident_worker.work(burst=True)
    job.refresh()
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == JOB_RETRY_MAX - 1
    assert job.meta[ERROR_CODE_META] == "telegram_error"
    assert bot_api.calls_of("sendMessage") == []
    assert outcomes(redis_conn) == []


def test_a_transient_failure_without_retries_left_is_settled_as_failed(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    bot_api.fail_next("sendVoice", 429, "Too Many Requests", retry_after=3)
    job = enqueue_synth(redis_conn, retry=False)
    resident_worker.work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FAILED
    [outcome] = outcomes(redis_conn)
    assert outcome.error_code == "telegram_error"
    assert "Telegram" in bot_api.calls_of("sendMessage")[0].params["text"]


def test_an_engine_crash_is_not_retried(
    resident_worker: ResidentWorker,
    redis_conn: Redis,
    bot_api: FakeBotAPI,
    tone_engine: ToneEngine,
) -> None:
    tone_engine.fail_with = RuntimeError("CUDA error: device-side assert triggered")
    job = enqueue_synth(redis_conn)
    resident_worker.work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert [o.error_code for o in outcomes(redis_conn)] == ["internal"]


def test_bad_embed_input_is_not_retried_and_its_code_is_in_the_job_meta(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    request = EmbedRequest(file_id="whatever", kind="voice", file_size=10**9).to_dict()
    queue = Queue(EMBED_QUEUE, connection=redis_conn)
    job = queue.enqueue(EMBED_JOB, request, retry=Retry(max=3, interval=[5]))
    resident_worker.work(burst=True)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert job.meta[ERROR_CODE_META] == "too_large"
    assert bot_api.calls_of("getFile") == []  # refused on the declared size
    assert outcomes(redis_conn) == []  # embed failures are the bot's to report


def start_as_a_dead_worker_would(redis: Redis, job: Job) -> str:
    """Leave `job` as a killed worker leaves it: started, off its queue, no lease."""
    queue = Queue(job.origin, connection=redis)
    queue.remove(job)
    entry = f"{job.id}:dead-execution"
    redis.zadd(queue.started_job_registry.key, {entry: time.time() + 3600})
    job.set_status(JobStatus.STARTED)
    return entry


def test_a_dead_workers_job_goes_back_to_the_front_of_its_queue(
    resident_worker: ResidentWorker, redis_conn: Redis
) -> None:
    orphan = enqueue_synth(redis_conn)
    waiting = enqueue_synth(redis_conn)
    start_as_a_dead_worker_would(redis_conn, orphan)
    queue = Queue(SYNTH_QUEUE, connection=redis_conn)

    assert recover_orphans(redis_conn, [queue]) == [orphan.id]
    assert queue.job_ids == [orphan.id, waiting.id]
    assert Job.fetch(orphan.id, connection=redis_conn).retries_left == JOB_RETRY_MAX - 1
    assert queue.started_job_registry.get_job_ids() == []
    assert recover_orphans(redis_conn, [queue]) == []


def test_a_leased_job_is_left_alone(redis_conn: Redis) -> None:
    job = enqueue_synth(redis_conn)
    start_as_a_dead_worker_would(redis_conn, job)
    redis_conn.set(lease_key(job.id), "alive-worker", ex=15)
    queue = Queue(SYNTH_QUEUE, connection=redis_conn)
    assert recover_orphans(redis_conn, [queue]) == []
    assert queue.job_ids == []


def test_a_dead_workers_job_without_retries_fails_with_an_apology(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    job = enqueue_synth(redis_conn, retry=False)
    start_as_a_dead_worker_would(redis_conn, job)
    queue = Queue(SYNTH_QUEUE, connection=redis_conn)
    recover_orphans(redis_conn, [queue], [resident_worker.apply_failure_policy])
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert [o.error_code for o in outcomes(redis_conn)] == ["internal"]
    assert len(bot_api.calls_of("sendMessage")) == 1
