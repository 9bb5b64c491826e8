"""Voices and the bank.

Ownership is checked here, in SQL, for every action: a voice id that arrives from a button
is resolved through `get_usable` (own or public: may speak with it) or `get_owned` (own: may
use, rename, delete, refine), or goes straight to an action whose query matches the owner
itself (`publish`, `withdraw`, `rename`, `delete`); only the admins' bank removal looks a
voice up unchecked. Each answers None (or False) for a voice that does not exist, was
deleted, or belongs to someone else, so the bot has a single "that voice is gone" reply for
all three.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

from storage._time import to_datetime, to_datetime_or_none
from storage.db import Database, Tx
from storage.embedding import (
    as_embedding,
    blob_to_embedding,
    embedding_to_blob,
    merged_embedding,
)
from storage.lineage import delete_voice, drop_mixes_of
from storage.models import BankPage, Sample, Voice, validate_voice_name
from storage.recordings import Recordings

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 8
MAX_PAGE_SIZE = 50
MAX_QUERY_CHARS = 64
MAX_ENCODER_ID_CHARS = 128

_COLUMN_NAMES = (
    "id",
    "owner_id",
    "name",
    "embedding",
    "encoder_id",
    "sample_count",
    "speech_seconds",
    "level_dbfs",
    "clipped_fraction",
    "public",
    "consent_at",
    "curated",
    "created_at",
)
_COLUMNS = ", ".join(_COLUMN_NAMES)
_JOINED_COLUMNS = ", ".join(f"v.{name}" for name in _COLUMN_NAMES)
# The bank's one total order: curated voices first, then by name without case, then by id
# so that equal names keep their places from page to page.
_BANK_ORDER = "curated DESC, casefold(name), id"


class EncoderMismatchError(ValueError):
    """A sample's embedding came from another encoder than the voice's; they cannot mix."""


class VoiceLimitError(Exception):
    """The owner already has as many voices as they may (`create(..., max_voices=...)`)."""


def _voice(row: sqlite3.Row) -> Voice:
    return Voice(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        embedding=blob_to_embedding(row["embedding"]),
        encoder_id=row["encoder_id"],
        sample_count=row["sample_count"],
        speech_seconds=row["speech_seconds"],
        level_dbfs=row["level_dbfs"],
        clipped_fraction=row["clipped_fraction"],
        public=bool(row["public"]),
        consent_at=to_datetime_or_none(row["consent_at"]),
        curated=bool(row["curated"]),
        created_at=to_datetime(row["created_at"]),
    )


def _check_sample(sample: Sample) -> None:
    as_embedding(sample.embedding)
    if not sample.encoder_id or len(sample.encoder_id) > MAX_ENCODER_ID_CHARS:
        raise ValueError("sample needs an encoder id")
    if not sample.recording.speech_seconds >= 0:
        raise ValueError("speech seconds must be a non-negative number")


def _weighted(
    current: float | None, current_seconds: float, added: float | None, added_seconds: float
) -> float | None:
    """A quality figure averaged by seconds of speech; a side without a figure is skipped."""
    if current is None:
        return added
    if added is None:
        return current
    total = current_seconds + added_seconds
    if total <= 0:
        return (current + added) / 2
    return (current * current_seconds + added * added_seconds) / total


class Voices:
    def __init__(self, db: Database, recordings: Recordings) -> None:
        self._db = db
        self._recordings = recordings

    # --- creating and refining -------------------------------------------------------------

    async def create(
        self,
        owner_id: int,
        name: str,
        sample: Sample,
        *,
        make_active: bool = True,
        max_voices: int | None = None,
    ) -> Voice:
        """A new private voice of `owner_id` from one sample (its audio kept if given).

        Makes it the owner's active voice unless `make_active` is false. Raises ValueError
        for a bad name or sample, LookupError for an unknown user, VoiceLimitError when the
        owner has `max_voices` voices already: counted here, as the row is made, because a
        recording admitted under the cap takes seconds to become a voice, and a /mix made
        meanwhile (storage.mixes, which counts the same way) may have taken the last place.
        """
        validate_voice_name(name)
        _check_sample(sample)
        async with self._db.transaction() as tx:
            if await tx.fetch_value("SELECT 1 FROM users WHERE id = ?", (owner_id,)) is None:
                raise LookupError(f"no user {owner_id}")
            if max_voices is not None:
                owned = await tx.fetch_value(
                    "SELECT COUNT(*) FROM voices WHERE owner_id = ?", (owner_id,)
                )
                if owned >= max_voices:
                    raise VoiceLimitError(f"user {owner_id} has {owned} voices")
            voice_id = await self._insert(tx, owner_id, name, sample, curated=False)
            if make_active:
                await tx.execute(
                    "UPDATE users SET active_voice_id = ? WHERE id = ?", (voice_id, owner_id)
                )
            return await self._get(tx, voice_id)

    async def create_curated(self, name: str, sample: Sample) -> Voice:
        """A bank voice owned by the deployment (an admin's import): public from the start.

        Its `owner_id` is None, so no user's `/forget` removes it and no user can edit it;
        admins remove it with `remove_from_bank`.
        """
        validate_voice_name(name)
        _check_sample(sample)
        async with self._db.transaction() as tx:
            voice_id = await self._insert(tx, None, name, sample, curated=True)
            return await self._get(tx, voice_id)

    async def add_sample(self, owner_id: int, voice_id: int, sample: Sample) -> Voice | None:
        """Refine an own voice with another recording; None if it is not `owner_id`'s.

        The embedding becomes the mean of the old and the new, weighted by seconds of
        speech, normalised again; the recording is kept. Raises EncoderMismatchError when
        the sample's encoder differs from the voice's.
        """
        _check_sample(sample)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                f"SELECT {_COLUMNS} FROM voices WHERE id = ? AND owner_id = ?",
                (voice_id, owner_id),
            )
            if row is None:
                return None
            voice = _voice(row)
            if voice.encoder_id != sample.encoder_id:
                raise EncoderMismatchError(
                    f"voice {voice_id} was made by encoder {voice.encoder_id!r},"
                    f" the sample by {sample.encoder_id!r}"
                )
            embedding = merged_embedding(
                voice.embedding,
                voice.speech_seconds,
                as_embedding(sample.embedding),
                sample.recording.speech_seconds,
            )
            await tx.execute(
                "UPDATE voices SET embedding = ?, sample_count = sample_count + 1,"
                " speech_seconds = ?, level_dbfs = ?, clipped_fraction = ? WHERE id = ?",
                (
                    embedding_to_blob(embedding),
                    voice.speech_seconds + sample.recording.speech_seconds,
                    _weighted(
                        voice.level_dbfs,
                        voice.speech_seconds,
                        sample.recording.level_dbfs,
                        sample.recording.speech_seconds,
                    ),
                    _weighted(
                        voice.clipped_fraction,
                        voice.speech_seconds,
                        sample.recording.clipped_fraction,
                        sample.recording.speech_seconds,
                    ),
                    voice_id,
                ),
            )
            await self._keep_audio(tx, voice_id, sample)
            return await self._get(tx, voice_id)

    # --- reading, with the ownership checks ------------------------------------------------

    async def get_usable(self, user_id: int, voice_id: int) -> Voice | None:
        """The voice if `user_id` may speak with it (own or public), else None."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(
                f"SELECT {_COLUMNS} FROM voices WHERE id = ? AND (owner_id = ? OR public = 1)",
                (voice_id, user_id),
            )
        return None if row is None else _voice(row)

    async def get_owned(self, user_id: int, voice_id: int) -> Voice | None:
        """The voice if it is `user_id`'s own, else None."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(
                f"SELECT {_COLUMNS} FROM voices WHERE id = ? AND owner_id = ?",
                (voice_id, user_id),
            )
        return None if row is None else _voice(row)

    async def get_unchecked(self, voice_id: int) -> Voice | None:
        """Any voice by id, with no ownership check: for admins and internal use only."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM voices WHERE id = ?", (voice_id,))
        return None if row is None else _voice(row)

    async def get_active(self, user_id: int) -> Voice | None:
        """The user's active voice if they may still use it (it may have been withdrawn)."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(
                f"SELECT {_JOINED_COLUMNS}"
                " FROM users AS u JOIN voices AS v ON v.id = u.active_voice_id"
                " WHERE u.id = ? AND (v.owner_id = u.id OR v.public = 1)",
                (user_id,),
            )
        return None if row is None else _voice(row)

    async def list_owned(self, user_id: int) -> list[Voice]:
        """The user's own voices, oldest first."""
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM voices WHERE owner_id = ? ORDER BY created_at, id",
                (user_id,),
            )
        return [_voice(row) for row in rows]

    async def find_by_names(self, user_id: int, names: Iterable[str]) -> dict[str, Voice]:
        """The voices `user_id` may speak with whose names are among `names`, compared without
        case (any script), keyed by the case-folded name. Where several share a name, the
        user's own wins over the bank's, then the bank's order (curated first), then the
        oldest."""
        wanted = sorted({name.strip().casefold() for name in names if name.strip()})
        if not wanted:
            return {}
        placeholders = ", ".join("?" for _ in wanted)
        async with self._db.reading() as tx:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM voices WHERE (owner_id = ? OR public = 1)"
                f" AND casefold(name) IN ({placeholders})"
                " ORDER BY CASE WHEN owner_id = ? THEN 0 ELSE 1 END, curated DESC, created_at, id",
                (user_id, *wanted, user_id),
            )
        found: dict[str, Voice] = {}
        for row in rows:
            found.setdefault(str(row["name"]).casefold(), _voice(row))
        return found

    async def find_curated(self, name: str) -> Voice | None:
        """A curated voice with exactly this name (so that a bank import can be re-run)."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(
                f"SELECT {_COLUMNS} FROM voices WHERE curated = 1 AND name = ? ORDER BY id",
                (name,),
            )
        return None if row is None else _voice(row)

    # --- owner's actions -------------------------------------------------------------------

    async def rename(self, owner_id: int, voice_id: int, name: str) -> Voice | None:
        validate_voice_name(name)
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                "UPDATE voices SET name = ? WHERE id = ? AND owner_id = ?",
                (name, voice_id, owner_id),
            )
            return await self._get(tx, voice_id) if changed else None

    async def publish(self, owner_id: int, voice_id: int) -> Voice | None:
        """Put an own voice in the bank; the call is the owner's consent, and its time is kept.

        Publishing an already public voice keeps the first consent time.
        """
        async with self._db.transaction() as tx:
            changed, _ = await tx.execute(
                "UPDATE voices SET public = 1, consent_at = COALESCE(consent_at, ?)"
                " WHERE id = ? AND owner_id = ?",
                (tx.now, voice_id, owner_id),
            )
            return await self._get(tx, voice_id) if changed else None

    async def withdraw(self, owner_id: int, voice_id: int) -> Voice | None:
        """Take an own voice out of the bank; other users who had it active lose it."""
        async with self._db.transaction() as tx:
            changed = await self._withdraw(tx, voice_id, owner_id)
            return await self._get(tx, voice_id) if changed else None

    async def delete(self, owner_id: int, voice_id: int) -> bool:
        """Delete an own voice, its recordings, and their files once nothing names them."""
        async with self._db.transaction() as tx:
            if (
                await tx.fetch_value(
                    "SELECT 1 FROM voices WHERE id = ? AND owner_id = ?", (voice_id, owner_id)
                )
                is None
            ):
                return False
            await self._delete(tx, voice_id)
            return True

    # --- admin's actions -------------------------------------------------------------------

    async def remove_from_bank(self, voice_id: int) -> bool:
        """Admin: a curated voice is deleted; a user's published voice is withdrawn (the
        owner keeps it, private). False when the voice is not in the bank."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT owner_id, public, curated FROM voices WHERE id = ?", (voice_id,)
            )
            if row is None or not row["public"]:
                return False
            if row["curated"]:
                await self._delete(tx, voice_id)
            else:
                await self._withdraw(tx, voice_id, row["owner_id"])
            log.info("voice %d removed from the bank", voice_id)
            return True

    # --- the bank --------------------------------------------------------------------------

    async def bank_page(
        self, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE, query: str | None = None
    ) -> BankPage:
        """One page of public voices in a stable order, optionally those whose name contains
        `query` (case-insensitive, any script). `page` is clamped into range."""
        page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        needle = (query or "").strip()[:MAX_QUERY_CHARS].casefold()
        condition = "public = 1 AND instr(casefold(name), ?) > 0"
        async with self._db.reading() as tx:
            total = int(
                await tx.fetch_value(f"SELECT COUNT(*) FROM voices WHERE {condition}", (needle,))
            )
            pages = max(1, -(-total // page_size))
            page = max(0, min(int(page), pages - 1))
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM voices WHERE {condition}"
                f" ORDER BY {_BANK_ORDER} LIMIT ? OFFSET ?",
                (needle, page_size, page * page_size),
            )
        return BankPage([_voice(row) for row in rows], page, page_size, total)

    # --- inside a transaction --------------------------------------------------------------

    async def _insert(
        self, tx: Tx, owner_id: int | None, name: str, sample: Sample, *, curated: bool
    ) -> int:
        _, voice_id = await tx.execute(
            "INSERT INTO voices (owner_id, name, embedding, encoder_id, sample_count,"
            " speech_seconds, level_dbfs, clipped_fraction, public, consent_at, curated,"
            " created_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
            (
                owner_id,
                name,
                embedding_to_blob(sample.embedding),
                sample.encoder_id,
                float(sample.recording.speech_seconds),
                sample.recording.level_dbfs,
                sample.recording.clipped_fraction,
                int(curated),
                tx.now if curated else None,
                int(curated),
                tx.now,
            ),
        )
        assert voice_id is not None
        await self._keep_audio(tx, voice_id, sample)
        return voice_id

    async def _keep_audio(self, tx: Tx, voice_id: int, sample: Sample) -> None:
        if sample.audio:
            await self._recordings.insert(
                tx,
                voice_id,
                sample.audio,
                sample.audio_kind,
                sample.recording.total_seconds or sample.recording.speech_seconds,
                sample.audio_ext,
            )

    async def _get(self, tx: Tx, voice_id: int) -> Voice:
        row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM voices WHERE id = ?", (voice_id,))
        if row is None:
            raise LookupError(f"no voice {voice_id}")
        return _voice(row)

    async def _withdraw(self, tx: Tx, voice_id: int, owner_id: int) -> bool:
        changed, _ = await tx.execute(
            "UPDATE voices SET public = 0, consent_at = NULL WHERE id = ? AND owner_id = ?",
            (voice_id, owner_id),
        )
        if changed:
            await tx.execute(
                "UPDATE users SET active_voice_id = NULL WHERE active_voice_id = ? AND id != ?",
                (voice_id, owner_id),
            )
            await drop_mixes_of(tx, self._recordings, [voice_id], keep_owner=owner_id)
        return bool(changed)

    async def _delete(self, tx: Tx, voice_id: int) -> None:
        row = await tx.fetch_one("SELECT owner_id FROM voices WHERE id = ?", (voice_id,))
        owner = None if row is None else row["owner_id"]
        await drop_mixes_of(tx, self._recordings, [voice_id], keep_owner=owner)
        await delete_voice(tx, self._recordings, voice_id)
