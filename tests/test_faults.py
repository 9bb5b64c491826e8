"""Fault injection through the whole stack: no request lost, no user stuck, duplicates counted.

A real Redis-compatible server (append-only file on), the fake Bot API, `python -m bot` and two
`python -m worker` processes with the tiny reference weights. A stream of users' `/say`
requests runs while faults are injected:

- workers are SIGKILLed at random moments (mid-synthesis, mid-upload, idle, while loading)
  and started again at once, as a supervisor (Docker's restart policy, `make run`) would;
- Redis is shut down mid-stream and started again on the same port from its append-only file.

Each user has one request out at a time and sends the next once the last is answered.
Every answer is classified: a voice note replying to the request (delivered), an apology
replying to it (accepted, then failed), or a refusal at the door (no worker ready, Redis away,
the bot busy: never accepted). Counted at the end, once nothing is open any more:

- lost: accepted (or sent) requests that never got an answer: must be 0;
- stuck: users who, with nothing of theirs open, are still told "one at a time": must be 0;
- duplicates: requests with more than one voice note, and why (a re-send after an upload that
  was cut off says so in its caption).

The figures are printed (run with `-s` to see them) and written to $FAULT_REPORT_DIR if set.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pytest
from redis import Redis

from bot.locales.en import TEXTS as EN
from service.embedded_redis import EmbeddedRedis
from storage import Sample, Storage
from storage.facade import DB_FILENAME
from sv2tts.audio.measures import RecordingStats
from tests.fakes.botapi import Call, FakeBotAPI, FakeUser
from tests.fakes.processes import Proc, Processes, service_env, wait_for_ready_worker, wait_until
from tests.fakes.weights import make_tiny_weights_dir
from worker.api.keys import lease_key
from worker.messages import sent_again_caption

pytestmark = pytest.mark.slow

USERS = 8
REQUESTS = 32  # accepted requests in each stream (at least 30)
KILLS = 10
LEASE_SECONDS = "3"
WORKER_START = 180.0
QUIET_WAIT = 180.0  # after the stream, for everything open to end
REFUSALS = (EN.worker_down, EN.service_busy, EN.one_at_a_time)


@dataclass
class Pending:
    message_id: int
    since: int  # call index when it was sent
    sent_at: float


@dataclass
class Tally:
    scenario: str
    faults: int = 0
    sent: int = 0
    accepted: int = 0
    delivered: int = 0
    apologized: int = 0
    refused: int = 0
    lost: int = 0
    stuck: int = 0
    duplicates: int = 0
    duplicates_sent_again: int = 0  # of which re-sent after a cut-off upload, captioned
    worker_restarts: int = 0
    seconds: float = 0.0
    apologies: dict[str, int] = field(default_factory=dict)


@dataclass
class Stack:
    api: FakeBotAPI
    redis_server: EmbeddedRedis
    redis: Redis
    env: dict[str, str]
    procs: Processes
    data_dir: Path
    workers: list[Proc] = field(default_factory=list)
    restarts: int = 0

    def start_worker(self, wait: bool = True) -> Proc:
        proc = self.procs.start_worker(self.env, "--lease-seconds", LEASE_SECONDS)
        self.workers.append(proc)
        if wait:
            wait_for_ready_worker(self.redis, WORKER_START, pid=proc.pid)
        return proc

    def replace_dead_workers(self) -> None:
        """What a supervisor does: a worker that exited is started again."""
        for proc in list(self.workers):
            if not proc.running():
                self.workers.remove(proc)
                self.start_worker(wait=False)
                self.restarts += 1

    def open_requests(self) -> list[tuple[int, int, str]]:
        with sqlite3.connect(self.data_dir / DB_FILENAME) as conn:
            return list(
                conn.execute(
                    "SELECT id, user_id, status FROM requests WHERE status IN ('queued', 'running')"
                )
            )


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed_users(data_dir: Path, count: int) -> list[FakeUser]:
    users = [FakeUser(800_000 + n, "en", f"Load {n}") for n in range(count)]

    async def seed() -> None:
        store = await Storage.open(data_dir)
        try:
            for n, user in enumerate(users):
                await store.users.ensure(user.id, "en")
                vector = np.random.default_rng(n).standard_normal(256).astype(np.float32)
                sample = Sample(
                    embedding=vector / np.linalg.norm(vector),
                    encoder_id="fault-test",
                    recording=RecordingStats(11.0, 10.0, -20.0, 0.0, 0.4),
                )
                await store.voices.create(user.id, f"Voice {n}", sample)
        finally:
            await store.close()

    asyncio.run(seed())
    return users


@pytest.fixture
def stack(tmp_path: Path, reference_dir: Path) -> Iterator[Stack]:
    data_dir = tmp_path / "data"
    server = EmbeddedRedis(tmp_path / "redis", persist=True, port=free_port())
    server.start()
    with FakeBotAPI() as api, Redis.from_url(server.url) as redis:
        env = service_env(
            bot_api=api,
            redis_url=server.url,
            data_dir=data_dir,
            weights_dir=make_tiny_weights_dir(tmp_path / "weights"),
            # Every user may have one request out; nothing else should refuse them.
            REQUESTS_PER_MINUTE="60",
            MAX_QUEUED_REQUESTS="100",
        )
        procs = Processes(tmp_path / "logs")
        stack = Stack(api, server, redis, env, procs, data_dir)
        try:
            yield stack
        finally:
            procs.stop_all()
            print(procs.logs(80))  # shown when the test fails
            server.stop()


def start_everything(stack: Stack, users: int) -> list[FakeUser]:
    people = seed_users(stack.data_dir, users)
    since = stack.api.mark()
    stack.procs.start_bot(stack.env)
    stack.api.wait_for("deleteWebhook", timeout=60, since=since)
    stack.start_worker()
    stack.start_worker()
    return people


def answer_of(api: FakeBotAPI, user: FakeUser, pending: Pending) -> str | None:
    """'delivered', 'apologized', 'refused', or None while there is no answer yet."""
    for call in api.calls[pending.since :]:
        if call.error or call.params.get("chat_id") != user.id:
            continue
        replied = (call.params.get("reply_parameters") or {}).get("message_id")
        if call.method in ("sendVoice", "sendAudio") and replied == pending.message_id:
            return "delivered"
        if call.method != "sendMessage":
            continue
        text = call.params.get("text", "")
        if replied == pending.message_id and text.startswith("Sorry"):
            return "apologized"  # the worker's apology, a reply to the request
        if text in (EN.request_lost, EN.embed_errors["internal"]):
            return "apologized"  # the bot's sweeper, or its error handler
        if text in REFUSALS:
            return "refused"
    return None


def voice_notes(api: FakeBotAPI) -> list[Call]:
    return [c for c in api.calls_of("sendVoice") if not c.error]


def run_stream(stack: Stack, users: list[FakeUser], tally: Tally, chaos: object) -> None:
    """Send requests until REQUESTS were accepted and the chaos is done; answer bookkeeping."""
    pending: dict[int, Pending] = {}
    started = time.monotonic()
    deadline = started + 600
    counter = 0
    while time.monotonic() < deadline:
        for user in users:
            waiting = pending.get(user.id)
            if waiting is not None:
                answer = answer_of(stack.api, user, waiting)
                if answer is None:
                    continue
                del pending[user.id]
                if answer == "refused":
                    tally.refused += 1
                else:
                    tally.accepted += 1
                    setattr(tally, answer, getattr(tally, answer) + 1)
            if tally.accepted + len(pending) < REQUESTS or not chaos.done():  # type: ignore[attr-defined]
                counter += 1
                since = stack.api.mark()
                update = stack.api.send_command(user, "say", f"Request {counter} of {user.id}.")
                pending[user.id] = Pending(update["message"]["message_id"], since, time.monotonic())
                tally.sent += 1
        chaos.tick()  # type: ignore[attr-defined]
        stack.replace_dead_workers()
        if not pending and tally.accepted >= REQUESTS and chaos.done():  # type: ignore[attr-defined]
            break
        time.sleep(0.1)
    # The stream is over: what is still out must end by itself.
    quiet = time.monotonic() + QUIET_WAIT
    while pending and time.monotonic() < quiet:
        stack.replace_dead_workers()
        for user in users:
            waiting = pending.get(user.id)
            if waiting is not None and (answer := answer_of(stack.api, user, waiting)):
                del pending[user.id]
                if answer == "refused":
                    tally.refused += 1
                else:
                    tally.accepted += 1
                    setattr(tally, answer, getattr(tally, answer) + 1)
        time.sleep(0.2)
    tally.lost = len(pending)
    tally.seconds = round(time.monotonic() - started, 1)


def settle_and_count(stack: Stack, users: list[FakeUser], tally: Tally) -> None:
    wait_until(lambda: not stack.open_requests(), QUIET_WAIT, "every request to be closed")
    time.sleep(3)  # room for a late duplicate to show up, were there one
    per_request: dict[tuple[int, int], list[Call]] = {}
    for call in voice_notes(stack.api):
        replied = (call.params.get("reply_parameters") or {}).get("message_id")
        per_request.setdefault((call.params["chat_id"], replied), []).append(call)
    for calls in per_request.values():
        if len(calls) > 1:
            tally.duplicates += 1
            if any(c.params.get("caption") == sent_again_caption("en") for c in calls):
                tally.duplicates_sent_again += 1
    for call in stack.api.calls_of("sendMessage"):
        text = call.params.get("text", "")
        if text.startswith("Sorry"):
            tally.apologies[text[:60]] = tally.apologies.get(text[:60], 0) + 1
    # Nobody is stuck: with nothing of theirs open, each user's next request is taken (a
    # moment with no worker ready is a refusal at the door, asked again; "you already have a
    # request in progress" would be a stuck user).
    for user in users:
        if not is_free(stack, user):
            tally.stuck += 1
    tally.worker_restarts = stack.restarts


def first_answer(stack: Stack, user: FakeUser, since: int) -> Call | None:
    for call in stack.api.calls[since:]:
        if call.params.get("chat_id") == user.id and call.method in (
            "sendChatAction",
            "sendMessage",
        ):
            return call
    return None


def is_free(stack: Stack, user: FakeUser, tries: int = 5) -> bool:
    for _ in range(tries):
        since = stack.api.mark()
        stack.api.send_command(user, "say", "Am I free again?")
        taken: Call = wait_until(
            lambda s=since: first_answer(stack, user, s), 30, f"an answer to user {user.id}"
        )
        if taken.method == "sendChatAction":
            return True
        if taken.params.get("text") == EN.one_at_a_time:
            return False
        time.sleep(3)  # refused at the door (no worker ready yet): ask again
    return False


def report(tally: Tally) -> None:
    line = json.dumps(asdict(tally), ensure_ascii=False)
    print(f"\nFAULT INJECTION {tally.scenario}: {line}")
    folder = os.environ.get("FAULT_REPORT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{tally.scenario}.json").write_text(line + "\n")


class WorkerKiller:
    """SIGKILLs a random worker every 1-3 s until KILLS were done; half the time it picks one
    that holds a job's lease (mid-job), else any, whatever it is doing."""

    def __init__(self, stack: Stack, kills: int, seed: int = 7) -> None:
        self.stack = stack
        self.left = kills
        self.random = random.Random(seed)
        self.next_at = time.monotonic() + 3.0
        self.done_count = 0

    def done(self) -> bool:
        return self.left == 0

    def tick(self) -> None:
        if self.left == 0 or time.monotonic() < self.next_at:
            return
        alive = [p for p in self.stack.workers if p.running()]
        if not alive:
            return
        busy = [p for p in alive if self._holds_a_lease(p)]
        victim = self.random.choice(busy if busy and self.random.random() < 0.5 else alive)
        os.killpg(victim.popen.pid, signal.SIGKILL)
        victim.popen.wait(timeout=10)
        self.left -= 1
        self.done_count += 1
        self.next_at = time.monotonic() + self.random.uniform(1.0, 3.0)

    def _holds_a_lease(self, proc: Proc) -> bool:
        try:
            for key in self.stack.redis.scan_iter(match=lease_key("*")):
                holder = self.stack.redis.get(key) or b""
                if f":{proc.pid}:".encode() in holder:
                    return True
        except Exception:  # Redis away: any worker will do
            return False
        return False


class RedisRestarter:
    """Shuts Redis down (SHUTDOWN writes the append-only file) twice, a few seconds each,
    once the stream is under way, and starts it again on the same port."""

    def __init__(self, stack: Stack, restarts: int = 2) -> None:
        self.stack = stack
        self.left = restarts
        self.next_at = time.monotonic() + 8.0
        self.done_count = 0

    def done(self) -> bool:
        return self.left == 0

    def tick(self) -> None:
        if self.left == 0 or time.monotonic() < self.next_at:
            return
        self.stack.redis_server.stop(timeout=30)
        time.sleep(3.0)
        self.stack.redis_server.start()
        self.left -= 1
        self.done_count += 1
        self.next_at = time.monotonic() + 10.0


def test_workers_killed_at_random_lose_no_request_and_leave_nobody_stuck(stack: Stack) -> None:
    users = start_everything(stack, USERS)
    tally = Tally("worker-sigkill")
    killer = WorkerKiller(stack, KILLS)
    run_stream(stack, users, tally, killer)
    tally.faults = killer.done_count
    settle_and_count(stack, users, tally)
    report(tally)
    assert tally.faults >= KILLS
    assert tally.accepted >= 30
    assert tally.lost == 0
    assert tally.stuck == 0
    # Duplicates can only come from a re-send after an upload that was cut off, and say so.
    assert tally.duplicates == tally.duplicates_sent_again


def test_a_redis_restart_mid_stream_loses_nothing(stack: Stack) -> None:
    users = start_everything(stack, USERS)
    tally = Tally("redis-restart")
    restarter = RedisRestarter(stack)
    run_stream(stack, users, tally, restarter)
    tally.faults = restarter.done_count
    settle_and_count(stack, users, tally)
    report(tally)
    assert tally.faults == 2
    assert tally.accepted >= 30
    assert tally.lost == 0
    assert tally.stuck == 0
    assert tally.duplicates == tally.duplicates_sent_again
