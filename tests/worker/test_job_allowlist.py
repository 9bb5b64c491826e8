"""The worker runs only the project's job functions (worker.api.JOB_FUNCTIONS).

A JSON job names the function to import and call; whoever can write to Redis can name any.
The worker refuses a job naming anything else without importing it, logs it once as an
attack, deletes it and goes on serving the queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from tests.fakes.botapi import FakeBotAPI
from tests.fakes.processes import Processes, service_env, wait_for_ready_worker, wait_until
from tests.fakes.weights import make_tiny_weights_dir
from tests.worker.test_failure_policy import enqueue_synth
from worker.api import QUEUE, SERIALIZER, SYNTH_JOB, SynthRequest
from worker.queue.resident import ResidentWorker

ALLOWLIST_DB = 12  # this module's database on the session's Redis server


def plant(redis: Redis, job_id: str, data: list[object], **fields: str) -> None:
    """What an attacker with write access to Redis does: a job hash of their own, queued."""
    queue = Queue(QUEUE, connection=redis, serializer=SERIALIZER)
    redis.hset(
        Job.key_for(job_id),
        mapping={
            "data": json.dumps(data),
            "status": "queued",
            "origin": QUEUE,
            "created_at": "2026-12-05T10:00:00.000000Z",
            "enqueued_at": "2026-12-05T10:00:00.000000Z",
            "timeout": "60",
            **fields,
        },
    )
    redis.rpush(queue.key, job_id)


@pytest.fixture
def db_url(redis_url: str) -> Iterator[str]:
    url = f"{redis_url.rstrip('/')}/{ALLOWLIST_DB}"
    with Redis.from_url(url) as client:
        client.flushdb()
        yield url
        client.flushdb()


@pytest.mark.slow
def test_a_planted_os_system_job_is_refused_unimported_and_the_next_job_is_served(
    db_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    with (
        FakeBotAPI() as api,
        Processes(tmp_path / "logs") as procs,
        Redis.from_url(db_url) as redis_db,
    ):
        env = service_env(
            bot_api=api,
            redis_url=db_url,
            data_dir=tmp_path / "data",
            weights_dir=make_tiny_weights_dir(tmp_path / "weights"),
        )
        plant(redis_db, "evil", ["os.system", None, [f"id > {marker}"], {}])
        worker = procs.start_worker(env)
        wait_for_ready_worker(redis_db, 120, pid=worker.pid)
        request = SynthRequest(
            request_id=1,
            user_id=5151,
            chat_id=5151,
            reply_to_message_id=None,
            text="Hello.",
            embedding=[1.0] + [0.0] * 255,
            enqueued_at=time.time(),
        )
        Queue(QUEUE, connection=redis_db, serializer=SERIALIZER).enqueue(
            SYNTH_JOB, request.to_dict(), job_id="synth-1", result_ttl=0
        )
        api.wait_for("sendVoice", lambda c: c.params["chat_id"] == 5151, timeout=120)
        assert not marker.exists()
        assert not redis_db.exists(Job.key_for("evil"))
        log = worker.output()
        attacks = [line for line in log.splitlines() if " WARNING " in line]
        assert len(attacks) == 1 and "evil" in attacks[0] and "os.system" in attacks[0], log
        assert worker.running()


@pytest.fixture
def in_process_worker(
    runtime: object, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ResidentWorker]:
    import signal

    import worker.jobs

    monkeypatch.setattr(worker.jobs, "resident_runtime", lambda: runtime)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield ResidentWorker([QUEUE], runtime=runtime, connection=redis_conn)  # type: ignore[arg-type]
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (["builtins.exec", None, ["open('MARKER', 'w')"], {}], {}),
        (["worker.jobs.synth_job", "a string", [{}], {}], {}),
        ([SYNTH_JOB, None, [{}], {}], {"failure_callback_name": "builtins.exec"}),
        ([["not", "a", "name"], None, [], {}], {}),
    ],
    ids=["another-function", "an-instance", "a-callback", "a-list-for-a-name"],
)
def test_a_job_naming_anything_else_is_deleted_unrun_and_the_worker_goes_on(
    in_process_worker: ResidentWorker,
    redis_conn: Redis,
    bot_api: FakeBotAPI,
    tmp_path: Path,
    data: list[object],
    fields: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    marker = tmp_path / "marker"
    planted = json.loads(json.dumps(data).replace("MARKER", str(marker)))
    plant(redis_conn, "planted", planted, **fields)
    honest = enqueue_synth(redis_conn)
    with caplog.at_level("WARNING", logger="worker.queue.resident"):
        in_process_worker.work(burst=True)
    assert not marker.exists()
    assert not redis_conn.exists(Job.key_for("planted"))
    refusals = [r for r in caplog.records if "planted" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelname == "WARNING"
    wait_until(lambda: bot_api.calls_of("sendVoice"), 10, "the honest job's voice note")
    assert honest.get_status(refresh=True) == "finished"
