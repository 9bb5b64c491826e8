"""Synthesis requests: the history behind rate limits, "one at a time", and admin figures.

Life of a request: `create` (queued) when the bot enqueues it, `mark_started` (running),
then one of `mark_finished`, `mark_failed`, `mark_cancelled`; `record_outcome` applies a
worker's SynthOutcome. Only a queued or running request moves on, so a late outcome never
overwrites a cancellation.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from storage._time import to_datetime, to_datetime_or_none
from storage.db import Database
from storage.models import (
    ACTIVE_STATUSES,
    MAX_ERROR_CODE_CHARS,
    OutcomeLike,
    Request,
    RequestStatus,
)

log = logging.getLogger(__name__)

_COLUMNS = (
    "id, user_id, voice_id, text_length, status, created_at, started_at, finished_at,"
    " queue_seconds, synth_seconds, audio_seconds, total_seconds, error_code"
)
_ACTIVE = tuple(str(status) for status in ACTIVE_STATUSES)
_ACTIVE_SQL = f"status IN ({', '.join('?' for _ in _ACTIVE)})"


def _request(row: sqlite3.Row) -> Request:
    return Request(
        id=row["id"],
        user_id=row["user_id"],
        voice_id=row["voice_id"],
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
    )


def _check_error_code(code: str) -> str:
    if not code or len(code) > MAX_ERROR_CODE_CHARS:
        raise ValueError(f"bad error code {code!r}")
    return code


class Requests:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, user_id: int, voice_id: int | None, text_length: int) -> int:
        """Record a request as queued; return its id (goes into SynthRequest.request_id)."""
        if text_length < 0:
            raise ValueError("text length must not be negative")
        async with self._db.transaction() as tx:
            if await tx.fetch_value("SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
                raise LookupError(f"no user {user_id}")
            _, request_id = await tx.execute(
                "INSERT INTO requests (user_id, voice_id, text_length, status, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, voice_id, int(text_length), str(RequestStatus.queued), tx.now),
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
    ) -> bool:
        return await self._finish(
            request_id,
            RequestStatus.done,
            None,
            queue_seconds,
            synth_seconds,
            audio_seconds,
            total_seconds,
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
        if outcome.ok:
            return await self.mark_finished(
                outcome.request_id,
                queue_seconds=outcome.queue_seconds,
                synth_seconds=outcome.synth_seconds,
                audio_seconds=outcome.audio_seconds,
                total_seconds=outcome.total_seconds,
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

    async def list_active(self, user_id: int) -> list[Request]:
        """The user's queued or running requests, oldest first (for /cancel)."""
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM requests WHERE user_id = ? AND {_ACTIVE_SQL} ORDER BY id",
                (user_id, *_ACTIVE),
            )
        return [_request(row) for row in rows]

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
    ) -> bool:
        return await self._move(
            request_id,
            status,
            "finished_at = ?, error_code = ?,"
            " started_at = COALESCE(started_at, created_at + ?),"
            " queue_seconds = COALESCE(?, queue_seconds),"
            " synth_seconds = ?, audio_seconds = ?, total_seconds = ?",
            lambda now: (
                now,
                error_code,
                queue_seconds,
                queue_seconds,
                synth_seconds,
                audio_seconds,
                total_seconds,
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
