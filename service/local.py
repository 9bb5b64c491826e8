"""`make run`: the whole service on one machine with one command and only BOT_TOKEN set.

Starts an embedded Redis server (persisted under DATA_DIR/redis, on a Unix socket that only
this user can reach) unless REDIS_URL is set, then the bot (`python -m bot`) and one worker
(`python -m worker`), each a child process with REDIS_URL pointing at it. A child that exits
is reported and started again after a backoff (a worker that found no weights waits longer:
someone has to run `make weights` first).

Each child runs in a session of its own, so Ctrl-C in the terminal (which signals the whole
foreground process group) and `kill -TERM -<pgid>` reach only the launcher, which then stops
them in order: the bot, then the worker (which finishes its job or hands it back), then Redis.

This process only supervises: it must stay light, so it never imports torch or the engine.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pydantic import Field

from service.settings import DEFAULT_DATA_DIR, ServiceSettings, load, setup_logging

log = logging.getLogger("service.local")

WORKER_NO_WEIGHTS = 3  # worker/__main__.py's exit status for missing or corrupt weights
STOP_GRACE_SECONDS = 15.0  # a busy worker finishes its job within this, or is killed
HEALTHY_AFTER_SECONDS = 60.0  # a child that ran this long starts over with a short backoff
_PR_SET_PDEATHSIG = 1


class LauncherSettings(ServiceSettings):
    """What the launcher reads: BOT_TOKEN (to stop at once without it, before starting
    anything), REDIS_URL (or an embedded server, persisted under DATA_DIR/redis),
    METRICS_PORT (0: the launcher picks one for the bot, LOCAL_METRICS_PORT if free)."""

    data_dir: Path = DEFAULT_DATA_DIR
    metrics_port: int = Field(0, ge=0, le=65535)


LOCAL_METRICS_PORT = 9464  # Prometheus's conventional exporter port, as in docker-compose.yml


def metrics_port(wanted: int) -> int:
    """`wanted`, or LOCAL_METRICS_PORT when that is free on loopback, or any free port."""
    if wanted:
        return wanted
    for candidate in (LOCAL_METRICS_PORT, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port for the metrics")


@dataclass(frozen=True, slots=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    # Exit statuses that no quick restart will fix, with the log line to show for each.
    explained_exits: dict[int, str] = field(default_factory=dict)


def restart_delay(failures: int, exit_status: int | None, spec: ChildSpec) -> float:
    """Seconds to wait before starting a child again after `failures` quick exits in a row."""
    if exit_status in spec.explained_exits:
        return 60.0
    return float(min(60, 2 ** max(0, failures - 1)))


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies without cleaning up (Linux only)."""
    with suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One supervised process: started, watched, restarted with backoff, stopped."""

    def __init__(self, spec: ChildSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._failures = 0
        self._next_start = 0.0

    def start(self) -> None:
        # A session of its own: Ctrl-C in the terminal reaches only the launcher, which then
        # stops the children in order instead of all of them at once.
        self._process = subprocess.Popen(
            list(self.spec.argv),
            env=self._env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._started_at = time.monotonic()
        log.info("started %s (pid %d)", self.spec.name, self._process.pid)

    def poll(self) -> None:
        """Notice an exit (and say so), and start the child again once its backoff is over."""
        now = time.monotonic()
        if self._process is None:
            if now >= self._next_start:
                self.start()
            return
        status = self._process.poll()
        if status is None:
            return
        ran = now - self._started_at
        self._failures = 1 if ran >= HEALTHY_AFTER_SECONDS else self._failures + 1
        delay = restart_delay(self._failures, status, self.spec)
        reason = self.spec.explained_exits.get(status, "")
        log.error(
            "%s exited with status %s after %.0f s%s; starting it again in %.0f s",
            self.spec.name,
            status,
            ran,
            f" ({reason})" if reason else "",
            delay,
        )
        self._process = None
        self._next_start = now + delay

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(sig)

    def wait(self, timeout: float) -> bool:
        """True if the child is gone within `timeout` seconds."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, grace: float) -> None:
        if self._process is None:
            return
        self.signal(signal.SIGTERM)
        if not self.wait(grace):
            log.warning("%s did not stop within %.0f s; killing it", self.spec.name, grace)
            with suppress(ProcessLookupError):  # its session: it and whatever it started
                os.killpg(self._process.pid, signal.SIGKILL)
            self.wait(5.0)
        log.info("%s stopped", self.spec.name)
        self._process = None


def children(python: str = sys.executable) -> list[ChildSpec]:
    return [
        ChildSpec("bot", [python, "-m", "bot"]),
        ChildSpec(
            "worker",
            [python, "-m", "worker", "--download-missing"],
            explained_exits={WORKER_NO_WEIGHTS: "no usable model weights: run `make weights`"},
        ),
    ]


def redis_child(python: str, data_dir: Path, unix_socket: Path) -> ChildSpec:
    return ChildSpec(
        "redis",
        [
            python,
            "-m",
            "service.embedded_redis",
            "--data-dir",
            str(data_dir),
            "--socket",
            str(unix_socket),
        ],
    )


def supervise(
    specs: Sequence[ChildSpec],
    env: dict[str, str],
    stopping: threading.Event,
    first: Child | None = None,
) -> None:
    """Run the children until `stopping` is set, then stop them in order: the bot (no new
    requests), the worker (it finishes or hands back its job), and `first` (Redis) last."""
    running = [Child(spec, env) for spec in specs]
    watched = ([first] if first else []) + running
    try:
        for child in running:
            child.start()
        while not stopping.wait(0.5):
            for child in watched:
                child.poll()
    finally:
        for child in running:
            child.stop(STOP_GRACE_SECONDS)
        if first is not None:
            first.stop(STOP_GRACE_SECONDS)


# A Unix socket's path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100


def private_socket_path(redis_dir: Path) -> Path:
    """DATA_DIR/redis/redis.sock, or, when that path is too long for a socket, one in a fresh
    folder of the temp directory that only this user may enter."""
    path = (redis_dir / "redis.sock").resolve()
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    return Path(tempfile.mkdtemp(prefix="voiceclone-redis-")) / "redis.sock"  # mode 0700


def wait_for_redis(url: str, child: Child, timeout: float = 30.0) -> None:
    """Until the server at `url` answers PING; SystemExit if it exits or never does."""
    from redis import Redis
    from redis.exceptions import RedisError

    deadline = time.monotonic() + timeout
    with Redis.from_url(url, socket_timeout=2) as client:
        while True:
            try:
                if client.ping():
                    return
            except RedisError:
                pass
            if not child.running() or time.monotonic() > deadline:
                raise SystemExit("the embedded Redis server did not start; see its log above")
            time.sleep(0.1)


def start_embedded_redis(settings: LauncherSettings, env: dict[str, str]) -> tuple[str, Child]:
    """An embedded server for this run, as a supervised child: its own session (Ctrl-C does
    not reach it), a Unix socket in a folder only this user may enter, no TCP port."""
    from service.embedded_redis import socket_url

    redis_dir = settings.data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    redis_dir.chmod(0o700)
    unix_socket = private_socket_path(redis_dir)
    child = Child(redis_child(sys.executable, redis_dir, unix_socket), env)
    child.start()
    url = socket_url(unix_socket)
    wait_for_redis(url, child)
    log.info("no REDIS_URL: started an embedded Redis server, data in %s", settings.data_dir)
    return url, child


def install_stop_handlers(stopping: threading.Event) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)


def main() -> int:
    settings = load(LauncherSettings)  # no BOT_TOKEN: one line naming it, exit status 2
    setup_logging(settings.log_level)
    stopping = threading.Event()
    install_stop_handlers(stopping)
    env = dict(os.environ)
    redis: Child | None = None
    if settings.redis_url:
        url = settings.redis_url
    else:
        url, redis = start_embedded_redis(settings, env)
    port = metrics_port(settings.metrics_port)
    log.info("metrics of the service on http://127.0.0.1:%d/metrics (Prometheus)", port)
    try:
        bot_env = dict(env, REDIS_URL=url, METRICS_PORT=str(port), METRICS_HOST="127.0.0.1")
        supervise(children(), bot_env, stopping, first=redis)
    finally:
        if redis is not None:
            redis.stop(STOP_GRACE_SECONDS)
    log.info("all stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
