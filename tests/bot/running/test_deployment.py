"""Ways to run the bot: webhook mode on a private deployment, `health`, a missing REDIS_URL,
and the promise that the bot process never imports the engine."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.bot.conftest import ROOT, bot_env, fresh_redis_db, start_bot, wait_until
from tests.fakes.botapi import Call, FakeBotAPI, FakeUser

WEBHOOK_DB = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post_update(port: int, update: dict[str, object], secret: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram/webhook",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_webhook_mode_on_a_private_deployment(redis_url: str, tmp_path: Path) -> None:
    allowed = FakeUser(555_001, "en")
    stranger = FakeUser(555_002, "ru")
    port = free_port()
    with (
        FakeBotAPI() as api,
        start_bot(
            api,
            fresh_redis_db(redis_url, WEBHOOK_DB),
            tmp_path / "data",
            WEBHOOK_URL="https://bot.example.test",
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET="s3cret-token",
            ALLOWED_USER_IDS=str(allowed.id),
        ) as bot,
    ):
        [hook] = api.calls_of("setWebhook")
        assert hook.params["url"] == "https://bot.example.test/telegram/webhook"
        assert hook.params["secret_token"] == "s3cret-token"

        assert post_update(port, {"update_id": 1, **api.text_update(allowed, "/start")}, "x") == 401
        assert (
            post_update(
                port, {"update_id": 2, **api.text_update(allowed, "/start")}, "s3cret-token"
            )
            == 200
        )
        assert "Hi!" in bot.next_message(allowed, 0).text

        since = api.mark()
        update = {"update_id": 3, **api.text_update(stranger, "/start")}
        assert post_update(port, update, "s3cret-token") == 200
        assert bot.next_message(stranger, since).text == "Извините, это закрытый бот."
        assert bot.db(lambda s: s.users.get(stranger.id)) is None
        assert bot.db(lambda s: s.users.get(allowed.id)) is not None

        # Inline mode: the stranger's query is answered (an unanswered one spins in their
        # client) with nothing but a button that says why.
        inline = api.inline_query_update(stranger, "hello")
        assert post_update(port, {"update_id": 4, **inline}, "s3cret-token") == 200
        answer = api.wait_for(
            "answerInlineQuery",
            lambda c: c.params["inline_query_id"] == inline["inline_query"]["id"],
            since=since,
        )
        assert answer.params["results"] == []
        assert answer.params["button"]["text"] == "Это закрытый бот"
        assert bot.db(lambda s: s.users.get(stranger.id)) is None

        # In a group, the stranger's five messages get one answer, as a public deployment
        # explains itself once per group (not once per message).
        group = {"id": -1_000_555, "type": "group", "title": "Chatter"}
        refused = bot.log_text().count(f"refused user {stranger.id}")
        for n in range(5):
            update = api.text_update(stranger, f"hello {n}")
            update["message"]["chat"] = group
            assert post_update(port, {"update_id": 10 + n, **update}, "s3cret-token") == 200

        def told() -> list[Call]:
            return [c for c in api.calls_of("sendMessage") if c.params["chat_id"] == group["id"]]

        wait_until(lambda: bot.log_text().count(f"refused user {stranger.id}") == refused + 5)
        wait_until(lambda: len(told()) > 0)
        assert [c.params["text"] for c in told()] == ["Извините, это закрытый бот."]


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    api = FakeBotAPI()  # not started: the CLI paths here never call Telegram
    api.url = "http://127.0.0.1:9"
    return bot_env(api, redis_url, tmp_path / "data")


def test_health_says_healthy_when_redis_and_the_database_answer(cli_env: dict[str, str]) -> None:
    done = run_cli(["health"], cli_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "healthy"


def test_health_fails_when_redis_does_not_answer(cli_env: dict[str, str]) -> None:
    done = run_cli(["health"], {**cli_env, "REDIS_URL": "redis://127.0.0.1:9/0"})
    assert done.returncode == 1
    assert "Redis does not answer" in done.stdout


def test_running_without_redis_url_fails_with_one_line(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "REDIS_URL"}
    done = run_cli([], env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "REDIS_URL is not set" in lines[0]
