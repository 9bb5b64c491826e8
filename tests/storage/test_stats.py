"""Admin figures: counts, requests per day, failure rate, median synthesis time."""

from __future__ import annotations

import statistics

import pytest

from storage import Storage

from .conftest import FakeClock, make_sample

DAY = 86_400.0


async def test_figures_count_what_was_done(storage: Storage, clock: FakeClock) -> None:
    clock.now = 1_790_035_200.0  # 2026-09-22 00:00 UTC
    for user_id in (1, 2, 3):
        await storage.users.ensure(user_id)
    await storage.users.set_blocked(3, True)
    voice = await storage.voices.create(1, "a", make_sample(1, audio=b"one"))
    public = await storage.voices.create(2, "b", make_sample(2))
    await storage.voices.publish(2, public.id)
    await storage.voices.create_curated("bank", make_sample(3))

    synth_times = []
    plan = {  # day offset -> list of (ok, synth seconds)
        -9: [(True, 100.0)],  # outside a 7-day window
        -2: [(True, 1.0), (False, None), (True, 3.0)],
        0: [(True, 2.0), (True, 10.0), (False, None), (None, None)],  # None: still queued
    }
    base = clock.now
    for offset, outcomes in plan.items():
        clock.now = base + offset * DAY + 3600
        for ok, synth in outcomes:
            request_id = await storage.requests.create(1, voice.id, 10)
            if ok is True:
                await storage.requests.mark_finished(
                    request_id, synth_seconds=synth, queue_seconds=0.5
                )
                if offset > -7:
                    synth_times.append(synth)
            elif ok is False:
                await storage.requests.mark_failed(request_id, "internal")
    clock.now = base + 7200

    stats = await storage.stats.summary(days=7)
    assert (stats.users, stats.blocked_users, stats.voices) == (3, 1, 3)
    assert stats.active_users == 3
    assert (stats.public_voices, stats.curated_voices, stats.recordings) == (2, 1, 1)
    assert stats.window_days == 7 and len(stats.per_day) == 7
    assert stats.per_day[-1].day == "2026-09-22" and stats.per_day[0].day == "2026-09-16"
    by_day = {d.day: (d.requests, d.failed) for d in stats.per_day}
    assert by_day["2026-09-20"] == (3, 1)
    assert by_day["2026-09-22"] == (4, 1)
    assert sum(d.requests for d in stats.per_day) == stats.requests == 7
    assert stats.failed == 2
    assert stats.failure_rate == pytest.approx(2 / 6)  # queued ones are not finished
    assert stats.median_synth_seconds == statistics.median(synth_times) == 2.5
    assert stats.median_queue_seconds == 0.5

    wide = await storage.stats.summary(days=30)
    assert wide.requests == 8 and len(wide.per_day) == 30


async def test_figures_of_an_empty_bot(storage: Storage) -> None:
    stats = await storage.stats.summary()
    assert (stats.users, stats.voices, stats.requests, stats.failure_rate) == (0, 0, 0, 0.0)
    assert stats.median_synth_seconds is None and stats.median_likeness is None
    assert all(d.requests == 0 for d in stats.per_day)


async def test_median_likeness_is_over_finished_requests_that_measured_one(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.users.ensure(1)
    voice = await storage.voices.create(1, "a", make_sample(1))
    measured = [0.91, 0.42, 0.77, 0.66]
    for likeness in (*measured, None):
        request_id = await storage.requests.create(1, voice.id, 10)
        await storage.requests.mark_finished(request_id, synth_seconds=1.0, likeness=likeness)
    failed = await storage.requests.create(1, voice.id, 10)
    await storage.requests.mark_failed(failed, "internal")
    clock.advance(-10 * DAY)  # outside the window: not counted
    old = await storage.requests.create(1, voice.id, 10)
    await storage.requests.mark_finished(old, likeness=0.01)
    clock.advance(10 * DAY)

    stats = await storage.stats.summary(days=7)
    assert stats.median_likeness == pytest.approx(statistics.median(measured))
