"""The status messages of long requests, kept so that a restarted bot finds them again.

`keep` when the bot sends a request's status message, `drop` when that message goes (or its
owner's handler takes it over), `all` when the bot starts: bot/progress.py follows each one
again (one whose request ended meanwhile goes in its first round). Rows go with their user
(`/forget`).
"""

from __future__ import annotations

from storage.db import Database
from storage.models import StatusMessage

_COLUMNS = "request_id, user_id, chat_id, message_id"


class StatusMessages:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def keep(self, message: StatusMessage) -> None:
        """Remember `message` (one per request: a later one replaces it)."""
        async with self._db.transaction() as tx:
            # A user forgotten meanwhile has no row to point at: nothing is kept for them.
            await tx.execute(
                f"INSERT OR REPLACE INTO status_messages ({_COLUMNS})"
                " SELECT ?, id, ?, ? FROM users WHERE id = ?",
                (message.request_id, message.chat_id, message.message_id, message.user_id),
            )

    async def drop(self, request_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM status_messages WHERE request_id = ?", (request_id,))

    async def all(self) -> list[StatusMessage]:
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(f"SELECT {_COLUMNS} FROM status_messages ORDER BY request_id")
        return [StatusMessage(*tuple(row)) for row in rows]
