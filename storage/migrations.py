"""The schema, as an ordered list of migrations. `PRAGMA user_version` = how many are applied.

Never edit a migration that has shipped: append a new one. Each migration is a tuple of single
statements (not a script) so that it runs inside one transaction together with the
`user_version` bump: a crash mid-upgrade leaves the previous version intact.

Decisions recorded here because the schema is where they bite:
- Times are REAL Unix seconds (UTC).
- Curated bank voices have `owner_id` NULL (owned by the deployment, not by an admin's
  Telegram account, so an admin's `/forget` does not empty the bank) and are always public.
- `users.active_voice_id` is ON DELETE SET NULL: deleting a voice clears it for everyone
  who had it active. Deleting a user cascades to their voices and recordings; their requests
  are purged by storage itself (v4: running ones outlive the user until they end).
- Recording files live outside the database; rows carry their sha256, and a file is removed
  when the last row naming it goes (see storage/recordings.py).
"""

from __future__ import annotations

Migration = tuple[str, ...]

V1_INITIAL: Migration = (
    """
    CREATE TABLE users (
        id              INTEGER PRIMARY KEY,  -- Telegram user id
        language        TEXT    NOT NULL DEFAULT 'en',
        output_format   TEXT    NOT NULL DEFAULT 'voice'
                                CHECK (output_format IN ('voice', 'mp3')),
        active_voice_id INTEGER REFERENCES voices (id) ON DELETE SET NULL,
        created_at      REAL    NOT NULL,
        last_seen_at    REAL    NOT NULL,
        blocked         INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1))
    )
    """,
    """
    CREATE TABLE voices (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
        name             TEXT    NOT NULL,
        embedding        BLOB    NOT NULL,
        encoder_id       TEXT    NOT NULL,
        sample_count     INTEGER NOT NULL DEFAULT 1,
        speech_seconds   REAL    NOT NULL,
        level_dbfs       REAL,
        clipped_fraction REAL,
        public           INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
        consent_at       REAL,
        curated          INTEGER NOT NULL DEFAULT 0 CHECK (curated IN (0, 1)),
        created_at       REAL    NOT NULL,
        CHECK (public = 0 OR consent_at IS NOT NULL),
        CHECK (curated = 0 OR owner_id IS NULL)
    )
    """,
    "CREATE INDEX voices_owner ON voices (owner_id)",
    """
    CREATE TABLE recordings (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        voice_id   INTEGER NOT NULL REFERENCES voices (id) ON DELETE CASCADE,
        sha256     TEXT    NOT NULL,
        ext        TEXT    NOT NULL,
        kind       TEXT    NOT NULL,
        duration   REAL    NOT NULL,
        size       INTEGER NOT NULL,
        created_at REAL    NOT NULL
    )
    """,
    "CREATE INDEX recordings_voice ON recordings (voice_id)",
    "CREATE INDEX recordings_file ON recordings (sha256, ext)",
    """
    CREATE TABLE requests (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        voice_id    INTEGER REFERENCES voices (id) ON DELETE SET NULL,
        text_length INTEGER NOT NULL,
        status      TEXT    NOT NULL,
        created_at  REAL    NOT NULL,
        finished_at REAL
    )
    """,
)

# v2: timings and failure codes of synthesis requests (from the worker's SynthOutcome), and
# the indexes that the rate limit and the admin figures read by.
V2_REQUEST_OUTCOMES: Migration = (
    "ALTER TABLE requests ADD COLUMN started_at REAL",
    "ALTER TABLE requests ADD COLUMN queue_seconds REAL",
    "ALTER TABLE requests ADD COLUMN synth_seconds REAL",
    "ALTER TABLE requests ADD COLUMN audio_seconds REAL",
    "ALTER TABLE requests ADD COLUMN total_seconds REAL",
    "ALTER TABLE requests ADD COLUMN error_code TEXT",
    "CREATE INDEX requests_user_time ON requests (user_id, created_at)",
    "CREATE INDEX requests_user_status ON requests (user_id, status)",
    "CREATE INDEX requests_time ON requests (created_at)",
)

# v3: the bank is read by (public, curated) on every /bank page.
V3_BANK_INDEX: Migration = ("CREATE INDEX voices_bank ON voices (public, curated, id)",)

# v4: requests are the admission ledger of the per-user and global limits, for recordings
# (kind 'embed') as for speech (kind 'synth'). They no longer cascade from users: `/forget`
# deletes a user at once, but the requests still running and those of the last minute must go
# on counting against the limits until they end (then storage purges them), or `/forget` would
# be a way around "one at a time" and the rate limit. SQLite cannot drop a foreign key, so the
# table is rebuilt (AUTOINCREMENT's counter moves with it: request ids are never reused, job ids
# and Redis keys are named after them).
V4_ADMISSION_LEDGER: Migration = (
    """
    CREATE TABLE requests_v4 (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id       INTEGER NOT NULL,
        voice_id      INTEGER REFERENCES voices (id) ON DELETE SET NULL,
        kind          TEXT    NOT NULL DEFAULT 'synth' CHECK (kind IN ('synth', 'embed')),
        text_length   INTEGER NOT NULL,
        status        TEXT    NOT NULL,
        created_at    REAL    NOT NULL,
        finished_at   REAL,
        started_at    REAL,
        queue_seconds REAL,
        synth_seconds REAL,
        audio_seconds REAL,
        total_seconds REAL,
        error_code    TEXT
    )
    """,
    "INSERT INTO requests_v4 (id, user_id, voice_id, kind, text_length, status, created_at,"
    " finished_at, started_at, queue_seconds, synth_seconds, audio_seconds, total_seconds,"
    " error_code) SELECT id, user_id, voice_id, 'synth', text_length, status, created_at,"
    " finished_at, started_at, queue_seconds, synth_seconds, audio_seconds, total_seconds,"
    " error_code FROM requests",
    # The counter, not just the rows: ids of deleted rows above the highest kept one stay used.
    "DELETE FROM sqlite_sequence WHERE name = 'requests_v4'",
    "INSERT INTO sqlite_sequence (name, seq)"
    " SELECT 'requests_v4', seq FROM sqlite_sequence WHERE name = 'requests'",
    "DROP TABLE requests",
    "ALTER TABLE requests_v4 RENAME TO requests",
    "CREATE INDEX requests_user_time ON requests (user_id, created_at)",
    "CREATE INDEX requests_user_status ON requests (user_id, status)",
    "CREATE INDEX requests_time ON requests (created_at)",
    "CREATE INDEX requests_status ON requests (status)",
)

# v5 (issue #12): a user's pace (`/speed`, the tempo factor of their voice notes, within
# sv2tts.choices.TEMPO_RANGE), the likeness each synthesis measured on its own output (the
# cosine of its re-embedding to the voice; NULL for requests before v5 and when it could not
# be measured), and the provenance of mixed voices (`/mix`). Provenance is a table of its own,
# one row per mixed voice, so that the voices table stays one shape for every voice. Its links
# to the two sources are SET NULL when a source is deleted: the mix keeps its own embedding and
# its share, and no longer names a voice that is gone (a forgotten user's voice included). No
# CHECK on `likeness`: an outcome whose figure a CHECK refused would be retried forever by the
# results consumer; storage clamps it into [-1, 1] instead.
V5_MIX_PACE_LIKENESS: Migration = (
    "ALTER TABLE users ADD COLUMN pace REAL NOT NULL DEFAULT 1.0 CHECK (pace BETWEEN 0.75 AND 1.5)",
    "ALTER TABLE requests ADD COLUMN likeness REAL",
    """
    CREATE TABLE voice_mixes (
        voice_id    INTEGER PRIMARY KEY REFERENCES voices (id) ON DELETE CASCADE,
        first_id    INTEGER REFERENCES voices (id) ON DELETE SET NULL,
        second_id   INTEGER REFERENCES voices (id) ON DELETE SET NULL,
        first_share REAL    NOT NULL CHECK (first_share > 0 AND first_share < 1)
    )
    """,
    # Deleting a voice looks up the mixes that name it (SET NULL); without these, a full scan.
    "CREATE INDEX voice_mixes_first ON voice_mixes (first_id)",
    "CREATE INDEX voice_mixes_second ON voice_mixes (second_id)",
)

# v6: the user's recent voice notes, for inline mode (typing @bot in any chat lists them and
# sends the chosen one there by Telegram's file_id, not uploaded again). A row is made when a
# request is admitted (title: the start of its text) and gets its file_id from the worker's
# outcome; one whose request failed goes. A user's notes go with the user (ON DELETE CASCADE:
# `/forget`). `request_id` names the request without a foreign key: requests are purged on
# their own schedule, notes are kept for the newest NOTES_KEPT per user (storage/notes.py).
V6_NOTES: Migration = (
    """
    CREATE TABLE notes (
        request_id INTEGER PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title      TEXT    NOT NULL,
        file_id    TEXT,
        file_kind  TEXT    CHECK (file_kind IN ('voice', 'audio')),
        duration   REAL,
        created_at REAL    NOT NULL,
        sent_at    REAL,
        CHECK ((file_id IS NULL) = (file_kind IS NULL))
    )
    """,
    "CREATE INDEX notes_user_sent ON notes (user_id, sent_at)",
)

# v7: the status message of each long request (bot/progress.py), so that a restarted bot goes
# on editing it and deletes it when the note arrives, instead of leaving it with its last text
# and a Cancel button. A row goes with its user (ON DELETE CASCADE: `/forget`); the board drops
# it when the message goes or the Cancel button writes its last text.
V7_STATUS_MESSAGES: Migration = (
    """
    CREATE TABLE status_messages (
        request_id INTEGER PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        chat_id    INTEGER NOT NULL,
        message_id INTEGER NOT NULL
    )
    """,
)

MIGRATIONS: tuple[Migration, ...] = (
    V1_INITIAL,
    V2_REQUEST_OUTCOMES,
    V3_BANK_INDEX,
    V4_ADMISSION_LEDGER,
    V5_MIX_PACE_LIKENESS,
    V6_NOTES,
    V7_STATUS_MESSAGES,
)
SCHEMA_VERSION = len(MIGRATIONS)
