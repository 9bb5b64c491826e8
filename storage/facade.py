"""`Storage`: the one object the bot builds at start and hands to its handlers."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import TracebackType

from storage.db import DEFAULT_BUSY_TIMEOUT_MS, Clock, Database
from storage.files import FileStore
from storage.mixes import Mixes
from storage.models import ForgetReport
from storage.notes import Notes
from storage.recordings import Recordings
from storage.requests import Requests
from storage.stats import StatsQueries
from storage.status_messages import StatusMessages
from storage.users import Users
from storage.voices import Voices

log = logging.getLogger(__name__)

DB_FILENAME = "bot.sqlite3"
RECORDINGS_DIRNAME = "recordings"


class Storage:
    def __init__(self, db: Database, data_dir: Path, files: FileStore) -> None:
        self._db = db
        self.data_dir = data_dir
        self.recordings = Recordings(db, files)
        self.users = Users(db, self.recordings)
        self.voices = Voices(db, self.recordings)
        self.mixes = Mixes(db)
        self.requests = Requests(db)
        self.stats = StatsQueries(db)
        self.notes = Notes(db)
        self.status_messages = StatusMessages(db)

    @classmethod
    async def open(
        cls,
        data_dir: Path | str,
        *,
        clock: Clock = time.time,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        collect_garbage: bool = True,
    ) -> Storage:
        """Open (creating or upgrading) DATA_DIR/bot.sqlite3 and DATA_DIR/recordings/.

        `clock` returns Unix seconds; tests pass a fake one. At start, recording files that
        no row names (left by a crash) are removed unless `collect_garbage` is false.
        """
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        db = await Database.open(
            data_dir / DB_FILENAME, clock=clock, busy_timeout_ms=busy_timeout_ms
        )
        storage = cls(db, data_dir, FileStore(data_dir / RECORDINGS_DIRNAME))
        await storage.requests.prepare()
        if collect_garbage:
            await storage.recordings.collect_garbage()
        log.info("storage open at %s", data_dir)
        return storage

    @property
    def db_path(self) -> Path:
        return self._db.path

    async def close(self) -> None:
        await self._db.close()

    async def forget(self, user_id: int) -> ForgetReport:
        """Everything the bot holds about the user, gone: see `Users.forget`."""
        return await self.users.forget(user_id)

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
