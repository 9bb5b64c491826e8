"""Real processes for end-to-end tests: a worker (`python -m worker`), the bot (`python -m bot`).

Each process gets an environment of its own (nothing inherited that could point it at a real
Telegram or Redis: only PATH, HOME, the locale and PYTHONPATH pass through), runs in a scratch
directory (so a developer's `.env` is not read) and in a session of its own (so a test can
kill it and whatever it started). Output goes to a log file, whose tail is printed when a test
fails to say why.

    with Processes(tmp_path) as procs:
        env = service_env(bot_api=api, redis_url=url, data_dir=tmp_path / "data",
                          weights_dir=make_tiny_weights_dir(tmp_path / "weights"))
        worker = procs.start_worker(env)
        wait_for_ready_worker(Redis.from_url(url), timeout=60)
        bot = procs.start_bot(env)
        ...
        worker.kill()          # SIGKILL, as a crash would
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from redis import Redis

from tests.conftest import ROOT
from worker.__main__ import ready_workers

PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def service_env(
    *,
    bot_api: Any,
    redis_url: str | None,
    data_dir: Path,
    weights_dir: Path | None = None,
    **extra: str,
) -> dict[str, str]:
    """Environment for the bot, a worker or the launcher, talking to the fake Bot API.

    `redis_url=None` leaves REDIS_URL unset (the launcher then starts an embedded server).
    Extra keyword arguments become variables (`LOG_LEVEL="DEBUG"`).
    """
    env = {key: os.environ[key] for key in PASS_THROUGH if key in os.environ}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        BOT_TOKEN=bot_api.token,
        TELEGRAM_API_URL=bot_api.url,
        DATA_DIR=str(data_dir),
        DEVICE="cpu",
        # The CI machine is small: one thread per process keeps concurrent tests from
        # starving each other.
        OMP_NUM_THREADS="1",
        # The harness's workers speak English test sentences: no stress model at each of
        # their many starts (tests/worker/test_threads.py covers the preload).
        STRESS_PRELOAD="false",
    )
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    if weights_dir is not None:
        env["SV2TTS_WEIGHTS_DIR"] = str(weights_dir)
    env.update(extra)
    return env


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1
) -> Any:
    """The first truthy value of `condition()`; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def wait_for_ready_worker(redis: Redis, timeout: float = 120.0, *, pid: int | None = None) -> dict:
    """The heartbeat of a ready worker (the one with `pid`, if given)."""

    def found() -> dict | None:
        for info in ready_workers(redis):
            if pid is None or info.get("pid") == pid:
                return info
        return None

    return wait_until(found, timeout, f"a ready worker{f' (pid {pid})' if pid else ''}")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Linux /proc), whatever session it moved to."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Proc:
    """A started process with its log file."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        wait_until(lambda: text in self.output(), timeout, f"{text!r} in {self.name}'s output")

    def running(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.running():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; the exit status."""
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.wait()

    def kill(self) -> None:
        """SIGKILL the whole session at once, as a crash or the OOM killer would."""
        if self.running():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)


class Processes:
    """Starts processes for a test and makes sure none outlives it."""

    def __init__(self, log_dir: Path, cwd: Path | None = None) -> None:
        self.log_dir = log_dir
        self.cwd = cwd or log_dir
        self.started: list[Proc] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> Proc:
        log_path = self.log_dir / f"{name}-{len(self.started)}.log"
        with log_path.open("wb") as log_file:
            popen = subprocess.Popen(
                argv,
                env=dict(env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log_path)
        self.started.append(proc)
        return proc

    def start_worker(self, env: Mapping[str, str], *args: str) -> Proc:
        return self.start("worker", [sys.executable, "-m", "worker", *args], env)

    def start_bot(self, env: Mapping[str, str]) -> Proc:
        return self.start("bot", [sys.executable, "-m", "bot"], env)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            if proc.running():
                proc.stop(timeout=10)

    def logs(self, tail: int = 40) -> str:
        parts = []
        for proc in self.started:
            lines = proc.output().splitlines()[-tail:]
            parts.append(f"----- {proc.name} (pid {proc.pid}) -----\n" + "\n".join(lines))
        return "\n".join(parts)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.stop_all()
        if exc_type is not None:
            print(self.logs(), file=sys.stderr)
