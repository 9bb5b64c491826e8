"""The schema is created from nothing and upgraded in place from every earlier version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage import SchemaTooNewError, Storage, embedding_to_blob
from storage.db import _apply as apply_migration
from storage.facade import DB_FILENAME, RECORDINGS_DIRNAME
from storage.files import sha256_hex
from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from worker.api import SynthOutcome

from .conftest import FakeClock, unit_vector


def build_old_database(path: Path, version: int) -> None:
    """A database as the release with `version` migrations left it, with the plain sqlite3."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statements in MIGRATIONS[:version]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.close()


def schema_of(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " ORDER BY name"
            )
        ]
        return {
            "tables": {t: [r[1:] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables},
            "indexes": sorted(
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                )
            ),
            "foreign_keys": {
                t: sorted(r[2:5] for r in conn.execute(f"PRAGMA foreign_key_list({t})"))
                for t in tables
            },
            "version": conn.execute("PRAGMA user_version").fetchone()[0],
        }
    finally:
        conn.close()


def test_there_are_several_migrations_so_upgrades_are_exercised() -> None:
    assert SCHEMA_VERSION >= 2


async def test_new_database_gets_the_current_schema_in_wal_mode(data_dir: Path) -> None:
    storage = await Storage.open(data_dir)
    await storage.close()
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
async def test_upgraded_schema_equals_a_fresh_one(tmp_path: Path, old_version: int) -> None:
    fresh_dir, old_dir = tmp_path / "fresh", tmp_path / "old"
    await (await Storage.open(fresh_dir)).close()
    build_old_database(old_dir / DB_FILENAME, old_version)
    await (await Storage.open(old_dir)).close()
    assert schema_of(old_dir / DB_FILENAME) == schema_of(fresh_dir / DB_FILENAME)


async def test_first_version_database_upgrades_in_place_keeping_its_data(
    data_dir: Path, clock: FakeClock
) -> None:
    db_path = data_dir / DB_FILENAME
    build_old_database(db_path, 1)
    embedding = unit_vector(42)
    audio = b"OggS first-version recording"
    digest = sha256_hex(audio)
    recording_file = data_dir / RECORDINGS_DIRNAME / digest[:2] / f"{digest}.ogg"
    recording_file.parent.mkdir(parents=True)
    recording_file.write_bytes(audio)
    t0 = clock.now - 3600
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(
        "INSERT INTO users (id, language, output_format, created_at, last_seen_at)"
        " VALUES (111, 'ru', 'mp3', ?, ?)",
        (t0, t0),
    )
    conn.execute(
        "INSERT INTO voices (id, owner_id, name, embedding, encoder_id, speech_seconds,"
        " public, consent_at, created_at) VALUES (7, 111, 'Бабушка', ?, 'enc-v1', 6.5, 1, ?, ?)",
        (embedding_to_blob(embedding), t0, t0),
    )
    conn.execute("UPDATE users SET active_voice_id = 7 WHERE id = 111")
    conn.execute(
        "INSERT INTO recordings (voice_id, sha256, ext, kind, duration, size, created_at)"
        " VALUES (7, ?, 'ogg', 'voice', 7.0, ?, ?)",
        (digest, len(audio), t0),
    )
    conn.execute(
        "INSERT INTO requests (id, user_id, voice_id, text_length, status, created_at,"
        " finished_at) VALUES (1, 111, 7, 40, 'done', ?, ?)",
        (t0, t0 + 5),
    )
    conn.execute(
        "INSERT INTO requests (id, user_id, voice_id, text_length, status, created_at)"
        " VALUES (2, 111, 7, 12, 'queued', ?)",
        (clock.now - 10,),
    )
    conn.close()

    storage = await Storage.open(data_dir, clock=clock)
    try:
        user = await storage.users.get(111)
        assert user is not None
        assert (user.language, user.output_format, user.active_voice_id) == ("ru", "mp3", 7)
        voice = await storage.voices.get_usable(222, 7)  # public: another user may use it
        assert voice is not None and voice.name == "Бабушка" and voice.encoder_id == "enc-v1"
        assert voice.embedding.tobytes() == embedding.tobytes()
        [recording] = await storage.recordings.list_for_voice(7)
        assert await storage.recordings.read(recording) == audio  # kept by garbage collection
        old = await storage.requests.get(1)
        assert old is not None and old.status == "done" and old.error_code is None
        assert old.synth_seconds is None  # a column the first version did not have

        # The new columns work on a row written by the first version.
        assert await storage.requests.count_active(111) == 1
        outcome = SynthOutcome(
            request_id=2, user_id=111, ok=False, error_code="telegram_error", queue_seconds=1.5
        )
        assert await storage.requests.record_outcome(outcome)
        failed = await storage.requests.get(2)
        assert failed is not None
        assert (failed.status, failed.error_code, failed.queue_seconds) == (
            "failed",
            "telegram_error",
            1.5,
        )
        new_id = await storage.requests.create(111, 7, 99)
        assert new_id == 3
    finally:
        await storage.close()
    assert schema_of(db_path)["version"] == SCHEMA_VERSION


async def test_request_ids_are_never_reused_across_the_v4_rebuild(data_dir: Path) -> None:
    db_path = data_dir / DB_FILENAME
    build_old_database(db_path, 3)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("INSERT INTO users (id, created_at, last_seen_at) VALUES (1, 0, 0)")
    for _ in range(5):
        conn.execute(
            "INSERT INTO requests (user_id, text_length, status, created_at)"
            " VALUES (1, 1, 'done', 0)"
        )
    conn.execute("DELETE FROM requests WHERE id > 2")  # ids 3..5 were used, then deleted
    conn.close()
    storage = await Storage.open(data_dir)
    try:
        assert await storage.requests.create(1, None, 1) == 6  # job ids synth-3..5 stay unique
        kinds = {(await storage.requests.get(i)).kind for i in (1, 2)}  # type: ignore[union-attr]
        assert kinds == {"synth"}
    finally:
        await storage.close()


async def test_opening_twice_applies_nothing_again(data_dir: Path) -> None:
    storage = await Storage.open(data_dir)
    await storage.users.ensure(1)
    await storage.close()
    storage = await Storage.open(data_dir)
    try:
        assert await storage.users.count() == 1
    finally:
        await storage.close()


async def test_database_from_a_newer_release_is_refused(data_dir: Path) -> None:
    build_old_database(data_dir / DB_FILENAME, SCHEMA_VERSION)
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError):
        await Storage.open(data_dir)


async def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    # Each migration runs in one transaction with its version bump; a broken statement must
    # roll both back.
    path = tmp_path / "x.sqlite3"
    build_old_database(path, 1)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await apply_migration(conn, 2, ("CREATE TABLE t (x)", "NOT SQL AT ALL"))
    finally:
        await conn.close()
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
        assert "t" not in tables
    finally:
        check.close()


async def test_v5_gives_every_user_the_normal_pace_and_old_requests_no_likeness(
    data_dir: Path,
) -> None:
    db_path = data_dir / DB_FILENAME
    build_old_database(db_path, 4)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("INSERT INTO users (id, created_at, last_seen_at) VALUES (1, 0, 0)")
    conn.execute(
        "INSERT INTO requests (user_id, text_length, status, created_at, synth_seconds)"
        " VALUES (1, 5, 'done', 0, 2.0)"
    )
    conn.close()
    storage = await Storage.open(data_dir)
    try:
        user = await storage.users.get(1)
        assert user is not None and user.pace == 1.0
        old = await storage.requests.get(1)
        assert old is not None and old.synth_seconds == 2.0 and old.likeness is None
    finally:
        await storage.close()
    # The range holds in the schema too, not only in storage's code.
    conn = sqlite3.connect(db_path)
    try:
        for pace in (0.5, 2.0):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute("UPDATE users SET pace = ? WHERE id = 1", (pace,))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO voice_mixes (voice_id, first_id, second_id, first_share)"
                " VALUES (1, NULL, NULL, 1.0)"
            )
    finally:
        conn.close()
