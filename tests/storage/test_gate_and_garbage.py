"""Issue 18, storage side: one gate for checks and requests; the voice cap counted as a voice is
made; garbage collection that a process writing beside it cannot lose a file to."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from storage import AdmissionLimits, Refusal, Storage, VoiceLimitError
from storage.facade import RECORDINGS_DIRNAME
from storage.files import sha256_hex

from .conftest import FakeClock, make_sample

LIMITS = AdmissionLimits(max_active_per_user=1, per_minute=10, max_queued=2, max_voices_per_user=2)


async def test_a_check_with_a_request_open_is_refused_as_busy_and_the_other_way_round(
    storage: Storage,
) -> None:
    await storage.users.ensure(1)
    admitted = await storage.requests.admit(1, None, 10, LIMITS)
    assert admitted.request_id is not None
    assert await storage.requests.admit_check(1, "t1", LIMITS) is Refusal.busy
    await storage.requests.mark_finished(admitted.request_id)

    assert await storage.requests.admit_check(1, "t1", LIMITS) is None
    assert (await storage.requests.admit(1, None, 10, LIMITS)).refusal is Refusal.busy
    assert await storage.requests.admit_check(1, "t2", LIMITS) is Refusal.busy
    assert await storage.requests.open_check(1) == "t1"
    assert await storage.requests.end_check("t1")
    assert (await storage.requests.admit(1, None, 10, LIMITS)).request_id is not None


async def test_checks_count_toward_the_global_cap(storage: Storage) -> None:
    for user_id in (1, 2, 3):
        await storage.users.ensure(user_id)
    assert await storage.requests.admit_check(1, "a", LIMITS) is None
    assert (await storage.requests.admit(2, None, 10, LIMITS)).request_id is not None
    # Two open (a check and a request) of a cap of two: a third of either kind is refused.
    assert await storage.requests.admit_check(3, "c", LIMITS) is Refusal.full
    assert (await storage.requests.admit(3, None, 10, LIMITS)).refusal is Refusal.full


async def test_twenty_checks_and_requests_at_once_admit_one(storage: Storage) -> None:
    await storage.users.ensure(1)
    checks = [storage.requests.admit_check(1, f"t{n}", LIMITS) for n in range(10)]
    says = [storage.requests.admit(1, None, 10, LIMITS) for _ in range(10)]
    results = await asyncio.gather(*checks, *says)
    admitted = [r for r in results[:10] if r is None]
    admitted += [r for r in results[10:] if r.request_id is not None]  # type: ignore[union-attr]
    assert len(admitted) == 1


async def test_open_checks_end_with_the_process_and_with_forget(
    data_dir: Path, clock: FakeClock
) -> None:
    storage = await Storage.open(data_dir, clock=clock)
    await storage.users.ensure(1)
    await storage.users.ensure(2)
    assert await storage.requests.admit_check(1, "gone-at-restart", LIMITS) is None
    assert await storage.requests.admit_check(2, "forgotten", LIMITS) is None
    assert await storage.requests.end_checks_of(2) == ["forgotten"]
    assert await storage.requests.open_check(2) is None
    await storage.close()
    # Nobody awaits a check after a restart: its slot is free.
    storage = await Storage.open(data_dir, clock=clock)
    try:
        assert await storage.requests.open_check(1) is None
        assert (await storage.requests.admit(1, None, 10, LIMITS)).request_id is not None
    finally:
        await storage.close()


async def test_a_mix_made_while_a_recording_is_listened_to_cannot_pass_the_voice_cap(
    storage: Storage,
) -> None:
    await storage.users.ensure(1)
    first = await storage.voices.create(1, "first", make_sample(1))
    # A recording for a new voice is admitted: one voice of two.
    admitted = await storage.requests.admit(1, None, 0, LIMITS, kind="embed", new_voice=True)
    assert admitted.request_id is not None
    public = await storage.voices.create_curated("bank", make_sample(2))
    # While the worker listens, a /mix takes the last place.
    made = await storage.mixes.create(1, first.id, public.id, 0.5, "mix", max_voices=2)
    assert made.voice is not None
    # The recording's voice is refused as it is made, not stored as a third.
    with pytest.raises(VoiceLimitError):
        await storage.voices.create(1, "late", make_sample(3), max_voices=2)
    assert len(await storage.voices.list_owned(1)) == 2


def _orphan(root: Path, data: bytes, age_seconds: float) -> Path:
    digest = sha256_hex(data)
    path = root / digest[:2] / f"{digest}.ogg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


async def test_garbage_collection_leaves_a_file_another_process_has_not_committed_yet(
    storage: Storage, data_dir: Path
) -> None:
    root = data_dir / RECORDINGS_DIRNAME
    # A bank import beside the bot has written this file and not yet committed its row.
    being_written = _orphan(root, b"written a moment ago", age_seconds=1)
    temporary = being_written.parent / ".tmp-in-progress"
    temporary.write_bytes(b"half")
    left_by_a_crash = _orphan(root, b"written an hour ago", age_seconds=3600)
    assert await storage.recordings.collect_garbage() == 1
    assert being_written.exists() and temporary.exists()
    assert not left_by_a_crash.exists()


async def test_garbage_collection_does_not_follow_symbolic_links(
    storage: Storage, data_dir: Path, tmp_path: Path
) -> None:
    root = data_dir / RECORDINGS_DIRNAME
    elsewhere = tmp_path / "elsewhere"
    outside = _orphan(elsewhere, b"not the store's", age_seconds=3600)
    shard = outside.parent.name
    root.mkdir(parents=True, exist_ok=True)
    (root / shard).symlink_to(outside.parent, target_is_directory=True)
    other = _orphan(elsewhere, b"another one", age_seconds=3600)
    real_shard = root / other.parent.name
    real_shard.mkdir(exist_ok=True)
    (real_shard / other.name).symlink_to(other)
    assert await storage.recordings.collect_garbage(min_age_seconds=0) == 0
    assert outside.exists() and other.exists()
    assert (real_shard / other.name).is_symlink()
