"""Mixed voices (`/mix`): two voices a user may use, blended into a new voice of theirs.

The new voice's embedding is the normalised weighted mean of the two (`sv2tts.embedding.blend`,
the engine's own definition), computed here inside the transaction that checks the sources, so
that what is blended is exactly what was checked: a source withdrawn from the bank a moment
before cannot slip into a mix. The new voice is an ordinary voice of its owner (rename, use,
publish, delete, even refine it with a recording); what it was made from is kept beside it in
`voice_mixes` (migration v5) and read back by `of`.

Which sources a user may mix is the same rule as which voices they may speak with
(`Voices.get_usable`): their own, and public ones. Both must come from the same speaker
encoder: embeddings of two encoders live in different spaces, and their mean means nothing.
"""

from __future__ import annotations

import logging

from storage.db import Database, Tx
from storage.embedding import embedding_to_blob
from storage.models import (
    BankPage,
    Mix,
    MixRefusal,
    MixResult,
    MixSource,
    Voice,
    validate_voice_name,
)
from storage.voices import _COLUMNS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, _voice
from sv2tts.embedding import blend

log = logging.getLogger(__name__)

_USABLE = "(owner_id = ? OR public = 1)"
# The picker's order: the user's own voices first, then the bank's (curated first), by name.
_CANDIDATE_ORDER = "COALESCE(owner_id = ?, 0) DESC, curated DESC, casefold(name), id"


def _check_share(first_share: float) -> float:
    share = float(first_share)
    if not 0.0 < share < 1.0:  # also false for NaN
        raise ValueError(f"the first voice's share must be within (0, 1), not {first_share!r}")
    return share


class Mixes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def lineage(self, voice_id: int) -> list[int]:
        """`voice_id` and every voice it was mixed from, at any depth (those that still exist).

        A job carries these (worker/api/calls.py): a source taken back stops the jobs that
        speak with a mix of it, as it stops its own."""
        found = [voice_id]
        async with self._db.reading() as tx:
            frontier = [voice_id]
            while frontier:
                marks = ", ".join("?" for _ in frontier)
                rows = await tx.fetch_all(
                    f"SELECT first_id, second_id FROM voice_mixes WHERE voice_id IN ({marks})",
                    tuple(frontier),
                )
                frontier = [
                    source
                    for row in rows
                    for source in (row["first_id"], row["second_id"])
                    if source is not None and source not in found
                ]
                found.extend(dict.fromkeys(frontier))
        return found

    async def candidates(
        self,
        user_id: int,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        *,
        encoder_id: str | None = None,
        exclude_id: int | None = None,
    ) -> BankPage:
        """One page of the voices `user_id` may mix: own and public, those of `encoder_id`
        only if given, without `exclude_id`; own voices first. `page` is clamped into range."""
        page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        condition = f"{_USABLE} AND (? IS NULL OR encoder_id = ?) AND id IS NOT ?"
        params = (user_id, encoder_id, encoder_id, exclude_id)
        async with self._db.reading() as tx:
            total = int(
                await tx.fetch_value(f"SELECT COUNT(*) FROM voices WHERE {condition}", params)
            )
            pages = max(1, -(-total // page_size))
            page = max(0, min(int(page), pages - 1))
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM voices WHERE {condition}"
                f" ORDER BY {_CANDIDATE_ORDER} LIMIT ? OFFSET ?",
                (*params, user_id, page_size, page * page_size),
            )
        return BankPage([_voice(row) for row in rows], page, page_size, total)

    async def create(
        self,
        owner_id: int,
        first_id: int,
        second_id: int,
        first_share: float,
        name: str,
        *,
        max_voices: int,
        make_active: bool = True,
    ) -> MixResult:
        """A new private voice of `owner_id`: `first_share` of the first voice's embedding
        and the rest of the second's, normalised; its provenance kept.

        Refused (a MixRefusal, nothing written) when a source is not the owner's to use, both
        are one voice, their encoders differ, or the owner has `max_voices` voices already.
        ValueError for a bad name or share, LookupError for an unknown user.
        """
        validate_voice_name(name)
        share = _check_share(first_share)
        if first_id == second_id:
            return MixResult(None, MixRefusal.same)
        async with self._db.transaction() as tx:
            if await tx.fetch_value("SELECT 1 FROM users WHERE id = ?", (owner_id,)) is None:
                raise LookupError(f"no user {owner_id}")
            first = await self._usable(tx, owner_id, first_id)
            second = await self._usable(tx, owner_id, second_id)
            if first is None or second is None:
                return MixResult(None, MixRefusal.gone)
            if first.encoder_id != second.encoder_id:
                return MixResult(None, MixRefusal.encoders)
            owned = await tx.fetch_value(
                "SELECT COUNT(*) FROM voices WHERE owner_id = ?", (owner_id,)
            )
            if owned >= max_voices:
                return MixResult(None, MixRefusal.voices)
            embedding = blend(first.embedding, second.embedding, weight=1.0 - share)
            # No recording of its own (sample_count 0, no level figures); the speech behind it
            # is both sources', which is what a recording added to it later is weighed against.
            _, voice_id = await tx.execute(
                "INSERT INTO voices (owner_id, name, embedding, encoder_id, sample_count,"
                " speech_seconds, level_dbfs, clipped_fraction, public, consent_at, curated,"
                " created_at) VALUES (?, ?, ?, ?, 0, ?, NULL, NULL, 0, NULL, 0, ?)",
                (
                    owner_id,
                    name,
                    embedding_to_blob(embedding),
                    first.encoder_id,
                    float(first.speech_seconds + second.speech_seconds),
                    tx.now,
                ),
            )
            assert voice_id is not None
            await tx.execute(
                "INSERT INTO voice_mixes (voice_id, first_id, second_id, first_share)"
                " VALUES (?, ?, ?, ?)",
                (voice_id, first.id, second.id, share),
            )
            if make_active:
                await tx.execute(
                    "UPDATE users SET active_voice_id = ? WHERE id = ?", (voice_id, owner_id)
                )
            row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM voices WHERE id = ?", (voice_id,))
        assert row is not None
        log.info(
            "user %s mixed voices %s and %s (%.0f%%) into voice %s",
            owner_id,
            first.id,
            second.id,
            share * 100,
            voice_id,
        )
        return MixResult(_voice(row))

    async def of(self, voice_id: int, viewer_id: int) -> Mix | None:
        """What `voice_id` was mixed from, as `viewer_id` may see it (a source's name only
        while it is theirs to use); None when it is not a mix."""
        async with self._db.reading() as tx:
            row = await tx.fetch_one(
                "SELECT m.voice_id, m.first_share,"
                " m.first_id, f.name AS first_name, f.owner_id = ? OR f.public = 1 AS first_ok,"
                " m.second_id, s.name AS second_name,"
                " s.owner_id = ? OR s.public = 1 AS second_ok"
                " FROM voice_mixes AS m"
                " LEFT JOIN voices AS f ON f.id = m.first_id"
                " LEFT JOIN voices AS s ON s.id = m.second_id"
                " WHERE m.voice_id = ?",
                (viewer_id, viewer_id, voice_id),
            )
        if row is None:
            return None
        return Mix(
            voice_id=row["voice_id"],
            first=MixSource(row["first_id"], row["first_name"] if row["first_ok"] else None),
            second=MixSource(row["second_id"], row["second_name"] if row["second_ok"] else None),
            first_share=row["first_share"],
        )

    async def _usable(self, tx: Tx, user_id: int, voice_id: int) -> Voice | None:
        row = await tx.fetch_one(
            f"SELECT {_COLUMNS} FROM voices WHERE id = ? AND {_USABLE}", (voice_id, user_id)
        )
        return None if row is None else _voice(row)
