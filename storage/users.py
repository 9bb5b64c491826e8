"""Users: one row per Telegram user who has talked to the bot, with their settings."""

from __future__ import annotations

import logging
import sqlite3

from storage._time import to_datetime
from storage.db import Database
from storage.lineage import drop_mixes_of
from storage.models import (
    ACTIVE_STATUSES,
    MAX_LANGUAGE_CHARS,
    OUTPUT_FORMATS,
    ForgetReport,
    OutputFormat,
    User,
    validate_pace,
)
from storage.recordings import Recordings
from storage.requests import RATE_WINDOW_SECONDS

log = logging.getLogger(__name__)

_COLUMNS = "id, language, output_format, active_voice_id, created_at, last_seen_at, blocked, pace"


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        language=row["language"],
        output_format=OutputFormat(row["output_format"]),
        active_voice_id=row["active_voice_id"],
        created_at=to_datetime(row["created_at"]),
        last_seen_at=to_datetime(row["last_seen_at"]),
        blocked=bool(row["blocked"]),
        pace=float(row["pace"]),
    )


def _check_language(language: str) -> str:
    if not language or len(language) > MAX_LANGUAGE_CHARS or not language.isascii():
        raise ValueError(f"bad language code {language!r}")
    return language


def _check_format(output_format: str) -> str:
    if output_format not in OUTPUT_FORMATS:
        formats = [str(f) for f in OUTPUT_FORMATS]
        raise ValueError(f"output format must be one of {formats}, got {output_format!r}")
    return str(output_format)


class Users:
    def __init__(self, db: Database, recordings: Recordings) -> None:
        self._db = db
        self._recordings = recordings

    async def ensure(self, user_id: int, language: str = "en") -> User:
        """The user's record, created on first sight with `language`; marks them seen now.

        An existing user's language is left alone (they may have chosen another).
        """
        _check_language(language)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (id, language, created_at, last_seen_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
                (user_id, language, tx.now, tx.now),
            )
            row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        assert row is not None
        return _user(row)

    async def get(self, user_id: int) -> User | None:
        async with self._db.reading() as tx:
            row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)

    async def set_language(self, user_id: int, language: str) -> User | None:
        _check_language(language)
        return await self._update(user_id, "language = ?", (language,))

    async def set_output_format(self, user_id: int, output_format: OutputFormat) -> User | None:
        _check_format(output_format)
        return await self._update(user_id, "output_format = ?", (output_format,))

    async def set_pace(self, user_id: int, pace: float) -> User | None:
        """The tempo factor of the user's voice notes (`/speed`); ValueError outside
        PACE_RANGE. Stored as given: the bot offers round figures."""
        return await self._update(user_id, "pace = ?", (validate_pace(pace),))

    async def set_blocked(self, user_id: int, blocked: bool) -> User | None:
        return await self._update(user_id, "blocked = ?", (int(blocked),))

    async def set_active_voice(self, user_id: int, voice_id: int | None) -> bool:
        """Choose the voice `/say` speaks with (None: no voice).

        False, and nothing changes, when the user is unknown or may not use that voice.
        """
        async with self._db.transaction() as tx:
            if voice_id is not None:
                usable = await tx.fetch_value(
                    "SELECT 1 FROM voices WHERE id = ? AND (owner_id = ? OR public = 1)",
                    (voice_id, user_id),
                )
                if usable is None:
                    return False
            changed, _ = await tx.execute(
                "UPDATE users SET active_voice_id = ? WHERE id = ?", (voice_id, user_id)
            )
            return bool(changed)

    async def count(self) -> int:
        async with self._db.reading() as tx:
            return int(await tx.fetch_value("SELECT COUNT(*) FROM users"))

    async def forget(self, user_id: int) -> ForgetReport:
        """Remove every row of the user and every file only they referenced.

        Their voices go, with them the voices' recordings; other users who had one of those
        voices active lose it; the user's request history goes. A recording file that
        another user also sent stays for that user.

        Requests still queued or running, and those of the last minute, stay until they no
        longer count against the limits (`Requests.purge_forgotten`): forgetting must not
        reset "one at a time" or the rate limit. They hold no text, only timings.
        """
        async with self._db.transaction() as tx:
            exists = await tx.fetch_value("SELECT 1 FROM users WHERE id = ?", (user_id,))
            voices = await tx.fetch_value(
                "SELECT COUNT(*) FROM voices WHERE owner_id = ?", (user_id,)
            )
            recordings = await tx.fetch_value(
                "SELECT COUNT(*) FROM recordings WHERE voice_id IN"
                " (SELECT id FROM voices WHERE owner_id = ?)",
                (user_id,),
            )
            requests = await tx.fetch_value(
                "SELECT COUNT(*) FROM requests WHERE user_id = ?", (user_id,)
            )
            still_counting = (
                f"status IN ({', '.join('?' for _ in ACTIVE_STATUSES)}) OR created_at >= ?"
            )
            counting = (*(str(s) for s in ACTIVE_STATUSES), tx.now - RATE_WINDOW_SECONDS)
            own = [
                r["id"]
                for r in await tx.fetch_all("SELECT id FROM voices WHERE owner_id = ?", (user_id,))
            ]
            # Others' mixes of their voices go with them (storage/voices.py, drop_mixes_of).
            await drop_mixes_of(tx, self._recordings, own, keep_owner=None)
            keys = await self._recordings.keys_of_owner(tx, user_id)
            # Voices first (cascading to recordings, nulling others' links), then the user,
            # then the requests that no longer count.
            await tx.execute("DELETE FROM voices WHERE owner_id = ?", (user_id,))
            await tx.execute("DELETE FROM users WHERE id = ?", (user_id,))
            await tx.execute(
                f"DELETE FROM requests WHERE user_id = ? AND NOT ({still_counting})",
                (user_id, *counting),
            )
            files_removed = self._recordings.remove_orphans_after_commit(tx, keys)
            # Old versions of the deleted pages would otherwise linger in the WAL file.
            tx.after_commit(self._db.checkpoint)
        log.info("forgot user %d", user_id)
        return ForgetReport(
            user_existed=exists is not None,
            voices=int(voices),
            recordings=int(recordings),
            requests=int(requests),
            files=files_removed[0],
        )

    async def _update(
        self, user_id: int, assignment: str, params: tuple[object, ...]
    ) -> User | None:
        # `assignment` is always one of this module's literals; values are bound parameters.
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                f"UPDATE users SET {assignment} WHERE id = ?", (*params, user_id)
            )
            if not changed:
                return None
            row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)
