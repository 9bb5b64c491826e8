"""Recording files: content-addressed, written atomically, removed when nothing names them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from storage import Storage
from storage.facade import RECORDINGS_DIRNAME
from storage.files import sha256_hex
from storage.recordings import GARBAGE_MIN_AGE_SECONDS

from .conftest import FakeClock, make_sample


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_recording_is_stored_under_its_hash(storage: Storage, data_dir: Path) -> None:
    await storage.users.ensure(1)
    voice = await storage.voices.create(1, "v", make_sample())
    data = b"OggS" + bytes(range(256)) * 10
    recording = await storage.recordings.add(voice.id, data, "video_note", 3.25)
    digest = sha256_hex(data)
    expected = data_dir / RECORDINGS_DIRNAME / digest[:2] / f"{digest}.ogg"
    assert storage.recordings.path(recording) == expected
    assert expected.read_bytes() == data
    assert (recording.sha256, recording.kind, recording.duration, recording.size) == (
        digest,
        "video_note",
        3.25,
        len(data),
    )
    assert files_under(data_dir / RECORDINGS_DIRNAME) == [expected]  # no temporary leftovers


async def test_same_bytes_are_kept_once(storage: Storage, data_dir: Path) -> None:
    await storage.users.ensure(1)
    a = await storage.voices.create(1, "a", make_sample(1))
    b = await storage.voices.create(1, "b", make_sample(2))
    first = await storage.recordings.add(a.id, b"same", "voice", 1.0)
    second = await storage.recordings.add(b.id, b"same", "voice", 1.0)
    assert first.id != second.id and first.sha256 == second.sha256
    assert len(files_under(data_dir / RECORDINGS_DIRNAME)) == 1


async def test_deleting_voices_removes_files_only_when_unreferenced(
    storage: Storage, data_dir: Path
) -> None:
    await storage.users.ensure(1)
    await storage.users.ensure(2)
    a = await storage.voices.create(1, "a", make_sample(1, audio=b"shared"))
    b = await storage.voices.create(2, "b", make_sample(2, audio=b"shared"))
    await storage.recordings.add(a.id, b"only a", "audio", 2.0)
    [shared] = await storage.recordings.list_for_voice(b.id)
    shared_path = storage.recordings.path(shared)
    only_a = next(r for r in await storage.recordings.list_for_voice(a.id) if r.kind == "audio")
    only_a_path = storage.recordings.path(only_a)

    assert await storage.voices.delete(1, a.id)
    assert not only_a_path.exists()
    assert shared_path.read_bytes() == b"shared"  # voice b still names it
    assert await storage.recordings.list_for_voice(a.id) == []

    assert await storage.voices.delete(2, b.id)
    assert not shared_path.exists()
    assert files_under(data_dir / RECORDINGS_DIRNAME) == []


async def test_a_failed_add_leaves_no_file_and_no_row(storage: Storage, data_dir: Path) -> None:
    await storage.users.ensure(1)
    voice = await storage.voices.create(1, "v", make_sample())
    with pytest.raises(RuntimeError):
        # Storage's own transaction API (private to the package), to fail after the write.
        async with storage._db.transaction() as tx:
            await storage.recordings.insert(tx, voice.id, b"doomed", "voice", 1.0)
            assert len(files_under(data_dir / RECORDINGS_DIRNAME)) == 1
            raise RuntimeError("something later in the same operation failed")
    assert files_under(data_dir / RECORDINGS_DIRNAME) == []
    assert await storage.recordings.list_for_voice(voice.id) == []
    with pytest.raises(ValueError):
        await storage.recordings.add(voice.id, b"x", "voice", float("nan"))
    with pytest.raises(LookupError):
        await storage.recordings.add(31337, b"orphan", "voice", 1.0)
    with pytest.raises(ValueError):
        await storage.recordings.add(voice.id, b"", "voice", 1.0)
    with pytest.raises(ValueError):
        await storage.recordings.add(voice.id, b"bad ext", "voice", 1.0, ext="../x")
    assert files_under(data_dir / RECORDINGS_DIRNAME) == []


async def test_leftover_files_are_collected_at_start(data_dir: Path, clock: FakeClock) -> None:
    storage = await Storage.open(data_dir, clock=clock)
    await storage.users.ensure(1)
    voice = await storage.voices.create(1, "v", make_sample(audio=b"keep me"))
    [kept] = await storage.recordings.list_for_voice(voice.id)
    await storage.close()
    root = data_dir / RECORDINGS_DIRNAME
    orphan_digest = sha256_hex(b"orphan")
    orphan = root / orphan_digest[:2] / f"{orphan_digest}.ogg"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"orphan")
    interrupted = root / orphan_digest[:2] / ".tmp-abc123"
    interrupted.write_bytes(b"half")
    # Left by a crash long ago: files younger than GARBAGE_MIN_AGE_SECONDS are left alone.
    long_ago = time.time() - 2 * GARBAGE_MIN_AGE_SECONDS
    for path in (orphan, interrupted):
        os.utime(path, (long_ago, long_ago))

    storage = await Storage.open(data_dir, clock=clock)
    try:
        assert not orphan.exists() and not interrupted.exists()
        assert await storage.recordings.read(kept) == b"keep me"
    finally:
        await storage.close()
