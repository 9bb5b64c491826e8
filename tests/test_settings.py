"""The settings model: defaults, parsing, and one clear line for a bad value."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import OFFICIAL_BOT_API, Settings, load_settings
from service.local import LauncherSettings
from worker.settings import Device, WorkerSettings
from worker.settings import load_settings as load_worker_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABC-test-token"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No .env of the developer's and no variable of the CI's environment leaks in.
    monkeypatch.chdir(tmp_path)
    for name in {*Settings.model_fields, *WorkerSettings.model_fields}:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_with_only_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.bot_token.get_secret_value() == TOKEN
    assert settings.telegram_api_url == OFFICIAL_BOT_API
    assert settings.redis_url is None
    assert settings.admin_ids == [] and settings.allowed_user_ids == []
    worker = load_worker_settings()
    assert worker.device is Device.auto
    assert worker.sv2tts_weights_dir == Path("pretrained")


def test_each_process_reads_only_its_own_settings() -> None:
    bot, worker, launcher = (
        set(c.model_fields) for c in (Settings, WorkerSettings, LauncherSettings)
    )
    assert {"webhook_url", "admin_ids", "requests_per_minute", "data_dir"} <= bot
    assert not {"device", "torch_threads", "sv2tts_weights_dir"} & bot
    assert {"device", "torch_threads", "sv2tts_weights_dir"} <= worker
    assert not {"webhook_url", "webhook_secret", "admin_ids", "data_dir"} & worker
    # Both sides check recordings against the same limits, from the same variables.
    assert {"max_audio_bytes", "max_audio_seconds", "min_speech_seconds"} <= bot & worker
    assert {"bot_token", "redis_url", "data_dir"} <= launcher


def test_token_never_shows_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert "ABC-test-token" not in repr(settings)
    assert "ABC-test-token" not in str(settings.model_dump())


def test_id_lists_accept_commas_and_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ADMIN_IDS", "1, 2 3")
    monkeypatch.setenv("ALLOWED_USER_IDS", "")
    settings = load_settings()
    assert settings.admin_ids == [1, 2, 3]
    assert settings.allowed_user_ids == []


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nDEVICE=cpu\nMAX_TEXT_CHARS=50\n")
    assert load_worker_settings().device is Device.cpu
    assert load_settings().max_text_chars == 50


def test_api_url_trailing_slash_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    assert load_settings().telegram_api_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    ("env", "named", "loader"),
    [
        ({}, "BOT_TOKEN is not set", load_settings),
        ({}, "BOT_TOKEN is not set", load_worker_settings),
        ({"BOT_TOKEN": "   "}, "BOT_TOKEN", load_settings),
        ({"BOT_TOKEN": "no-colon"}, "BOT_TOKEN", load_worker_settings),
        ({"BOT_TOKEN": TOKEN, "ADMIN_IDS": "1,abc"}, "ADMIN_IDS", load_settings),
        ({"BOT_TOKEN": TOKEN, "DEVICE": "tpu"}, "DEVICE", load_worker_settings),
        ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL", load_settings),
        ({"BOT_TOKEN": TOKEN, "REQUESTS_PER_MINUTE": "0"}, "REQUESTS_PER_MINUTE", load_settings),
        ({"BOT_TOKEN": TOKEN, "MAX_AUDIO_SECONDS": "long"}, "MAX_AUDIO_SECONDS", load_settings),
        (
            {"BOT_TOKEN": TOKEN, "MAX_AUDIO_SECONDS": "long"},
            "MAX_AUDIO_SECONDS",
            load_worker_settings,
        ),
    ],
)
def test_bad_value_stops_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict,
    named: str,
    loader: Callable[[], object],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as stopped:
        loader()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert named in err
    assert TOKEN.split(":")[1] not in err


def test_missing_token_in_a_real_process_is_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "from bot.settings import load_settings; load_settings()"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "configuration error: BOT_TOKEN is not set (see .env.example)"
    ]


@pytest.mark.parametrize(
    "secret",
    ["has space", "semi;colon", "ünïcode", "dot.ted", "x" * 257, "new\nline", "slash/"],
)
def test_a_webhook_secret_outside_telegrams_characters_stops_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "WEBHOOK_SECRET" in err and "A-Z a-z 0-9 _ -" in err
    assert secret not in err  # a secret, even a bad one, is not printed


@pytest.mark.parametrize("secret", ["s", "s3cret-token_OK", "A" * 256, "-_-"])
def test_a_webhook_secret_of_telegrams_characters_is_taken(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    settings = load_settings()
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret


def test_an_empty_webhook_secret_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`WEBHOOK_SECRET=` in .env: bot/app.py then draws a random secret at each start."""
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET", "")
    assert load_settings().webhook_secret is None


def test_the_secret_drawn_when_none_is_set_follows_telegrams_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.app import webhook_secret
    from bot.settings import WEBHOOK_SECRET_RE

    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings()
    drawn = {webhook_secret(settings) for _ in range(20)}
    assert len(drawn) == 20  # a new one each start
    assert all(WEBHOOK_SECRET_RE.fullmatch(secret) for secret in drawn)
    monkeypatch.setenv("WEBHOOK_SECRET", "fixed-secret")
    assert webhook_secret(load_settings()) == "fixed-secret"
