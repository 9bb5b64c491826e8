"""`make run`: one command starts Redis, the bot and a worker; Ctrl-C stops all of them."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.locales.en import TEXTS as EN
from tests.conftest import ROOT
from tests.fakes.botapi import FakeBotAPI, FakeUser
from tests.fakes.processes import (
    PASS_THROUGH,
    Processes,
    alive,
    descendants,
    service_env,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def bot_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as api:
        yield api


def bare_env() -> dict[str, str]:
    env = {key: os.environ[key] for key in PASS_THROUGH if key in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    return env


def make_with_venv_installed() -> str:
    """`make`, after bringing the venv up to date, so that `make run` only runs."""
    make = shutil.which("make")
    assert make, "make is not installed"
    subprocess.run([make, "-s", "install"], cwd=ROOT, capture_output=True, timeout=900, check=True)
    return make


def dotenv_sets_token() -> bool:
    dotenv = ROOT / ".env"
    return dotenv.exists() and any(
        line.strip().upper().startswith("BOT_TOKEN=") for line in dotenv.read_text().splitlines()
    )


def test_launcher_without_bot_token_exits_at_once_naming_it(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "service.local"],
        env=bare_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0], lines
    assert time.monotonic() - started < 30
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.skipif(dotenv_sets_token(), reason="a .env in the repository sets BOT_TOKEN")
def test_make_run_without_bot_token_exits_at_once_naming_it() -> None:
    make = make_with_venv_installed()
    result = subprocess.run(
        [make, "-s", "run"], env=bare_env(), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    ours = [
        line
        for line in (result.stdout + result.stderr).strip().splitlines()
        if not line.startswith("make:")  # make's own "Error 2" trailer
    ]
    assert result.returncode != 0
    assert len(ours) == 1 and "BOT_TOKEN" in ours[0], ours


def test_make_run_starts_polls_and_stops_everything_on_sigint(
    bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    make = make_with_venv_installed()
    env = service_env(
        bot_api=bot_api,
        redis_url="",  # empty: embedded Redis, even if a .env here names one
        data_dir=tmp_path / "data",
        weights_dir=tmp_path / "no-weights",
    )
    procs = Processes(tmp_path / "logs", cwd=ROOT)
    run = procs.start("make-run", [make, "-s", "run"], env)
    try:
        bot_api.wait_for("getMe", timeout=60)
        # The fake does not record polls; an answer to an update proves the bot polls.
        bot_api.send_command(FakeUser(4242, "en"), "start")
        bot_api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 4242, timeout=30)
        # The worker finds no weights and exits; the launcher says so and will try again.
        run.wait_for_output("worker exited with status 3", timeout=90)
        assert "make weights" in run.output()
        tree = descendants(run.pid)
        names = {Path(f"/proc/{pid}/exe").resolve().name for pid in tree if alive(pid)}
        assert any(name.startswith(("valkey", "redis")) for name in names), names
        assert (tmp_path / "data" / "redis").is_dir()

        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        run.popen.wait(timeout=60)
        leftovers = [pid for pid in tree if alive(pid)]
        deadline = time.monotonic() + 20
        while leftovers and time.monotonic() < deadline:
            time.sleep(0.2)
            leftovers = [pid for pid in tree if alive(pid)]
        assert leftovers == [], procs.logs()
        assert "stopping" in run.output()
    finally:
        for pid in descendants(run.pid):
            os.kill(pid, signal.SIGKILL)
        procs.stop_all()


def test_restart_backoff_grows_and_waits_long_for_missing_weights() -> None:
    from service.local import WORKER_NO_WEIGHTS, children, restart_delay

    bot, worker = children("python")
    assert [restart_delay(n, 1, bot) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert restart_delay(20, 1, bot) == 60.0
    assert restart_delay(1, WORKER_NO_WEIGHTS, worker) == 60.0


def housekeeping_rounds(socket: Path, rounds: int) -> None:
    """Wait until the worker has renewed its readiness heartbeat `rounds` times (a condition,
    not a fixed sleep: the housekeeping thread runs every few seconds)."""
    import redis

    from worker.api.keys import WORKERS_KEY

    client = redis.Redis(unix_socket_path=str(socket))
    try:
        seen: list[float] = []

        def renewed() -> bool:
            scores = [score for _, score in client.zrange(WORKERS_KEY, 0, -1, withscores=True)]
            if scores and (not seen or max(scores) > seen[-1]):
                seen.append(max(scores))
            return len(seen) > rounds

        wait_until(renewed, 60, f"{rounds} heartbeats of the worker")
    finally:
        client.close()


def redis_server_pids(tree: set[int]) -> list[int]:
    """The Redis server processes themselves (not the Python wrapper) among `tree`."""
    found = []
    for pid in tree:
        try:
            name = Path(f"/proc/{pid}/exe").resolve().name
        except OSError:
            continue
        if name.startswith(("valkey", "redis")) and alive(pid):
            found.append(pid)
    return found


def say_is_served(api: FakeBotAPI, user: FakeUser, timeout: float) -> bool:
    """Send /say until a voice note answers it; the worker, back from the outage, may need a
    heartbeat or two before the bot counts it as ready again (and says so meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        since = api.mark()
        message_id = api.send_command(user, "say", "Back after the outage.")["message"][
            "message_id"
        ]

        def answer(since: int = since, message_id: int = message_id) -> str | None:
            for call in api.calls[since:]:
                if call.params.get("chat_id") != user.id:
                    continue
                replied = (call.params.get("reply_parameters") or {}).get("message_id")
                if call.method == "sendVoice" and replied == message_id:
                    return "served"
                if call.method == "sendMessage" and call.text == EN.worker_down:
                    return "not yet"
            return None

        if wait_until(answer, max(1.0, deadline - time.monotonic()), "an answer") == "served":
            return True
        time.sleep(2)
    return False


def test_make_run_idles_quietly_survives_its_redis_server_killed_and_stops_in_order(
    bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    """`kill -TERM -<pgid>` (or Ctrl-C, which signals the whole group too) reaches only the
    launcher: Redis and the worker are in sessions of their own, so nothing dies under the
    others' feet; the launcher stops the bot, then the worker, then Redis, and nobody prints
    a traceback. A healthy idle stack logs no warning.

    The Redis server process SIGKILLed (what the OOM killer does to the largest process) is
    started again from its append-only file within seconds, with a warning line and no
    traceback, and the next /say is served."""
    from tests.fakes.weights import make_tiny_weights_dir
    from tests.test_faults import seed_users

    make = make_with_venv_installed()
    [speaker] = seed_users(tmp_path / "data", 1)
    env = service_env(
        bot_api=bot_api,
        redis_url="",
        data_dir=tmp_path / "data",
        weights_dir=make_tiny_weights_dir(tmp_path / "weights"),
    )
    procs = Processes(tmp_path / "logs", cwd=ROOT)
    run = procs.start("make-run", [make, "-s", "run"], env)
    try:
        run.wait_for_output("ready on cpu", timeout=120)
        bot_api.send_command(FakeUser(4343, "en"), "start")
        bot_api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 4343, timeout=30)
        # Idle through two rounds of the worker's housekeeping (heartbeat, leases, recovery),
        # while the bot's results consumer, sweeper and metrics loops run beside it.
        housekeeping_rounds(tmp_path / "data" / "redis" / "redis.sock", rounds=2)
        # `make run` says where the metrics are, and they are there (issue 21).
        [url] = re.findall(r"metrics of the service on (http://\S+/metrics)", run.output())

        def scraped() -> str:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.read().decode()

        wait_until(lambda: "voiceclone_workers_alive 1.0" in scraped(), 30, "a worker counted")

        # Redis listens on a Unix socket in a folder only this user may enter, and on no port.
        redis_dir = tmp_path / "data" / "redis"
        assert redis_dir.stat().st_mode & 0o077 == 0
        config = (redis_dir / "valkey.conf").read_text()
        assert "port 0" in config.splitlines()
        assert (redis_dir / "redis.sock").is_socket()
        out = run.output()
        noisy = [line for line in out.splitlines() if " WARNING " in line or " ERROR " in line]
        assert noisy == [], noisy
        quiet_until = len(out)

        [server] = redis_server_pids(descendants(run.pid))
        os.kill(server, signal.SIGKILL)
        run.wait_for_output("the Redis server process died", timeout=10)
        wait_until(lambda: redis_server_pids(descendants(run.pid)), 15, "Redis started again")
        assert say_is_served(bot_api, speaker, timeout=90), run.output()[quiet_until:]
        outage = run.output()[quiet_until:]
        assert "Traceback" not in outage, outage
        assert outage.count("the Redis server process died") == 1, outage
        # Each process notes the cut once or twice as it reconnects, not every 2 s for minutes.
        noisy = [line for line in outage.splitlines() if " WARNING " in line or " ERROR " in line]
        assert len(noisy) <= 8, noisy

        tree = descendants(run.pid)
        os.killpg(run.pid, signal.SIGTERM)  # the whole group, as `kill -TERM -<pgid>` does
        run.popen.wait(timeout=60)
        deadline = time.monotonic() + 20
        while [pid for pid in tree if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in tree if alive(pid)] == [], procs.logs()
        out = run.output()
        assert "Traceback" not in out, out
        order = [out.index(f"{name} stopped") for name in ("bot", "worker", "redis")]
        assert order == sorted(order), out[-3000:]
        assert "all stopped" in out
    finally:
        for pid in descendants(run.pid):
            os.kill(pid, signal.SIGKILL)
        procs.stop_all()
