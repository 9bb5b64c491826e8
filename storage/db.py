"""The one SQLite connection, its settings, its migrations and its transactions.

Why one shared connection behind an asyncio lock, not a pool: only the bot process writes,
and SQLite admits one writer at a time however many connections there are, so a pool would
only turn waiting on a Python lock into retrying on SQLITE_BUSY. aiosqlite already runs every
call of a connection on one thread, in order; the lock on top makes each multi-statement
operation atomic with respect to the other tasks (no task reads another's uncommitted rows or
slips a statement into another's transaction). Operations are sub-millisecond, so hundreds of
concurrent handlers queue for microseconds, never fail with "database is locked".
WAL and a busy timeout are still on, so that a reader in another process (a backup, the
sqlite3 shell) neither blocks the bot nor makes it fail.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Hook = Callable[[], Awaitable[None]]
Params = Sequence[Any] | dict[str, Any]

DEFAULT_BUSY_TIMEOUT_MS = 10_000


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot than this one."""


def _casefold(value: object) -> object:
    # Unicode-aware case folding for search and ordering (SQLite's lower() is ASCII-only).
    return value.casefold() if isinstance(value, str) else value


class Tx:
    """A connection handle valid inside one `Database.transaction()` or `reading()` block."""

    def __init__(self, conn: aiosqlite.Connection, now: float) -> None:
        self._conn = conn
        self.now = now  # one timestamp for everything the operation writes
        self._after_commit: list[Hook] = []
        self._on_rollback: list[Hook] = []

    async def execute(self, sql: str, params: Params = ()) -> tuple[int, int | None]:
        """Run one statement; return (rows changed, last inserted row id)."""
        cursor = await self._conn.execute(sql, params)
        try:
            return cursor.rowcount, cursor.lastrowid
        finally:
            await cursor.close()

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    def after_commit(self, hook: Hook) -> None:
        """Run `hook` after a successful commit, still holding the lock (e.g. file removal)."""
        self._after_commit.append(hook)

    def on_rollback(self, hook: Hook) -> None:
        """Run `hook` if the transaction is rolled back (e.g. remove a file just written)."""
        self._on_rollback.append(hook)


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        clock: Clock = time.time,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> Database:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so Python's sqlite3 never
        # opens or commits a transaction behind our back.
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await _configure(conn, busy_timeout_ms)
            await conn.create_function("casefold", 1, _casefold, deterministic=True)
            await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path, clock)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    def now(self) -> float:
        return self._clock()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it (old page versions included)."""
        async with self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0]:
            log.warning("WAL checkpoint was blocked by another connection")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction (BEGIN IMMEDIATE), committed on success, rolled back on error."""
        async with self._lock:
            tx = Tx(self._conn, self._clock())
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield tx
                await self._conn.execute("COMMIT")
            except BaseException:
                # sqlite3's rollback() is a no-op without an open transaction, and aiosqlite
                # runs it after whatever this task had already queued (even when the task
                # was cancelled mid-statement), so the connection is never left inside a
                # transaction for the next task.
                await self._conn.rollback()
                await _run_hooks(tx._on_rollback, "rollback")
                raise
            await _run_hooks(tx._after_commit, "after-commit")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Read-only access; takes the same lock so that it never sees half an operation."""
        async with self._lock:
            yield Tx(self._conn, self._clock())


async def _configure(conn: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
        row = await cursor.fetchone()
    if row is None or str(row[0]).lower() != "wal":
        log.warning("SQLite did not switch to WAL (journal_mode=%s)", row and row[0])
    await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await conn.execute("PRAGMA foreign_keys = ON")
    # NORMAL is durable across application crashes in WAL mode; only a power cut can lose
    # the last transactions, which is an acceptable trade for a chat bot.
    await conn.execute("PRAGMA synchronous = NORMAL")
    # Deleted rows are overwritten with zeros, so that `forget` leaves no copy in free pages.
    await conn.execute("PRAGMA secure_delete = ON")
    async with conn.execute("PRAGMA foreign_keys") as cursor:
        row = await cursor.fetchone()
    if row is None or row[0] != 1:
        raise RuntimeError("this SQLite build cannot enforce foreign keys")


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after the database's version, up to `target`; return it."""
    current = await schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this code ({SCHEMA_VERSION})"
        )
    for version in range(current + 1, target + 1):
        await _apply(conn, version, MIGRATIONS[version - 1])
    return max(current, target)


async def _apply(conn: aiosqlite.Connection, version: int, statements: Iterable[str]) -> None:
    log.info("applying database migration %d", version)
    await conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            await conn.execute(statement)
        # PRAGMA takes no bound parameters; `version` is our own integer.
        await conn.execute(f"PRAGMA user_version = {int(version)}")
        await conn.execute("COMMIT")
    except BaseException:
        await conn.rollback()
        raise


async def _run_hooks(hooks: list[Hook], what: str) -> None:
    for hook in hooks:
        try:
            await hook()
        except Exception:
            # The database is already consistent; a leftover file is collected at next start.
            log.exception("%s hook failed", what)
