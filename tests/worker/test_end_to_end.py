"""The whole path with real processes: fake Bot API, real Redis, `python -m bot`, and
`python -m worker` with tiny synthesizer/vocoder weights and the real speaker encoder.

Users talk to the bot through the fake Bot API; the worker fetches their recordings and
answers with voice notes through it too.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Retry

from bot.locales.en import TEXTS as EN
from sv2tts.audio.codec import encoded_duration
from tests.fakes.botapi import Call, FakeBotAPI, FakeUser
from tests.fakes.formats import container
from tests.fakes.processes import (
    Processes,
    ready_workers,
    service_env,
    wait_for_ready_worker,
    wait_until,
)
from tests.fakes.weights import make_tiny_weights_dir
from worker.api import (
    QUEUE,
    RESULTS_LIST,
    SERIALIZER,
    SYNTH_JOB,
    SynthRequest,
)
from worker.api.keys import lease_key
from worker.queue import presence

pytestmark = pytest.mark.slow

E2E_DB = 8  # this module's database on the session's Redis server
LEASE_SECONDS = "4"  # how soon a killed worker's job is taken over (default 15)
WORKER_START = 120.0  # seconds; importing torch on a busy 2-core machine is slow
SYNTH_WAIT = 120.0


@dataclass
class Stack:
    api: FakeBotAPI
    redis: Redis
    env: dict[str, str]
    procs: Processes

    def start_worker(self, *args: str) -> int:
        proc = self.procs.start_worker(self.env, "--lease-seconds", LEASE_SECONDS, *args)
        wait_for_ready_worker(self.redis, WORKER_START, pid=proc.pid)
        return proc.pid

    def worker(self, pid: int) -> object:
        return next(p for p in self.procs.started if p.pid == pid)


@pytest.fixture(scope="module")
def stack(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory, voice_ogg: bytes
) -> Iterator[Stack]:
    url = f"{redis_url.rstrip('/')}/{E2E_DB}"
    root = tmp_path_factory.mktemp("e2e")
    with FakeBotAPI() as api, Redis.from_url(url) as redis:
        redis.flushdb()
        env = service_env(
            bot_api=api,
            redis_url=url,
            data_dir=root / "data",
            weights_dir=make_tiny_weights_dir(root / "weights"),
            EMBED_TIMEOUT_SECONDS="90",
        )
        procs = Processes(root / "logs")
        try:
            procs.start_bot(env)
            api.wait_for("deleteWebhook", timeout=60)
            yield Stack(api, redis, env, procs)
        finally:
            procs.stop_all()
            print(procs.logs(60))


@pytest.fixture
def workers(stack: Stack) -> Iterator[Stack]:
    """The stack; every worker a test starts is stopped after it."""
    before = len(stack.procs.started)
    yield stack
    for proc in stack.procs.started[before:]:
        if proc.running():
            proc.stop(timeout=30)


def register_voice(stack: Stack, user: FakeUser, ogg: bytes) -> Call:
    file_id, _ = stack.api.add_file(ogg)
    since = stack.api.mark()
    stack.api.send_voice(user, file_id, duration=10, file_size=len(ogg))
    return stack.api.wait_for(
        "editMessageText", lambda c: c.params["chat_id"] == user.id, SYNTH_WAIT, since
    )


def the_queue(redis: Redis) -> Queue:
    return Queue(QUEUE, connection=redis, serializer=SERIALIZER)


def forget_every_heartbeat(redis: Redis) -> None:
    """Workers SIGKILLed by earlier tests leave heartbeats to expire (30 s); as if they had."""
    for info in presence.ready_workers(redis):
        presence.withdraw(redis, str(info["name"]))


def request_statuses(stack: Stack) -> dict[int, str]:
    """request id -> status, as the bot recorded them."""
    import sqlite3

    from storage.facade import DB_FILENAME

    with sqlite3.connect(Path(stack.env["DATA_DIR"]) / DB_FILENAME) as conn:
        return dict(conn.execute("SELECT id, status FROM requests"))


def running_synth_job(redis: Redis) -> str | None:
    """The id of a synth job a worker has started and holds the lease of, if any."""
    for entry in redis.zrange(the_queue(redis).started_job_registry.key, 0, -1):
        job_id = entry.decode().split(":")[0]
        if redis.exists(lease_key(job_id)):
            return job_id
    return None


def voice_notes_to(api: FakeBotAPI, chat_id: int) -> list[Call]:
    return [c for c in api.calls_of("sendVoice") if c.params["chat_id"] == chat_id and not c.error]


def test_a_user_registers_a_voice_and_receives_a_voice_note(
    workers: Stack, voice_ogg: bytes
) -> None:
    stack = workers
    stack.start_worker()
    user = FakeUser(510_001, "en")
    registered = register_voice(stack, user, voice_ogg)
    assert registered.params["text"].startswith("✅"), registered.params["text"]

    text = "Hello there, my friend."
    since = stack.api.mark()
    said = stack.api.send_command(user, "say", text)
    voice = stack.api.wait_for(
        "sendVoice", lambda c: c.params["chat_id"] == user.id, SYNTH_WAIT, since
    )
    data = voice.upload().data
    assert container(data) == "voice"
    seconds = encoded_duration(data)
    # Random tiny weights never predict a stop, so decoding runs to the step limit the
    # synthesizer derives from the text's length: well under a second a character.
    assert 0.02 * len(text) < seconds < 1.0 * len(text)
    assert abs(voice.params["duration"] - seconds) <= 1.0
    assert voice.params["reply_parameters"]["message_id"] == said["message"]["message_id"]
    actions = stack.api.calls_of("sendChatAction", since=since)
    assert any(c.params["action"] == "record_voice" for c in actions)


def test_a_worker_killed_mid_job_is_replaced_and_the_user_gets_exactly_one_voice_note(
    workers: Stack, voice_ogg: bytes
) -> None:
    stack = workers
    first = stack.start_worker()
    user = FakeUser(510_002, "ru")
    register_voice(stack, user, voice_ogg)

    since = stack.api.mark()
    stack.api.send_command(user, "say", "This sentence is being spoken twice over.")
    # Killed once the job runs (registered as started, under the worker's lease, "recording
    # voice" shown): synthesis takes seconds, so the job is certainly mid-way.
    running = wait_until(lambda: running_synth_job(stack.redis), SYNTH_WAIT, "the job to start")
    stack.api.wait_for(
        "sendChatAction", lambda c: c.params["chat_id"] == user.id, SYNTH_WAIT, since
    )
    stack.worker(first).kill()  # type: ignore[attr-defined]
    assert voice_notes_to(stack.api, user.id) == []

    second = stack.start_worker()
    stack.api.wait_for("sendVoice", lambda c: c.params["chat_id"] == user.id, SYNTH_WAIT, since)
    request_id = int(running.removeprefix("synth-"))
    wait_until(lambda: request_statuses(stack).get(request_id) == "done", 30, "request done")
    # The new worker found the job without a lease and put it back, spending one retry.
    assert f"job {running} lost its worker; queued again" in stack.worker(second).output()  # type: ignore[attr-defined]
    wait_until(lambda: stack.redis.llen(RESULTS_LIST) == 0, 30, "the bot took the outcome")
    time.sleep(3)  # room for a duplicate to show up, were there one
    assert len(voice_notes_to(stack.api, user.id)) == 1
    apologies = [c for c in stack.api.calls_of("sendMessage", since=since) if "Извините" in c.text]
    assert apologies == []
    # Once recorded, nothing of the request is left in Redis: not the job, not its keys (the
    # bot's sweeper clears what it had to leave while the worker was finishing the job).
    wait_until(lambda: not stack.redis.keys(f"*{running}*"), 30, "the job and its keys purged")


def test_a_telegram_server_error_on_upload_is_retried_after_a_backoff(workers: Stack) -> None:
    stack = workers
    worker = stack.worker(stack.start_worker())
    chat = 510_003
    request = SynthRequest(
        request_id=990_001,
        user_id=chat,
        chat_id=chat,
        reply_to_message_id=None,
        text="Retry me.",
        embedding=[1 / 16] * 256,
        enqueued_at=time.time(),
    )
    stack.api.fail_next("sendVoice", 502, "Bad Gateway")
    queue = the_queue(stack.redis)
    job = queue.enqueue(SYNTH_JOB, request.to_dict(), retry=Retry(max=2, interval=[2]))
    wait_until(lambda: voice_notes_to(stack.api, chat), SYNTH_WAIT, "the retried voice note")
    failed = [c for c in stack.api.calls_of("sendVoice") if c.params["chat_id"] == chat]
    assert [bool(c.error) for c in failed] == [True, False]
    # One retry spent on the 502 (the job itself is gone: the bot cleared it out of Redis once
    # it had the outcome, so the worker's log tells).
    worker.wait_for_output("for request 990001 in", 30)  # type: ignore[attr-defined]
    out = worker.output()  # type: ignore[attr-defined]
    assert f"Job {job.id}: scheduled for retry" in out and "1 remaining" in out
    wait_until(lambda: not stack.redis.exists(job.key), 30, "the job cleared out")


def test_with_no_worker_running_the_user_is_told_at_once(workers: Stack, voice_ogg: bytes) -> None:
    stack = workers
    pid = stack.start_worker()
    stack.worker(pid).stop()  # type: ignore[attr-defined]
    assert [w for w in ready_workers(stack.redis) if w["pid"] == pid] == []  # withdrawn at stop
    forget_every_heartbeat(stack.redis)

    user = FakeUser(510_004, "en")
    file_id, _ = stack.api.add_file(voice_ogg)
    since = stack.api.mark()
    stack.api.send_voice(user, file_id, duration=10, file_size=len(voice_ogg))
    answer = stack.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == user.id, 15, since)
    assert answer.params["text"] == EN.worker_down


def worker_health(stack: Stack, *flags: str) -> int:
    """Exit status of `python -m worker health FLAGS` in the stack's environment."""
    return subprocess.run(
        [sys.executable, "-m", "worker", "health", *flags],
        env=stack.env,
        capture_output=True,
        timeout=60,
        cwd=stack.procs.cwd,
    ).returncode


def test_worker_health_command_tells_whether_a_worker_is_ready(workers: Stack) -> None:
    def health() -> int:
        return worker_health(workers)

    forget_every_heartbeat(workers.redis)
    assert health() == 1
    workers.start_worker()
    assert health() == 0


def test_a_worker_without_weights_names_the_file_and_the_fix(
    workers: Stack, tmp_path: Path
) -> None:
    env = dict(workers.env, SV2TTS_WEIGHTS_DIR=str(tmp_path / "empty"))
    proc = workers.procs.start_worker(env)
    status = proc.popen.wait(timeout=WORKER_START)
    assert status == 3
    assert "synthesizer.pt" in proc.output() and "make weights" in proc.output()
    assert not [w for w in ready_workers(workers.redis) if w["pid"] == proc.pid]


def test_health_for_this_host_ignores_the_heartbeats_of_other_hosts(
    workers: Stack,
) -> None:
    def health(*flags: str) -> int:
        return worker_health(workers, *flags)

    forget_every_heartbeat(workers.redis)
    elsewhere = {"name": "w-elsewhere", "pid": 1, "host": "another-host", "device": "cuda"}
    presence.beat(workers.redis, "w-elsewhere", elsewhere, ttl=60)
    assert health() == 0  # some worker somewhere is ready
    assert health("--this-host") == 1  # but none on this host
    workers.start_worker()
    assert health("--this-host") == 0


def test_first_start_tries_to_download_missing_weights_then_names_the_fix(
    workers: Stack, tmp_path: Path
) -> None:
    """`make run`'s worker fetches what is missing; offline it still ends with the fix."""
    with socket.socket() as probe:  # a loopback port with nothing listening: "offline"
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env = dict(
        workers.env,
        SV2TTS_WEIGHTS_DIR=str(tmp_path / "empty"),
        SV2TTS_WEIGHTS_URL=f"http://127.0.0.1:{closed_port}",
    )
    proc = workers.procs.start_worker(env, "--download-missing")
    status = proc.popen.wait(timeout=WORKER_START)
    out = proc.output()
    assert status == 3
    assert "first start: downloading synthesizer, vocoder" in out  # the encoder is bundled
    assert "could not download the weights" in out
    assert "synthesizer.pt" in out and "make weights" in out


def test_first_start_downloads_nothing_when_the_weights_resolve(workers: Stack) -> None:
    proc = workers.worker(workers.start_worker("--download-missing"))
    assert "first start: downloading" not in proc.output()  # type: ignore[attr-defined]


def test_a_worker_stopped_mid_job_hands_it_back_and_another_sends_it_once(
    workers: Stack, voice_ogg: bytes
) -> None:
    stack = workers
    proc = stack.procs.start_worker(stack.env, "--release-after", "1")
    wait_for_ready_worker(stack.redis, WORKER_START, pid=proc.pid)
    user = FakeUser(510_005, "en")
    register_voice(stack, user, voice_ogg)
    since = stack.api.mark()
    stack.api.send_command(user, "say", " ".join(["This is a long sentence to speak."] * 12))
    running = wait_until(lambda: running_synth_job(stack.redis), SYNTH_WAIT, "the job to start")
    stopped_at = time.monotonic()
    proc.signal(signal.SIGTERM)  # `docker stop`, or the launcher stopping
    assert proc.popen.wait(timeout=30) == 0
    assert time.monotonic() - stopped_at < 10  # handed back, not finished or killed
    assert f"job {running} handed back to the queue" in proc.output()
    assert voice_notes_to(stack.api, user.id) == []
    assert running in the_queue(stack.redis).job_ids  # at the front, ready for the next
    stack.start_worker()
    stack.api.wait_for("sendVoice", lambda c: c.params["chat_id"] == user.id, SYNTH_WAIT, since)
    time.sleep(3)
    assert len(voice_notes_to(stack.api, user.id)) == 1


def test_cancel_while_a_worker_synthesizes_is_told_the_truth_and_nothing_is_sent(
    workers: Stack, voice_ogg: bytes
) -> None:
    stack = workers
    stack.start_worker()
    user = FakeUser(510_006, "en")
    register_voice(stack, user, voice_ogg)
    since = stack.api.mark()
    stack.api.send_command(user, "say", " ".join(["Cancel me while I am being spoken."] * 10))
    running = wait_until(lambda: running_synth_job(stack.redis), SYNTH_WAIT, "the job to start")
    cancel_at = stack.api.mark()
    stack.api.send_command(user, "cancel")
    answer = stack.api.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == user.id, 30, cancel_at
    )
    assert answer.params["text"] == EN.cancelled_in_progress
    request_id = int(running.removeprefix("synth-"))
    wait_until(lambda: request_statuses(stack).get(request_id) == "cancelled", SYNTH_WAIT, "closed")
    time.sleep(2)
    assert voice_notes_to(stack.api, user.id) == []
    apologies = [c for c in stack.api.calls_of("sendMessage", since=since) if "Sorry" in c.text]
    assert apologies == []
