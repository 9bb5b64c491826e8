"""Many handlers at once: no "database is locked", no lost or half-done operation."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from storage import Storage

from .conftest import FakeClock, make_sample

USERS = 20


async def test_two_hundred_concurrent_operations_all_succeed(storage: Storage) -> None:
    await asyncio.gather(*(storage.users.ensure(u) for u in range(USERS)))
    voices = await asyncio.gather(
        *(
            storage.voices.create(u, f"voice {u}", make_sample(u, audio=f"clip {u}".encode()))
            for u in range(USERS)
        )
    )
    rng = random.Random(7)
    created_requests: list[int] = []

    async def speak(user_id: int) -> None:
        request_id = await storage.requests.create(user_id, voices[user_id].id, 10)
        created_requests.append(request_id)
        await storage.requests.mark_started(request_id)
        await storage.requests.mark_finished(request_id, synth_seconds=1.0)

    async def refine(user_id: int) -> None:
        sample = make_sample(1000 + rng.randrange(10**6), audio=rng.randbytes(64))
        assert await storage.voices.add_sample(user_id, voices[user_id].id, sample) is not None

    async def browse(user_id: int) -> None:
        await storage.voices.bank_page(rng.randrange(3), 5)
        await storage.voices.get_usable(user_id, voices[rng.randrange(USERS)].id)
        await storage.requests.count_recent(user_id, 60)

    async def toggle(user_id: int) -> None:
        await storage.voices.publish(user_id, voices[user_id].id)
        await storage.users.set_active_voice((user_id + 1) % USERS, voices[user_id].id)

    async def settings(user_id: int) -> None:
        await storage.users.set_output_format(user_id, rng.choice(["voice", "mp3"]))
        await storage.users.ensure(user_id)

    async def stats(_: int) -> None:
        await storage.stats.summary()

    kinds: list[Callable[[int], Awaitable[None]]] = [speak, refine, browse, toggle, settings, stats]
    jobs = [kinds[i % len(kinds)](i % USERS) for i in range(200)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []

    # Nothing was lost or half-applied.
    expected_speaks = sum(1 for i in range(200) if i % len(kinds) == 0)
    assert len(set(created_requests)) == expected_speaks
    for request_id in created_requests:
        request = await storage.requests.get(request_id)
        assert request is not None and request.status == "done"
    refines_per_user = [0] * USERS
    for i in range(200):
        if i % len(kinds) == 1:
            refines_per_user[i % USERS] += 1
    for user_id in range(USERS):
        voice = await storage.voices.get_owned(user_id, voices[user_id].id)
        assert voice is not None and voice.sample_count == 1 + refines_per_user[user_id]
        recordings = await storage.recordings.list_for_voice(voice.id)
        assert len(recordings) == voice.sample_count
        for recording in recordings:
            assert storage.recordings.path(recording).is_file()


async def test_an_outside_writer_makes_the_bot_wait_not_fail(
    data_dir: Path, clock: FakeClock
) -> None:
    """A backup or the sqlite3 shell holding the write lock briefly: the busy timeout waits."""
    storage = await Storage.open(data_dir, clock=clock)
    try:
        await storage.users.ensure(1)
        locked, release = threading.Event(), threading.Event()

        def hold_write_lock() -> None:
            conn = sqlite3.connect(storage.db_path, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE users SET language = 'de' WHERE id = 1")
                locked.set()
                release.wait(10)
                conn.execute("COMMIT")
            finally:
                conn.close()

        holder = threading.Thread(target=hold_write_lock)
        holder.start()
        await asyncio.to_thread(locked.wait, 10)
        writes = asyncio.gather(*(storage.users.ensure(u) for u in range(2, 12)))
        await asyncio.sleep(0.2)  # the writes are now waiting on the outside lock
        release.set()
        await writes
        await asyncio.to_thread(holder.join, 10)
        assert await storage.users.count() == 11
        user = await storage.users.get(1)
        assert user is not None and user.language == "de"
    finally:
        await storage.close()


async def test_outside_readers_see_committed_data_while_the_bot_writes(storage: Storage) -> None:
    await storage.users.ensure(1)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read_loop() -> None:
        conn = sqlite3.connect(storage.db_path, timeout=0)  # no busy wait: WAL must not block
        try:
            while not stop.is_set():
                seen.append(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        await asyncio.gather(*(storage.users.ensure(u) for u in range(2, 102)))
    finally:
        stop.set()
        await asyncio.to_thread(reader.join, 10)
    assert errors == []
    assert seen and seen == sorted(seen)  # counts only grow: no half-committed state
    assert await storage.users.count() == 101


async def test_cancelled_handlers_leave_rows_and_files_consistent(
    storage: Storage, data_dir: Path
) -> None:
    await storage.users.ensure(1)
    voice = await storage.voices.create(1, "v", make_sample(0))
    rng = random.Random(3)

    async def refine(i: int) -> None:
        await storage.voices.add_sample(1, voice.id, make_sample(i, audio=rng.randbytes(32)))

    for round_ in range(5):
        tasks = [asyncio.create_task(refine(100 * round_ + i)) for i in range(20)]
        for _ in range(rng.randrange(1, 30)):
            await asyncio.sleep(0)
        for task in tasks[::3]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # The connection is usable (no transaction left open), and rows match files exactly.
    await storage.users.ensure(2)
    refined = await storage.voices.get_owned(1, voice.id)
    assert refined is not None
    recordings = await storage.recordings.list_for_voice(voice.id)
    assert len(recordings) == refined.sample_count - 1
    on_disk = {p.name for p in (data_dir / "recordings").rglob("*") if p.is_file()}
    assert on_disk == {f"{r.sha256}.{r.ext}" for r in recordings}
    assert await storage.recordings.collect_garbage() == 0
