"""The bot as in production: `python -m bot` in a subprocess, against the fake Bot API, a real
Redis server (a database of the session's server of its own) and a temporary DATA_DIR.

Tests act as Telegram users by pushing updates into the fake Bot API and wait for what the
bot calls back. `BotHarness` bundles the pieces; `start_bot(...)` starts one bot process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from redis import Redis
from rq import Queue

from storage import Sample, Storage
from sv2tts.audio.measures import RecordingStats
from tests.conftest import ROOT
from tests.fakes.botapi import Call, FakeBotAPI, FakeUser
from worker.api import QUEUE, SERIALIZER
from worker.queue import presence

T = TypeVar("T")

BOT_REDIS_DB = 3  # the bot tests' own database on the session's Redis server
ADMIN_ID = 900_001
START_TIMEOUT = 30.0
_user_ids = itertools.count(100_001)


def random_embedding(seed: int) -> np.ndarray:
    """Test fixture data for voices seeded straight into storage (button flows only)."""
    vector = np.random.default_rng(seed).standard_normal(256).astype(np.float32)
    return vector / np.linalg.norm(vector)


def status_prefixes() -> tuple[str, ...]:
    """How the status updates of long work begin, in every language (bot/progress.py)."""
    from bot.locales import supported_languages, texts_for

    found = []
    for language in supported_languages():
        texts = texts_for(language)
        for template in (texts.listening_queued, texts.status_making, texts.queue_place):
            found.append(template.split("{")[0])
    # A prefix too short to tell a status from an answer ("Вы ") is left out.
    return tuple(prefix for prefix in found if len(prefix) >= 8)


def is_status_update(text: str) -> bool:
    return text.startswith(status_prefixes())


@dataclass
class BotHarness:
    api: FakeBotAPI
    redis_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]
    admin: FakeUser = field(default_factory=lambda: FakeUser(ADMIN_ID, "en", "Admin"))

    # ---------------------------------------------------------------------------- users

    @staticmethod
    def new_user(language: str | None = "en", name: str = "Test") -> FakeUser:
        return FakeUser(next(_user_ids), language, name)

    def send(self, user: FakeUser, text: str, timeout: float = 10.0) -> Call:
        """Send text as `user`; the bot's first message to them after it."""
        since = self.api.mark()
        self.api.send_text(user, text)
        return self.next_message(user, since, timeout)

    def next_message(self, user: FakeUser, since: int, timeout: float = 10.0) -> Call:
        """The bot's first message delivered to `user` after call number `since`."""
        return self.api.wait_for(
            "sendMessage",
            lambda c: c.params.get("chat_id") == user.id and c.error is None,
            timeout,
            since,
        )

    def press(self, user: FakeUser, label: str, message: dict[str, Any] | None = None) -> Call:
        """Press the button labelled `label`; the bot's answerCallbackQuery."""
        since = self.api.mark()
        update = self.api.press(user, label, message)
        query_id = update["callback_query"]["id"]
        return self.api.wait_for(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == query_id,
            10,
            since,
        )

    def press_data(self, user: FakeUser, data: str, message: dict[str, Any] | None = None) -> Call:
        """Push a callback with arbitrary data (a forged or stale button)."""
        since = self.api.mark()
        update = self.api.callback_update(user, data, message)
        self.api.push_update(update)
        query_id = update["callback_query"]["id"]
        return self.api.wait_for(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == query_id,
            10,
            since,
        )

    def edited(self, user: FakeUser, since: int, timeout: float = 10.0) -> Call:
        """The bot's first edit of a message to `user` after `since` that is an answer, not
        a status update of work still going on (bot/progress.py)."""
        return self.api.wait_for(
            "editMessageText",
            lambda c: c.params.get("chat_id") == user.id and not is_status_update(c.text),
            timeout,
            since,
        )

    # ---------------------------------------------------------------------------- state

    def redis(self) -> Redis:
        return Redis.from_url(self.redis_url)

    def synth_jobs(self) -> list[Any]:
        with self.redis() as client:
            jobs = Queue(QUEUE, connection=client, serializer=SERIALIZER).get_jobs()
            return [job for job in jobs if job.id.startswith("synth-")]

    def set_worker_alive(self, alive: bool = True) -> None:
        with self.redis() as client:
            if alive:
                presence.beat(client, "test-stand-in", {"name": "test-stand-in"}, ttl=300)
            else:
                presence.withdraw(client, "test-stand-in")

    def db(self, use: Callable[[Storage], Awaitable[T]]) -> T:
        """Run `use(storage)` on a second connection to the bot's database."""

        async def run() -> T:
            store = await Storage.open(self.data_dir, collect_garbage=False)
            try:
                return await use(store)
            finally:
                await store.close()

        return asyncio.run(run())

    def seed_voice(
        self, owner: FakeUser | None, name: str, *, public: bool = False, active: bool = True
    ) -> int:
        """A voice put straight into storage, for tests of the buttons around voices."""
        sample = Sample(
            embedding=random_embedding(zlib.crc32(name.encode())),
            encoder_id="test-seed",
            recording=RecordingStats(
                total_seconds=14.0,
                speech_seconds=12.0,
                level_dbfs=-20.0,
                clipped_fraction=0.0,
                speech_share=0.95,
            ),
        )

        async def seed(store: Storage) -> int:
            if owner is None:
                return (await store.voices.create_curated(name, sample)).id
            await store.users.ensure(owner.id, owner.language_code or "en")
            voice = await store.voices.create(owner.id, name, sample, make_active=active)
            if public:
                await store.voices.publish(owner.id, voice.id)
            return voice.id

        return self.db(seed)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def bot_env(api: FakeBotAPI, redis_url: str, data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "REDIS_"))}
    env.update(
        BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        REDIS_URL=redis_url,
        DATA_DIR=str(data_dir),
        ADMIN_IDS=str(ADMIN_ID),
        LOG_LEVEL="INFO",
        EMBED_TIMEOUT_SECONDS="60",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@contextlib.contextmanager
def start_bot(
    api: FakeBotAPI, redis_url: str, data_dir: Path, **overrides: str
) -> Iterator[BotHarness]:
    """`python -m bot` against `api`; yields once it polls, stops it (SIGTERM) after."""
    env = bot_env(api, redis_url, data_dir, **overrides)
    log_path = data_dir.parent / f"{data_dir.name}-bot.log"
    since = api.mark()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    harness = BotHarness(api, redis_url, data_dir, process, log_path, env)
    try:
        ready = "setWebhook" if overrides.get("WEBHOOK_URL") else "deleteWebhook"
        try:
            api.wait_for(ready, timeout=START_TIMEOUT, since=since)
        except AssertionError:
            raise AssertionError(f"the bot did not start; its log:\n{harness.log_text()}") from None
        yield harness
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fresh_redis_db(redis_url: str, db: int) -> str:
    url = f"{redis_url.rstrip('/')}/{db}"
    with Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture(scope="package")
def bot_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as api:
        yield api


@pytest.fixture(scope="package")
def bot(
    bot_api: FakeBotAPI, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotHarness]:
    """One bot process for all bot tests (starting one costs seconds); tests keep apart by
    using fresh users."""
    url = fresh_redis_db(redis_url, BOT_REDIS_DB)
    data_dir = tmp_path_factory.mktemp("bot-data")
    with start_bot(
        bot_api,
        url,
        data_dir,
        REQUESTS_PER_MINUTE="3",
        MAX_ACTIVE_REQUESTS_PER_USER="1",
        MAX_AUDIO_SECONDS="120",
        MAX_AUDIO_BYTES=str(2 * 1024 * 1024),
        BANK_PAGE_SIZE="2",
    ) as harness:
        harness.set_worker_alive(True)
        yield harness
        if harness.process.poll() is not None:
            pytest.fail(f"the bot exited early; its log:\n{harness.log_text()}")


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
