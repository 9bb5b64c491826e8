"""The user's recent voice notes: what inline mode lists and sends into other chats.

Life of a note: `expect` when its request is admitted (the title is the start of the text the
user asked for), `deliver` when the worker's outcome brings the Telegram file_id of the sent
voice note, `drop` when the request ends without one. Only delivered notes are listed. Each
user keeps the newest NOTES_KEPT; `deliver` lets older ones go, and undelivered rows older
than a day (a request lost on the way) with them. `/forget` removes them with the user.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from storage._time import to_datetime
from storage.db import Database, Tx
from storage.models import Note

NOTES_KEPT = 20
MAX_TITLE_CHARS = 64
MAX_QUERY_CHARS = 64
STALE_SECONDS = 24 * 3600.0
FileKind = Literal["voice", "audio"]

_COLUMNS = "request_id, user_id, title, file_id, file_kind, duration, created_at, sent_at"


def note_title(text: str) -> str:
    """The first line of `text`, shortened to MAX_TITLE_CHARS with an ellipsis."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= MAX_TITLE_CHARS else line[: MAX_TITLE_CHARS - 1] + "…"


def _note(row: sqlite3.Row) -> Note:
    return Note(
        request_id=row["request_id"],
        user_id=row["user_id"],
        title=row["title"],
        file_id=row["file_id"],
        file_kind=row["file_kind"],
        duration=row["duration"] or 0.0,
        sent_at=to_datetime(row["sent_at"]),
    )


class Notes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def expect(self, request_id: int, user_id: int, text: str) -> None:
        """Request `request_id` of `user_id` will make a voice note of `text`."""
        title = note_title(text)
        if not title:
            raise ValueError("a note needs a title")
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO notes (request_id, user_id, title, created_at)"
                " VALUES (?, ?, ?, ?)",
                (request_id, user_id, title, tx.now),
            )

    async def deliver(
        self, request_id: int, file_id: str, file_kind: FileKind, duration: float
    ) -> bool:
        """The note of `request_id` was sent as `file_id`; False when no note waits for it
        (the request made none, or its user was forgotten meanwhile)."""
        if not file_id or file_kind not in ("voice", "audio"):
            raise ValueError(f"bad file {file_id!r} of kind {file_kind!r}")
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                "UPDATE notes SET file_id = ?, file_kind = ?, duration = ?, sent_at = ?"
                " WHERE request_id = ? AND file_id IS NULL",
                (file_id, file_kind, float(duration), tx.now, request_id),
            )
            user_id = await tx.fetch_value(
                "SELECT user_id FROM notes WHERE request_id = ?", (request_id,)
            )
            if user_id is not None:
                await self._prune(tx, int(user_id))
        return bool(changed)

    async def drop(self, request_id: int) -> bool:
        """The request ended without a note: forget the one it was expected to make."""
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                "DELETE FROM notes WHERE request_id = ? AND file_id IS NULL", (request_id,)
            )
        return bool(changed)

    async def recent(self, user_id: int, query: str = "", limit: int = NOTES_KEPT) -> list[Note]:
        """The user's delivered notes, newest first, those whose title contains `query`
        (case-insensitive, any script) if given."""
        needle = query.strip()[:MAX_QUERY_CHARS].casefold()
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM notes WHERE user_id = ? AND file_id IS NOT NULL"
                " AND instr(casefold(title), ?) > 0 ORDER BY sent_at DESC, request_id DESC"
                " LIMIT ?",
                (user_id, needle, max(1, min(int(limit), NOTES_KEPT))),
            )
        return [_note(row) for row in rows]

    async def get(self, user_id: int, request_id: int) -> Note | None:
        """The user's own delivered note of `request_id`, None for anyone else's."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(
                f"SELECT {_COLUMNS} FROM notes WHERE request_id = ? AND user_id = ?"
                " AND file_id IS NOT NULL",
                (request_id, user_id),
            )
        return None if row is None else _note(row)

    async def _prune(self, tx: Tx, user_id: int) -> None:
        await tx.execute(
            "DELETE FROM notes WHERE user_id = ? AND file_id IS NOT NULL AND request_id NOT IN"
            " (SELECT request_id FROM notes WHERE user_id = ? AND file_id IS NOT NULL"
            " ORDER BY sent_at DESC, request_id DESC LIMIT ?)",
            (user_id, user_id, NOTES_KEPT),
        )
        await tx.execute(
            "DELETE FROM notes WHERE user_id = ? AND file_id IS NULL AND created_at < ?",
            (user_id, tx.now - STALE_SECONDS),
        )
