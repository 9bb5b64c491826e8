"""Requests: the life cycle, worker outcomes, and the counts the rate limits read."""

from __future__ import annotations

import asyncio

import pytest

from storage import Admission, AdmissionLimits, Refusal, RequestStatus, Storage
from worker.api import SynthOutcome

from .conftest import FakeClock, make_sample


@pytest.fixture
async def ready(storage: Storage) -> tuple[Storage, int]:
    await storage.users.ensure(1)
    await storage.users.ensure(2)
    voice = await storage.voices.create(1, "v", make_sample())
    return storage, voice.id


async def test_a_request_starts_queued_and_counts_as_active(ready: tuple[Storage, int]) -> None:
    storage, voice_id = ready
    request_id = await storage.requests.create(1, voice_id, 120)
    request = await storage.requests.get(request_id)
    assert request is not None
    assert (request.status, request.user_id, request.voice_id, request.text_length) == (
        RequestStatus.queued,
        1,
        voice_id,
        120,
    )
    assert await storage.requests.count_active(1) == 1
    assert await storage.requests.count_active(2) == 0
    assert await storage.requests.mark_started(request_id, queue_seconds=0.5)
    running = await storage.requests.get(request_id)
    assert running is not None and running.status == "running" and running.queue_seconds == 0.5
    assert await storage.requests.count_active(1) == 1
    assert [r.id for r in await storage.requests.list_active(1)] == [request_id]


async def test_a_successful_outcome_records_its_timings(
    ready: tuple[Storage, int], clock: FakeClock
) -> None:
    storage, voice_id = ready
    request_id = await storage.requests.create(1, voice_id, 10)
    clock.advance(9)
    outcome = SynthOutcome(
        request_id=request_id,
        user_id=1,
        ok=True,
        queue_seconds=2.0,
        synth_seconds=3.5,
        audio_seconds=4.25,
        total_seconds=7.0,
        sent_message_id=55,
    )
    assert await storage.requests.record_outcome(outcome)
    done = await storage.requests.get(request_id)
    assert done is not None and done.status == RequestStatus.done
    assert (done.queue_seconds, done.synth_seconds, done.audio_seconds, done.total_seconds) == (
        2.0,
        3.5,
        4.25,
        7.0,
    )
    assert done.error_code is None
    assert done.finished_at is not None and done.finished_at.timestamp() == clock.now
    # never marked started: the start is inferred from the queue time
    assert done.started_at is not None
    assert done.started_at.timestamp() == done.created_at.timestamp() + 2.0
    assert await storage.requests.count_active(1) == 0


async def test_a_failed_outcome_keeps_its_error_code(ready: tuple[Storage, int]) -> None:
    storage, voice_id = ready
    request_id = await storage.requests.create(1, voice_id, 10)
    await storage.requests.mark_started(request_id)
    outcome = SynthOutcome(request_id=request_id, user_id=1, ok=False, error_code="nothing_to_say")
    assert await storage.requests.record_outcome(outcome)
    failed = await storage.requests.get(request_id)
    assert failed is not None
    assert (failed.status, failed.error_code) == (RequestStatus.failed, "nothing_to_say")
    no_code = await storage.requests.create(1, voice_id, 10)
    await storage.requests.record_outcome(SynthOutcome(request_id=no_code, user_id=1, ok=False))
    fallback = await storage.requests.get(no_code)
    assert fallback is not None and fallback.error_code == "internal"


async def test_a_late_outcome_does_not_undo_a_cancellation(ready: tuple[Storage, int]) -> None:
    storage, voice_id = ready
    request_id = await storage.requests.create(1, voice_id, 10)
    assert await storage.requests.mark_cancelled(request_id)
    assert await storage.requests.count_active(1) == 0
    late = SynthOutcome(request_id=request_id, user_id=1, ok=True, synth_seconds=1.0)
    assert not await storage.requests.record_outcome(late)
    assert not await storage.requests.mark_started(request_id)
    request = await storage.requests.get(request_id)
    assert request is not None and request.status == RequestStatus.cancelled
    assert request.synth_seconds is None
    assert not await storage.requests.mark_finished(9999)


async def test_recent_count_slides_with_time(ready: tuple[Storage, int], clock: FakeClock) -> None:
    storage, voice_id = ready
    for _ in range(3):
        await storage.requests.create(1, voice_id, 5)
        clock.advance(20)
    # made at t-60, t-40, t-20
    assert await storage.requests.count_recent(1, 60) == 2
    assert await storage.requests.count_recent(1, 61) == 3
    assert await storage.requests.count_recent(1, 30) == 1
    assert await storage.requests.count_recent(2, 3600) == 0
    clock.advance(3600)
    assert await storage.requests.count_recent(1, 60) == 0


async def test_stale_requests_expire_so_users_are_not_stuck(
    ready: tuple[Storage, int], clock: FakeClock
) -> None:
    storage, voice_id = ready
    old = await storage.requests.create(1, voice_id, 5)
    clock.advance(1000)
    fresh = await storage.requests.create(1, voice_id, 5)
    assert await storage.requests.expire_stale(600) == 1
    expired, kept = await storage.requests.get(old), await storage.requests.get(fresh)
    assert expired is not None and expired.status == "failed" and expired.error_code == "internal"
    assert kept is not None and kept.status == "queued"
    assert await storage.requests.count_active(1) == 1


async def test_malformed_inputs_are_refused(ready: tuple[Storage, int]) -> None:
    storage, voice_id = ready
    with pytest.raises(ValueError):
        await storage.requests.create(1, voice_id, -1)
    request_id = await storage.requests.create(1, voice_id, 1)
    with pytest.raises(ValueError):
        await storage.requests.mark_failed(request_id, "")


# --- admission: limits checked and the row made in one step ---------------------------------

LIMITS = AdmissionLimits(max_active_per_user=1, per_minute=3, max_queued=5, max_voices_per_user=2)


async def test_of_twenty_requests_at_once_exactly_one_is_admitted(storage: Storage) -> None:
    await storage.users.ensure(1)
    results = await asyncio.gather(
        *(storage.requests.admit(1, None, 10, LIMITS) for _ in range(20))
    )
    admitted = [r for r in results if r.request_id is not None]
    assert len(admitted) == 1
    assert {r.refusal for r in results if r.request_id is None} == {Refusal.busy}
    assert await storage.requests.count_active(1) == 1


async def test_the_minute_budget_counts_recordings_and_speech_together(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.users.ensure(1)
    for kind in ("embed", "synth", "synth"):
        admission = await storage.requests.admit(1, None, 0, LIMITS, kind=kind)  # type: ignore[arg-type]
        assert admission.request_id is not None
        await storage.requests.mark_cancelled(admission.request_id)
    refused = await storage.requests.admit(1, None, 0, LIMITS, kind="embed")
    assert refused == Admission(None, Refusal.rate)
    clock.advance(61)
    assert (await storage.requests.admit(1, None, 0, LIMITS)).request_id is not None


async def test_the_global_cap_refuses_everyone_once_reached(storage: Storage) -> None:
    for user in range(1, 8):
        await storage.users.ensure(user)
    results = [await storage.requests.admit(user, None, 1, LIMITS) for user in range(1, 8)]
    assert [r.refusal for r in results] == [None] * 5 + [Refusal.full] * 2
    assert await storage.requests.count_open() == 5


async def test_a_recording_for_a_new_voice_is_refused_at_the_voice_cap(storage: Storage) -> None:
    await storage.users.ensure(1)
    for seed in range(2):
        await storage.voices.create(1, f"v{seed}", make_sample(seed))
    refused = await storage.requests.admit(1, None, 0, LIMITS, kind="embed", new_voice=True)
    assert refused.refusal is Refusal.voices
    refining = await storage.requests.admit(1, None, 0, LIMITS, kind="embed")
    assert refining.request_id is not None  # adding a recording to a voice is fine


async def test_open_requests_of_every_user_are_listed_by_age(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.users.ensure(1)
    await storage.users.ensure(2)
    first = await storage.requests.create(1, None, 1)
    clock.advance(30)
    second = await storage.requests.create(2, None, 1, kind="embed")
    assert [r.id for r in await storage.requests.list_open()] == [first, second]
    assert [r.id for r in await storage.requests.list_open(older_than_seconds=10)] == [first]
    assert (await storage.requests.get(second)).kind == "embed"  # type: ignore[union-attr]


async def test_a_successful_outcome_records_its_likeness_within_a_cosines_range(
    ready: tuple[Storage, int],
) -> None:
    storage, voice_id = ready
    # float32 rounding can put a cosine a hair past 1; a NaN is no figure at all. Neither may
    # keep the outcome from being recorded.
    for sent, kept in ((0.8125, 0.8125), (1.0000001, 1.0), (-3.0, -1.0), (float("nan"), None)):
        request_id = await storage.requests.create(1, voice_id, 10)
        outcome = SynthOutcome(request_id=request_id, user_id=1, ok=True, likeness=sent)
        assert await storage.requests.record_outcome(outcome)
        row = await storage.requests.get(request_id)
        assert row is not None and row.status == RequestStatus.done
        assert row.likeness == kept
    failed_id = await storage.requests.create(1, voice_id, 10)
    await storage.requests.record_outcome(
        SynthOutcome(request_id=failed_id, user_id=1, ok=False, error_code="internal")
    )
    failed = await storage.requests.get(failed_id)
    assert failed is not None and failed.likeness is None
