"""Issue 21: a synth job's progress, written cheaply to Redis, with a time left measured on
this worker's recent jobs (worker/progress.py), and read back untrusted (worker.api)."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from worker.api import JobProgress, progress_key
from worker.api.keys import cancel_key
from worker.progress import JobPace, ProgressReport, Stopped, seconds_left


def test_the_time_left_is_unknown_until_something_was_measured() -> None:
    assert seconds_left(1.0, 0.01, None) is None
    assert seconds_left(1.0, 0.0, 30.0) == pytest.approx(29.0)  # the recent jobs' rate
    assert seconds_left(10.0, 0.5, None) == pytest.approx(10.0)  # this job's own rate
    # Half-way, half of each: (0.5 * 30 + 0.5 * 20) - 10.
    assert seconds_left(10.0, 0.5, 30.0) == pytest.approx(15.0)
    assert seconds_left(50.0, 0.9, 30.0) == pytest.approx(
        0.0 + max(0.0, 0.1 * 30 + 0.9 * 50 / 0.9 - 50)
    )


def test_the_pace_is_a_moving_average_of_the_jobs_this_worker_ran() -> None:
    pace = JobPace(weight=0.5)
    assert pace.expected_seconds(100) is None
    pace.learn(100, 10.0, 0.2)
    assert pace.expected_seconds(100) == pytest.approx(10.0)
    pace.learn(100, 30.0, 0.4)
    assert pace.expected_seconds(100) == pytest.approx(20.0)
    assert 0.25 < pace.synth_share < 0.4
    pace.learn(0, 5.0, None)  # nothing to learn from
    assert pace.expected_seconds(100) == pytest.approx(20.0)


def test_progress_is_written_a_few_times_a_job_and_read_back(worker_redis_url: str) -> None:
    redis = Redis.from_url(worker_redis_url)
    pace = JobPace()
    key = progress_key("synth-77")
    report = ProgressReport(redis, "synth-77", 200, pace, every=0.05)
    seen: list[JobProgress] = []

    def look() -> None:
        found = JobProgress.from_hash(redis.hgetall(key))
        if found is not None and (not seen or seen[-1] != found):
            seen.append(found)

    with report:
        for step in range(1, 21):
            report.stage(
                "synthesizer" if step <= 5 else "vocoder",
                step / 5 if step <= 5 else (step - 5) / 15,
            )
            time.sleep(0.02)
            look()
        # The writer runs every 50 ms, on its own thread: wait (not a fixed sleep) for its
        # round after the last stage, which a loaded machine may delay past the loop's end.
        deadline = time.monotonic() + 5
        while (not seen or seen[-1].percent != 99) and time.monotonic() < deadline:
            time.sleep(0.01)
            look()
    assert 3 <= report.writes <= 20  # at most one write per 50 ms, only on a change
    assert seen and [p.percent for p in seen] == sorted(p.percent for p in seen)
    assert seen[-1].percent == 99  # 100 % is only the note itself
    assert seen[-1].seconds_left is not None  # the job's own rate, past 5 %
    assert 0 < redis.ttl(key) <= 15 * 60
    assert pace.expected_seconds(200) is not None  # the worker learned from this job
    report.clear()
    assert not redis.exists(key)


@pytest.mark.parametrize(
    "data",
    [{}, {"percent": "x"}, {"percent": "101"}, {"percent": "-1"}, {b"left": b"3"}],
)
def test_unreadable_progress_from_redis_is_none(data: dict) -> None:  # type: ignore[type-arg]
    assert JobProgress.from_hash(data) is None


def test_progress_from_redis_is_bounded() -> None:
    assert JobProgress.from_hash({b"percent": b"40", b"left": b"30"}) == JobProgress(40, 30)
    assert JobProgress.from_hash({"percent": "40", "left": "-1"}) == JobProgress(40, None)
    assert JobProgress.from_hash({"percent": "5", "left": "999999999"}) == JobProgress(5, 86400)


def test_a_cancel_stops_the_engine_at_its_next_report(worker_redis_url: str) -> None:
    redis = Redis.from_url(worker_redis_url)
    pace = JobPace()
    report = ProgressReport(redis, "synth-78", 100, pace, every=0.02)
    with pytest.raises(Stopped), report:
        report.stage("synthesizer", 0.5)
        redis.set(cancel_key("synth-78"), 1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            report.stage("vocoder", 0.1)
            time.sleep(0.01)
    assert pace.expected_seconds(100) is None  # a job cut short teaches nothing
    report.clear()
