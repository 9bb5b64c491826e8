"""Requests (speech, and recordings becoming voices): the admission ledger behind "one at a
time", the rate limit and the global cap, and the history behind the admin figures.

Life of a request: `admit` (queued) before the bot enqueues its job, `mark_started`
(running), then one of `mark_finished`, `mark_failed`, `mark_cancelled`; `record_outcome`
applies a worker's SynthOutcome. Only a queued or running request moves on, so a late outcome
never overwrites a cancellation.

`admit` checks every limit and creates the row in one write transaction (BEGIN IMMEDIATE,
under the storage lock), so requests that arrive at the same instant are counted one after
the other: of twenty at once, exactly as many as the limits allow get a row.

Watermark checks (`/check`) pass the same gate: "one at a time" and the global cap count a
user's open check beside their queued or running requests, whichever kind came first (a check
with a /say open is refused as a second /say is, and the other way round). A check is no row
of `requests` (bot/checks.py says why: the history behind the admin figures is speech and
recordings): `admit_check` records it in `open_checks`, a TEMP table of this process's
connection, in the same kind of transaction, and `end_check` takes it out when the bot stops
waiting for it. A check lives only as long as the bot process that awaits it, and so does its
row: after a restart nobody waits for it any more, and no slot stays taken.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable

from storage._time import to_datetime, to_datetime_or_none
from storage.db import Database, Tx
from storage.models import (
    ACTIVE_STATUSES,
    MAX_ERROR_CODE_CHARS,
    Admission,
    AdmissionLimits,
    OutcomeLike,
    Refusal,
    Request,
    RequestKind,
    RequestStatus,
)

log = logging.getLogger(__name__)

_COLUMNS = (
    "id, user_id, voice_id, kind, text_length, status, created_at, started_at, finished_at,"
    " queue_seconds, synth_seconds, audio_seconds, total_seconds, error_code, likeness"
)
RATE_WINDOW_SECONDS = 60.0  # the per-minute budget
_ACTIVE = tuple(str(status) for status in ACTIVE_STATUSES)
_ACTIVE_SQL = f"status IN ({', '.join('?' for _ in _ACTIVE)})"
OPEN_CHECKS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS open_checks ("
    " token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at REAL NOT NULL)"
)
# What "one at a time" and the global cap count: open requests and open checks.
_USER_OPEN_SQL = (
    f"(SELECT COUNT(*) FROM requests WHERE user_id = ? AND {_ACTIVE_SQL})"
    " + (SELECT COUNT(*) FROM temp.open_checks WHERE user_id = ?)"
)
_ALL_OPEN_SQL = (
    f"(SELECT COUNT(*) FROM requests WHERE {_ACTIVE_SQL}) + (SELECT COUNT(*) FROM temp.open_checks)"
)


def _request(row: sqlite3.Row) -> Request:
    return Request(
        id=row["id"],
        user_id=row["user_id"],
        voice_id=row["voice_id"],
        kind=row["kind"],
        text_length=row["text_length"],
        status=RequestStatus(row["status"]),
        created_at=to_datetime(row["created_at"]),
        started_at=to_datetime_or_none(row["started_at"]),
        finished_at=to_datetime_or_none(row["finished_at"]),
        queue_seconds=row["queue_seconds"],
        synth_seconds=row["synth_seconds"],
        audio_seconds=row["audio_seconds"],
        total_seconds=row["total_seconds"],
        error_code=row["error_code"],
        likeness=row["likeness"],
    )


def _likeness(value: float | None) -> float | None:
    """A worker's likeness figure as stored: a cosine, so clamped into [-1, 1] (float32
    rounding can put it a hair past 1); None when it is missing or not a number. Never an
    error: an outcome that cannot be recorded would be retried for ever."""
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return max(-1.0, min(1.0, float(value)))


def _check_error_code(code: str) -> str:
    if not code or len(code) > MAX_ERROR_CODE_CHARS:
        raise ValueError(f"bad error code {code!r}")
    return code


class Requests:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def prepare(self) -> None:
        """Make this connection's `open_checks` table (Storage.open calls it once). Outside a
        write transaction: a TEMP table takes no lock on the database file."""
        async with self._db.reading() as tx:
            await tx.execute(OPEN_CHECKS_TABLE)

    async def create(
        self,
        user_id: int,
        voice_id: int | None,
        text_length: int,
        kind: RequestKind = "synth",
    ) -> int:
        """Record a request as queued, with no limit checked; return its id."""
        async with self._db.transaction() as tx:
            return await self._insert(tx, user_id, voice_id, text_length, kind)

    async def admit(
        self,
        user_id: int,
        voice_id: int | None,
        text_length: int,
        limits: AdmissionLimits,
        *,
        kind: RequestKind = "synth",
        new_voice: bool = False,
    ) -> Admission:
        """Check the limits and record the request as queued, in one step (see the module
        docstring). `new_voice`: a recording that would make a new voice, not refine one."""
        async with self._db.transaction() as tx:
            if await self._open_of_user(tx, user_id) >= limits.max_active_per_user:
                return Admission(None, Refusal.busy)
            recent = await tx.fetch_value(
                "SELECT COUNT(*) FROM requests WHERE user_id = ? AND created_at > ?",
                (user_id, tx.now - RATE_WINDOW_SECONDS),
            )
            if recent >= limits.per_minute:
                return Admission(None, Refusal.rate)
            if await self._open_of_all(tx) >= limits.max_queued:
                return Admission(None, Refusal.full)
            if new_voice:
                voices = await tx.fetch_value(
                    "SELECT COUNT(*) FROM voices WHERE owner_id = ?", (user_id,)
                )
                if voices >= limits.max_voices_per_user:
                    return Admission(None, Refusal.voices)
            request_id = await self._insert(tx, user_id, voice_id, text_length, kind)
        return Admission(request_id)

    async def admit_check(
        self, user_id: int, token: str, limits: AdmissionLimits
    ) -> Refusal | None:
        """Open a watermark check named `token` for the user, or say why not (`busy`: they
        have a request or a check open; `full`: the global cap). The per-minute budget of
        checks is kept apart (bot/checks.py)."""
        async with self._db.transaction() as tx:
            if await self._open_of_user(tx, user_id) >= limits.max_active_per_user:
                return Refusal.busy
            if await self._open_of_all(tx) >= limits.max_queued:
                return Refusal.full
            await tx.execute(
                "INSERT INTO temp.open_checks (token, user_id, created_at) VALUES (?, ?, ?)",
                (token, user_id, tx.now),
            )
        return None

    async def end_check(self, token: str) -> bool:
        """The check `token` no longer counts (the bot stopped waiting for it)."""
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute("DELETE FROM temp.open_checks WHERE token = ?", (token,))
        return bool(changed)

    async def open_check(self, user_id: int) -> str | None:
        """The token of the user's open check, if they have one."""
        async with self._db.reading() as tx:
            value = await tx.fetch_value(
                "SELECT token FROM temp.open_checks WHERE user_id = ? ORDER BY created_at",
                (user_id,),
            )
        return None if value is None else str(value)

    async def end_checks_of(self, user_id: int) -> list[str]:
        """Close every open check of the user (`/forget`); their tokens."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(
                "SELECT token FROM temp.open_checks WHERE user_id = ? ORDER BY created_at",
                (user_id,),
            )
            await tx.execute("DELETE FROM temp.open_checks WHERE user_id = ?", (user_id,))
        return [str(row["token"]) for row in rows]

    async def _open_of_user(self, tx: Tx, user_id: int) -> int:
        return int(await tx.fetch_value(f"SELECT {_USER_OPEN_SQL}", (user_id, *_ACTIVE, user_id)))

    async def _open_of_all(self, tx: Tx) -> int:
        return int(await tx.fetch_value(f"SELECT {_ALL_OPEN_SQL}", _ACTIVE))

    async def _insert(
        self, tx: Tx, user_id: int, voice_id: int | None, text_length: int, kind: RequestKind
    ) -> int:
        if text_length < 0:
            raise ValueError("text length must not be negative")
        if kind not in ("synth", "embed"):
            raise ValueError(f"bad request kind {kind!r}")
        if await tx.fetch_value("SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
            raise LookupError(f"no user {user_id}")
        _, request_id = await tx.execute(
            "INSERT INTO requests (user_id, voice_id, kind, text_length, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, voice_id, kind, int(text_length), str(RequestStatus.queued), tx.now),
        )
        assert request_id is not None
        return request_id

    async def get(self, request_id: int) -> Request | None:
        async with self._db.reading() as tx:
            row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return None if row is None else _request(row)

    async def mark_started(self, request_id: int, queue_seconds: float | None = None) -> bool:
        return await self._move(
            request_id,
            RequestStatus.running,
            "started_at = ?, queue_seconds = COALESCE(?, queue_seconds)",
            lambda now: (now, queue_seconds),
            only_from=(str(RequestStatus.queued),),
        )

    async def mark_finished(
        self,
        request_id: int,
        *,
        queue_seconds: float | None = None,
        synth_seconds: float | None = None,
        audio_seconds: float | None = None,
        total_seconds: float | None = None,
        likeness: float | None = None,
    ) -> bool:
        return await self._finish(
            request_id,
            RequestStatus.done,
            None,
            queue_seconds,
            synth_seconds,
            audio_seconds,
            total_seconds,
            _likeness(likeness),
        )

    async def mark_failed(
        self,
        request_id: int,
        error_code: str,
        *,
        queue_seconds: float | None = None,
        synth_seconds: float | None = None,
        total_seconds: float | None = None,
    ) -> bool:
        _check_error_code(error_code)
        return await self._finish(
            request_id,
            RequestStatus.failed,
            error_code,
            queue_seconds,
            synth_seconds,
            None,
            total_seconds,
        )

    async def mark_cancelled(self, request_id: int) -> bool:
        return await self._move(
            request_id, RequestStatus.cancelled, "finished_at = ?", lambda now: (now,)
        )

    async def record_outcome(self, outcome: OutcomeLike) -> bool:
        """Apply a worker's SynthOutcome; False if the request is unknown or already over."""
        if outcome.error_code == "cancelled":  # the worker dropped it, as the user asked
            return await self.mark_cancelled(outcome.request_id)
        if outcome.ok:
            return await self.mark_finished(
                outcome.request_id,
                queue_seconds=outcome.queue_seconds,
                synth_seconds=outcome.synth_seconds,
                audio_seconds=outcome.audio_seconds,
                total_seconds=outcome.total_seconds,
                likeness=outcome.likeness,
            )
        return await self.mark_failed(
            outcome.request_id,
            outcome.error_code or "internal",
            queue_seconds=outcome.queue_seconds,
            synth_seconds=outcome.synth_seconds,
            total_seconds=outcome.total_seconds,
        )

    async def count_recent(self, user_id: int, seconds: float) -> int:
        """How many requests the user made in the last `seconds` (for the rate limit)."""
        async with self._db.reading() as tx:
            return int(
                await tx.fetch_value(
                    "SELECT COUNT(*) FROM requests WHERE user_id = ? AND created_at > ?",
                    (user_id, tx.now - float(seconds)),
                )
            )

    async def count_active(self, user_id: int) -> int:
        """How many of the user's requests are queued or running."""
        async with self._db.reading() as tx:
            return int(
                await tx.fetch_value(
                    f"SELECT COUNT(*) FROM requests WHERE user_id = ? AND {_ACTIVE_SQL}",
                    (user_id, *_ACTIVE),
                )
            )

    async def list_active(self, user_id: int, kind: RequestKind | None = None) -> list[Request]:
        """The user's queued or running requests (of `kind`, if given), oldest first."""
        kind_sql, kinds = ("AND kind = ?", (kind,)) if kind else ("", ())
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM requests WHERE user_id = ? AND {_ACTIVE_SQL} {kind_sql}"
                " ORDER BY id",
                (user_id, *_ACTIVE, *kinds),
            )
        return [_request(row) for row in rows]

    async def list_open(self, older_than_seconds: float = 0.0) -> list[Request]:
        """Every queued or running request created over `older_than_seconds` ago, oldest
        first: what the bot's sweeper compares with what Redis holds."""
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM requests WHERE {_ACTIVE_SQL} AND created_at <= ?"
                " ORDER BY id",
                (*_ACTIVE, tx.now - float(older_than_seconds)),
            )
        return [_request(row) for row in rows]

    async def ids_of(self, user_id: int) -> list[int]:
        """Every request id of the user still on record (their jobs may still be in Redis)."""
        async with self._db.reading() as tx:
            rows = await tx.fetch_all("SELECT id FROM requests WHERE user_id = ?", (user_id,))
        return [int(row["id"]) for row in rows]

    async def count_open(self) -> int:
        """Queued or running requests of all users (the global cap also counts open checks)."""
        async with self._db.reading() as tx:
            return int(
                await tx.fetch_value(f"SELECT COUNT(*) FROM requests WHERE {_ACTIVE_SQL}", _ACTIVE)
            )

    async def purge_forgotten(self) -> int:
        """Delete the requests kept past a `/forget` once they no longer count (over, and older
        than the rate window). They are those whose user is gone or was made anew after them
        (a user who came back does not get the forgotten history again). How many went."""
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                f"DELETE FROM requests WHERE NOT ({_ACTIVE_SQL}) AND created_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = requests.user_id"
                " AND users.created_at <= requests.created_at)",
                (*_ACTIVE, tx.now - RATE_WINDOW_SECONDS),
            )
        return changed

    async def expire_stale(self, older_than_seconds: float, error_code: str = "internal") -> int:
        """Fail queued or running requests older than this (lost in a crash), so that they
        stop counting against their users' limits; return how many."""
        _check_error_code(error_code)
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                f"UPDATE requests SET status = ?, error_code = ?, finished_at = ?"
                f" WHERE {_ACTIVE_SQL} AND created_at < ?",
                (
                    str(RequestStatus.failed),
                    error_code,
                    tx.now,
                    *_ACTIVE,
                    tx.now - float(older_than_seconds),
                ),
            )
        if changed:
            log.info("expired %d stale requests", changed)
        return changed

    async def _finish(
        self,
        request_id: int,
        status: RequestStatus,
        error_code: str | None,
        queue_seconds: float | None,
        synth_seconds: float | None,
        audio_seconds: float | None,
        total_seconds: float | None,
        likeness: float | None = None,
    ) -> bool:
        return await self._move(
            request_id,
            status,
            "finished_at = ?, error_code = ?,"
            " started_at = COALESCE(started_at, created_at + ?),"
            " queue_seconds = COALESCE(?, queue_seconds),"
            " synth_seconds = ?, audio_seconds = ?, total_seconds = ?, likeness = ?",
            lambda now: (
                now,
                error_code,
                queue_seconds,
                queue_seconds,
                synth_seconds,
                audio_seconds,
                total_seconds,
                likeness,
            ),
        )

    async def _move(
        self,
        request_id: int,
        status: RequestStatus,
        assignments: str,
        values: Callable[[float], tuple[object, ...]],
        only_from: tuple[str, ...] = _ACTIVE,
    ) -> bool:
        # `assignments` is always one of this module's literals; values are bound parameters.
        placeholders = ", ".join("?" for _ in only_from)
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                f"UPDATE requests SET status = ?, {assignments}"
                f" WHERE id = ? AND status IN ({placeholders})",
                (str(status), *values(tx.now), request_id, *only_from),
            )
        return bool(changed)
