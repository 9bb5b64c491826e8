"""`forget(user)`: nothing of the user remains, in any table or on disk.

The one exception, on purpose: the user's requests that still count against the limits
(running, or of the last minute) stay, holding nothing but timings, until they no longer
count; then `purge_forgotten` takes them too. Forgetting must not reset "one at a time".
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage import StatusMessage, Storage
from storage.facade import RECORDINGS_DIRNAME
from storage.files import sha256_hex
from worker.api import SynthOutcome

from .conftest import FakeClock, make_sample

FORGOTTEN = 7_000_000_001  # large enough that no count or length can equal it by chance
OTHER = 8_000_000_002
SECRET_NAME = "Тайное имя 🤫 zqxj"
SHARED_AUDIO = b"OggS the same clip both users sent"


@dataclass(frozen=True)
class Known:
    voice_ids: set[int]
    request_ids: set[int]
    queued_request: int
    recording_ids: set[int]
    embeddings: set[bytes]
    hashes_only_theirs: set[str]
    others_request: int
    other_voice: int


async def populate(storage: Storage) -> Known:
    """A user with everything the bot can hold, entangled with another user's data."""
    await storage.users.ensure(FORGOTTEN, "ru")
    await storage.users.ensure(OTHER, "en")
    await storage.users.set_output_format(FORGOTTEN, "mp3")
    private = await storage.voices.create(
        FORGOTTEN, SECRET_NAME, make_sample(1, audio=b"OggS private clip of the user")
    )
    public = await storage.voices.create(
        FORGOTTEN, SECRET_NAME + " public", make_sample(2, audio=SHARED_AUDIO)
    )
    refined = await storage.voices.add_sample(
        FORGOTTEN, private.id, make_sample(3, audio=b"OggS second private clip")
    )
    assert refined is not None
    await storage.voices.publish(FORGOTTEN, public.id)
    await storage.users.set_active_voice(OTHER, public.id)  # the other user uses their voice
    own_requests: set[int] = set()
    for voice_id in (private.id, public.id):
        request_id = await storage.requests.create(FORGOTTEN, voice_id, 31)
        # Each became a voice note that inline mode offers, titled by the text it speaks.
        await storage.notes.expect(request_id, FORGOTTEN, f"{SECRET_NAME} says hello")
        await storage.requests.record_outcome(
            SynthOutcome(request_id=request_id, user_id=FORGOTTEN, ok=True, synth_seconds=1.0)
        )
        assert await storage.notes.deliver(request_id, f"SECRET-FILE-{request_id}", "voice", 2.0)
        own_requests.add(request_id)
    queued = await storage.requests.create(FORGOTTEN, private.id, 12)  # still queued
    # Its status message (bot/progress.py), kept for a restarted bot.
    await storage.status_messages.keep(StatusMessage(queued, FORGOTTEN, FORGOTTEN, 424242))
    own_requests.add(queued)
    others_request = await storage.requests.create(OTHER, public.id, 40)
    other_voice = await storage.voices.create(
        OTHER, "other's", make_sample(9, audio=SHARED_AUDIO), make_active=False
    )

    recordings = [
        r
        for voice_id in (private.id, public.id)
        for r in await storage.recordings.list_for_voice(voice_id)
    ]
    return Known(
        voice_ids={private.id, public.id},
        request_ids=own_requests,
        queued_request=queued,
        recording_ids={r.id for r in recordings},
        embeddings={refined.embedding.tobytes(), public.embedding.tobytes()},
        hashes_only_theirs={r.sha256 for r in recordings} - {sha256_hex(SHARED_AUDIO)},
        others_request=others_request,
        other_voice=other_voice.id,
    )


def every_row(db_path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        result = {}
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            result[table] = ([d[0] for d in cursor.description], cursor.fetchall())
        return result
    finally:
        conn.close()


def references(db_path: Path) -> dict[str, dict[str, str]]:
    """table -> {column: referenced table}, read from the schema itself."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            t: {row[3]: row[2] for row in conn.execute(f'PRAGMA foreign_key_list("{t}")')}
            for t in tables
        }
    finally:
        conn.close()


def rows_holding(db_path: Path, value: object) -> dict[str, int]:
    """table -> how many of its rows hold `value` in some column."""
    found: dict[str, int] = {}
    for table, (_, rows) in every_row(db_path).items():
        count = sum(1 for row in rows if value in row)
        if count:
            found[table] = count
    return found


async def test_forget_leaves_nothing_of_the_user_anywhere(
    storage: Storage, data_dir: Path, clock: FakeClock
) -> None:
    known = await populate(storage)
    recordings_dir = data_dir / RECORDINGS_DIRNAME
    files_before = {p.name for p in recordings_dir.rglob("*") if p.is_file()}
    assert any(h in name for h in known.hashes_only_theirs for name in files_before)

    report = await storage.forget(FORGOTTEN)

    assert report.user_existed
    assert (report.voices, report.recordings, report.requests) == (2, 3, 3)
    assert report.files == 2  # the clip the other user also sent stays for them
    # All three requests are of the last minute, one still queued: they go on counting,
    # holding no voice and nothing else of the user, and nothing else of the user is left.
    assert rows_holding(storage.db_path, FORGOTTEN) == {"requests": 3}
    assert await storage.requests.count_active(FORGOTTEN) == 1
    for request_id in known.request_ids:
        request = await storage.requests.get(request_id)
        assert request is not None and request.voice_id is None
    clock.advance(61)
    assert await storage.requests.purge_forgotten() == 2  # the queued one still counts
    await storage.requests.mark_cancelled(known.queued_request)  # its job ended
    assert await storage.requests.purge_forgotten() == 1

    own_ids = {
        "users": {FORGOTTEN},
        "voices": known.voice_ids,
        "requests": known.request_ids,
        "recordings": known.recording_ids,
    }
    fk = references(storage.db_path)
    checked_tables = 0
    for table, (columns, rows) in every_row(storage.db_path).items():
        checked_tables += 1
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                assert value != FORGOTTEN, f"{table}.{column} still holds the user id"
                target = fk[table].get(column) or (table if column == "id" else None)
                if target in own_ids:
                    assert value not in own_ids[target], f"{table}.{column} = {value}"
                if isinstance(value, str):
                    assert "Тайное" not in value, f"{table}.{column} holds their voice name"
                    assert "SECRET-FILE" not in value, f"{table}.{column} holds a note's file"
                    assert value not in known.hashes_only_theirs, f"{table}.{column}"
                if isinstance(value, bytes):
                    assert value not in known.embeddings, f"{table}.{column} embedding"
    assert checked_tables >= 5
    note_columns, note_rows = every_row(storage.db_path)["notes"]
    assert "title" in note_columns and note_rows == []  # their notes went with them

    files_after = {p.name for p in recordings_dir.rglob("*") if p.is_file()}
    for name in files_after:
        assert not any(h in name for h in known.hashes_only_theirs)
    assert files_after == {f"{sha256_hex(SHARED_AUDIO)}.ogg"}

    # Not even deleted pages keep a copy: the database file and its WAL hold no trace.
    raw = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.is_file() and "sqlite" in p.name)
    assert SECRET_NAME.encode() not in raw
    for embedding in known.embeddings:
        assert embedding[:64] not in raw


async def test_forget_leaves_other_users_whole(storage: Storage) -> None:
    known = await populate(storage)
    await storage.forget(FORGOTTEN)
    other = await storage.users.get(OTHER)
    assert other is not None and other.active_voice_id is None  # their borrowed voice is gone
    request = await storage.requests.get(known.others_request)
    assert request is not None and request.voice_id is None and request.user_id == OTHER
    voice = await storage.voices.get_owned(OTHER, known.other_voice)
    assert voice is not None
    [clip] = await storage.recordings.list_for_voice(voice.id)
    assert await storage.recordings.read(clip) == SHARED_AUDIO


async def test_forgetting_an_unknown_user_is_harmless(storage: Storage) -> None:
    await storage.users.ensure(1)
    report = await storage.forget(2)
    assert not report.user_existed and report.voices == report.requests == report.files == 0
    assert await storage.users.get(1) is not None


async def test_a_forgotten_user_can_start_again(storage: Storage, clock: FakeClock) -> None:
    known = await populate(storage)
    await storage.forget(FORGOTTEN)
    clock.advance(1)  # they come back a moment later
    user = await storage.users.ensure(FORGOTTEN, "en")
    assert user.language == "en" and user.output_format == "voice"
    assert await storage.voices.list_owned(FORGOTTEN) == []
    # Their running request and their last minute still count, as before forgetting.
    assert await storage.requests.count_active(FORGOTTEN) == 1
    assert await storage.requests.count_recent(FORGOTTEN, 60) == 3
    await storage.requests.mark_cancelled(known.queued_request)
    clock.advance(61)
    assert await storage.requests.purge_forgotten() == 3
    # The forgotten history does not come back with them.
    assert await storage.requests.count_recent(FORGOTTEN, 3600) == 0
    assert await storage.requests.count_active(FORGOTTEN) == 0
