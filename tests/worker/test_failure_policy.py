"""Retries only for transient failures; one apology and one outcome for a request that fails.

These run the real worker class in-process (burst mode) with a stand-in engine.
"""

from __future__ import annotations

import json
import pickle
import time
import zlib
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus

from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import ToneEngine
from worker.api import (
    EMBED_JOB,
    ERROR_CODE_META,
    JOB_RETRY_INTERVALS,
    JOB_RETRY_MAX,
    QUEUE,
    RESULTS_LIST,
    SERIALIZER,
    SYNTH_JOB,
    EmbedRequest,
    SynthOutcome,
    SynthRequest,
)
from worker.api.keys import lease_key
from worker.queue.recovery import recover_orphans
from worker.queue.resident import ResidentWorker
from worker.runtime import Runtime


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


def the_queue(redis: Redis) -> Queue:
    return Queue(QUEUE, connection=redis, serializer=SERIALIZER)


def enqueue_synth(redis: Redis, retry: bool = True, **request: str) -> Job:
    queue = the_queue(redis)
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
    job = the_queue(redis_conn).enqueue(EMBED_JOB, request, retry=Retry(max=3, interval=[5]))
    resident_worker.work(burst=True)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert job.meta[ERROR_CODE_META] == "too_large"
    assert bot_api.calls_of("getFile") == []  # refused on the declared size
    assert outcomes(redis_conn) == []  # embed failures are the bot's to report


def start_as_a_dead_worker_would(redis: Redis, job: Job) -> str:
    """Leave `job` as a killed worker leaves it: started, off its queue, no lease."""
    queue = the_queue(redis)
    queue.remove(job)
    entry = f"{job.id}:dead-execution"
    redis.zadd(queue.started_job_registry.key, {entry: time.time() + 3600})
    job.set_status(JobStatus.STARTED)
    return entry


def take_as_a_dying_worker_would(redis: Redis) -> str:
    """What a worker killed right after taking a job leaves: the id moved by RQ's BLMOVE into
    the intermediate list, no lease yet."""
    queue = the_queue(redis)
    return redis.lmove(queue.key, queue.intermediate_queue_key, "LEFT", "RIGHT").decode()


def recover_twice(redis: Redis) -> list[str]:
    """Recovery puts an entry back once it has seen it without a lease twice."""
    assert recover_orphans(redis, [the_queue(redis)], grace=0.0) == []
    return recover_orphans(redis, [the_queue(redis)], grace=0.0)


def test_a_dead_workers_job_goes_back_to_the_front_of_its_queue(
    resident_worker: ResidentWorker, redis_conn: Redis
) -> None:
    orphan = enqueue_synth(redis_conn)
    waiting = enqueue_synth(redis_conn)
    start_as_a_dead_worker_would(redis_conn, orphan)
    queue = the_queue(redis_conn)

    assert recover_twice(redis_conn) == [orphan.id]
    assert queue.job_ids == [orphan.id, waiting.id]
    recovered = Job.fetch(orphan.id, connection=redis_conn, serializer=SERIALIZER)
    assert recovered.retries_left == JOB_RETRY_MAX - 1
    assert recovered.get_status() == JobStatus.QUEUED
    assert queue.started_job_registry.get_job_ids() == []
    assert recover_twice(redis_conn) == []


def test_a_job_taken_by_a_worker_killed_before_its_lease_goes_back(redis_conn: Redis) -> None:
    taken = enqueue_synth(redis_conn)
    waiting = enqueue_synth(redis_conn)
    assert take_as_a_dying_worker_would(redis_conn) == taken.id
    queue = the_queue(redis_conn)
    assert queue.job_ids == [waiting.id]  # in no queue: RQ would never run it again
    assert recover_twice(redis_conn) == [taken.id]
    assert queue.job_ids == [taken.id, waiting.id]
    assert redis_conn.llen(queue.intermediate_queue_key) == 0


def test_an_entry_seen_once_without_a_lease_is_given_its_grace(redis_conn: Redis) -> None:
    enqueue_synth(redis_conn)
    take_as_a_dying_worker_would(redis_conn)
    queue = the_queue(redis_conn)
    assert recover_orphans(redis_conn, [queue], grace=60.0) == []
    assert recover_orphans(redis_conn, [queue], grace=60.0) == []  # not 60 s apart yet
    assert redis_conn.llen(queue.intermediate_queue_key) == 1


def test_a_leased_job_is_left_alone(redis_conn: Redis) -> None:
    job = enqueue_synth(redis_conn)
    start_as_a_dead_worker_would(redis_conn, job)
    redis_conn.set(lease_key(job.id), "alive-worker", ex=15)
    assert recover_twice(redis_conn) == []
    assert the_queue(redis_conn).job_ids == []


def test_a_dead_workers_job_without_retries_fails_with_an_apology(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    job = enqueue_synth(redis_conn, retry=False)
    start_as_a_dead_worker_would(redis_conn, job)
    assert recover_twice(redis_conn) == [job.id]
    resident_worker.work(burst=True)  # its next run fails it, through the normal path
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert [o.error_code for o in outcomes(redis_conn)] == ["internal"]
    assert len(bot_api.calls_of("sendMessage")) == 1
    assert bot_api.calls_of("sendVoice") == []


def test_a_second_copy_of_a_job_that_runs_elsewhere_is_skipped(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    job = enqueue_synth(redis_conn)
    redis_conn.set(lease_key(job.id), "another-worker:live", ex=15)
    resident_worker.work(burst=True)
    assert bot_api.calls_of("sendVoice") == []
    assert outcomes(redis_conn) == []
    assert redis_conn.get(lease_key(job.id)) == b"another-worker:live"
    assert redis_conn.llen(the_queue(redis_conn).intermediate_queue_key) == 0


class Exploit:
    """What someone who can write to Redis would plant: unpickling it runs their code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (self.marker.touch, ())


def test_a_pickled_job_planted_in_redis_is_never_unpickled(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    job = enqueue_synth(redis_conn)
    planted = pickle.dumps((Exploit(marker), None, (), {}))
    redis_conn.hset(job.key, "data", zlib.compress(planted))
    pickle.loads(planted)
    assert marker.exists()  # the payload does work...
    marker.unlink()
    resident_worker.work(burst=True)  # ...but the worker reads jobs as JSON only
    assert not marker.exists()
    assert bot_api.calls_of("sendVoice") == []
    assert job.get_status(refresh=True) == JobStatus.FAILED
    honest = enqueue_synth(redis_conn)  # and the worker goes on working
    resident_worker.work(burst=True)
    assert honest.get_status(refresh=True) == JobStatus.FINISHED


def test_an_upload_without_an_answer_is_not_retried_and_the_user_is_told(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    bot_api.lose_answer_next("sendVoice")
    job = enqueue_synth(redis_conn)
    resident_worker.work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FAILED  # retries left, but not spent
    assert len(bot_api.calls_of("sendVoice")) == 1  # it may well have arrived: not sent again
    [outcome] = outcomes(redis_conn)
    assert outcome.error_code == "delivery_unknown"
    [told] = bot_api.calls_of("sendMessage")
    assert "did not confirm" in told.params["text"]


def test_a_job_timeout_during_the_upload_says_may_not_have_arrived_not_gave_up(
    resident_worker: ResidentWorker,
    redis_conn: Redis,
    bot_api: FakeBotAPI,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    the_queue(redis_conn).enqueue(SYNTH_JOB, synth_request())  # warm: imports, first encode
    resident_worker.work(burst=True)
    redis_conn.delete(RESULTS_LIST)
    send_voice = runtime.telegram.send_voice

    def slow_send_voice(*args: object, **kwargs: object) -> object:
        time.sleep(4)  # the job's time runs out while the note is on its way
        return send_voice(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime.telegram, "send_voice", slow_send_voice)
    request = {**synth_request(), "request_id": 10}
    job = the_queue(redis_conn).enqueue(SYNTH_JOB, request, job_timeout=3)
    resident_worker.work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FAILED
    [outcome] = outcomes(redis_conn)
    assert outcome.error_code == "delivery_unknown"
    [told] = bot_api.calls_of("sendMessage")
    assert "did not confirm" in told.params["text"]


def test_a_lease_that_lapsed_with_nobody_else_holding_it_is_taken_again_and_the_note_sent(
    resident_worker: ResidentWorker,
    redis_conn: Redis,
    bot_api: FakeBotAPI,
    tone_engine: ToneEngine,
) -> None:
    """Redis away longer than the lease's TTL (its keys expire meanwhile): when it is back, no
    other worker holds the job, so this one still sends it, once."""
    job = enqueue_synth(redis_conn)
    speak = tone_engine.speak

    def speak_while_the_lease_lapses(
        text: str, embedding: object, progress: object = None
    ) -> object:
        redis_conn.delete(lease_key(job.id))
        return speak(text, embedding)  # type: ignore[arg-type]

    tone_engine.speak = speak_while_the_lease_lapses  # type: ignore[method-assign]
    resident_worker.work(burst=True)
    assert len(bot_api.calls_of("sendVoice")) == 1
    assert [o.ok for o in outcomes(redis_conn)] == [True]
