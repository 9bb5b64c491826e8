"""Voices made from other voices (`/mix`), and what becomes of them when a source is taken
back; shared by storage/voices.py and storage/users.py (`forget`) inside their transactions."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from storage.db import Tx
from storage.recordings import Recordings

log = logging.getLogger(__name__)


async def drop_mixes_of(
    tx: Tx, recordings: Recordings, source_ids: Iterable[int], *, keep_owner: int | None
) -> list[int]:
    """Delete the mixes made from `source_ids` (and every mix made from those), except the
    mixes `keep_owner` made directly from `source_ids`, their own voices: the ids deleted.

    The rule (README, "When things go wrong"): a mix made from another user's voice lives only
    while that voice is theirs to use. When the voice is deleted, withdrawn from the bank or its
    owner forgotten, the mixes others made from it go, so its likeness does not live on in
    them. Called before the sources change: their links in voice_mixes become NULL on delete.
    """
    lost = {int(v) for v in source_ids}
    dropped: list[int] = []
    frontier = list(lost)
    while frontier:
        marks = ", ".join("?" for _ in frontier)
        rows = await tx.fetch_all(
            "SELECT m.voice_id, v.owner_id FROM voice_mixes m JOIN voices v ON v.id = m.voice_id"
            f" WHERE m.first_id IN ({marks}) OR m.second_id IN ({marks})",
            (*frontier, *frontier),
        )
        frontier = []
        for row in rows:
            mix_id = row["voice_id"]
            if mix_id in lost or (keep_owner is not None and row["owner_id"] == keep_owner):
                continue
            lost.add(mix_id)
            frontier.append(mix_id)
            dropped.append(mix_id)
        # A mix made from a dropped mix holds the taken-back voice too, whoever owns it.
        keep_owner = None
    for mix_id in dropped:
        await delete_voice(tx, recordings, mix_id)
    if dropped:
        log.info("mixes %s deleted: a voice they were made from was taken back", dropped)
    return dropped


async def delete_voice(tx: Tx, recordings: Recordings, voice_id: int) -> None:
    keys = await recordings.keys_of_voice(tx, voice_id)
    # Foreign keys do the rest: recordings cascade, active voices and request links become NULL.
    await tx.execute("DELETE FROM voices WHERE id = ?", (voice_id,))
    recordings.remove_orphans_after_commit(tx, keys)
