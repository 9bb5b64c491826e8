"""Recordings: the reference audio behind each voice, kept as content-addressed files.

A file may be named by several rows (the same recording sent for two voices, or by two
users); it is removed when the last row naming it is deleted, after that deletion commits.
Every write runs under the database lock, so a file cannot be removed between another
task's check and its insert.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from storage._time import to_datetime
from storage.db import Database, Tx
from storage.files import FileKey, FileStore
from storage.models import Recording

log = logging.getLogger(__name__)

MAX_KIND_CHARS = 32
# A write commits its row within seconds of writing its file; ten minutes is far past that.
GARBAGE_MIN_AGE_SECONDS = 600.0

_COLUMNS = "id, voice_id, sha256, ext, kind, duration, size, created_at"


def _recording(row: sqlite3.Row) -> Recording:
    return Recording(
        id=row["id"],
        voice_id=row["voice_id"],
        sha256=row["sha256"],
        ext=row["ext"],
        kind=row["kind"],
        duration=row["duration"],
        size=row["size"],
        created_at=to_datetime(row["created_at"]),
    )


def _check_kind(kind: str) -> str:
    if not kind or len(kind) > MAX_KIND_CHARS or not kind.isascii():
        raise ValueError(f"bad recording kind {kind!r}")
    return kind


class Recordings:
    def __init__(self, db: Database, files: FileStore) -> None:
        self._db = db
        self._files = files

    async def add(
        self, voice_id: int, data: bytes, kind: str, duration: float, ext: str = "ogg"
    ) -> Recording:
        """Keep `data` as a recording of `voice_id`.

        The caller has checked that the voice is the user's (`voices.get_owned`). Raises
        LookupError when the voice does not exist.
        """
        async with self._db.transaction() as tx:
            return await self.insert(tx, voice_id, data, kind, duration, ext)

    async def list_for_voice(self, voice_id: int) -> list[Recording]:
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM recordings WHERE voice_id = ? ORDER BY id", (voice_id,)
            )
        return [_recording(row) for row in rows]

    def path(self, recording: Recording) -> Path:
        return self._files.path(FileKey(recording.sha256, recording.ext))

    async def read(self, recording: Recording) -> bytes:
        return await asyncio.to_thread(self._files.read, FileKey(recording.sha256, recording.ext))

    async def collect_garbage(self, min_age_seconds: float = GARBAGE_MIN_AGE_SECONDS) -> int:
        """Remove files no row names (left by a crash between commit and removal), of those
        written over `min_age_seconds` ago: a younger one may belong to a write that another
        process (a bank import beside the bot) has not committed yet (FileStore.keys)."""
        async with self._db.reading() as tx:
            rows = await tx.fetch_all("SELECT DISTINCT sha256, ext FROM recordings")
            named = {FileKey(row["sha256"], row["ext"]) for row in rows}
            on_disk = await asyncio.to_thread(lambda: list(self._files.keys(min_age_seconds)))
            orphans = [key for key in on_disk if key not in named]
            for key in orphans:
                await asyncio.to_thread(self._files.remove, key)
        if orphans:
            log.info("removed %d unreferenced recording files", len(orphans))
        return len(orphans)

    # The methods below run inside a transaction that another aggregate opened.

    async def insert(
        self, tx: Tx, voice_id: int, data: bytes, kind: str, duration: float, ext: str = "ogg"
    ) -> Recording:
        if not data:
            raise ValueError("recording is empty")
        _check_kind(kind)
        duration = float(duration)
        if not duration >= 0:
            raise ValueError("recording duration must be a non-negative number")
        if await tx.fetch_value("SELECT 1 FROM voices WHERE id = ?", (voice_id,)) is None:
            raise LookupError(f"no voice {voice_id}")
        # The write runs to its end in its thread even if this task is cancelled, so the
        # rollback hook waits for it and then removes the file unless a row names it (a
        # commit interrupted by cancellation may have gone through after all).
        write = asyncio.ensure_future(asyncio.to_thread(self._files.write, data, ext))
        tx.on_rollback(lambda: self._discard_write(tx, write))
        key, _ = await asyncio.shield(write)
        _, row_id = await tx.execute(
            "INSERT INTO recordings (voice_id, sha256, ext, kind, duration, size, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (voice_id, key.sha256, key.ext, kind, duration, len(data), tx.now),
        )
        row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM recordings WHERE id = ?", (row_id,))
        assert row is not None
        return _recording(row)

    async def keys_of_voice(self, tx: Tx, voice_id: int) -> set[FileKey]:
        rows = await tx.fetch_all(
            "SELECT DISTINCT sha256, ext FROM recordings WHERE voice_id = ?", (voice_id,)
        )
        return {FileKey(row["sha256"], row["ext"]) for row in rows}

    async def keys_of_owner(self, tx: Tx, owner_id: int) -> set[FileKey]:
        rows = await tx.fetch_all(
            "SELECT DISTINCT r.sha256, r.ext FROM recordings AS r"
            " JOIN voices AS v ON v.id = r.voice_id WHERE v.owner_id = ?",
            (owner_id,),
        )
        return {FileKey(row["sha256"], row["ext"]) for row in rows}

    def remove_orphans_after_commit(self, tx: Tx, keys: Iterable[FileKey]) -> list[int]:
        """Once `tx` commits, remove those of `keys` that no row names any more.

        Returns a one-element list that will hold the number of files removed.
        """
        candidates = set(keys)
        removed = [0]

        async def hook() -> None:
            removed[0] = await self._remove_unnamed(tx, candidates)

        if candidates:
            tx.after_commit(hook)
        return removed

    async def _discard_write(self, tx: Tx, write: asyncio.Future[tuple[FileKey, bool]]) -> None:
        try:
            key, _ = await write
        except Exception:
            return  # nothing was written: FileStore.write cleans up after itself
        await self._remove_unnamed(tx, [key])

    async def _is_named(self, tx: Tx, key: FileKey) -> bool:
        value = await tx.fetch_value(
            "SELECT 1 FROM recordings WHERE sha256 = ? AND ext = ? LIMIT 1", (key.sha256, key.ext)
        )
        return value is not None

    async def _remove_unnamed(self, tx: Tx, keys: Iterable[FileKey]) -> int:
        count = 0
        for key in keys:
            if not await self._is_named(tx, key) and await asyncio.to_thread(
                self._files.remove, key
            ):
                count += 1
        return count
