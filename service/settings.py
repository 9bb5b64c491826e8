"""Settings every process shares, the one way to load them, and the one log set-up.

Each process reads its own settings class, built on these: `bot.settings.Settings` (webhook,
access lists, text and rate limits), `worker.settings.WorkerSettings` (weights, device, torch
threads) and the launcher's `service.local.LauncherSettings`. A variable that a process does not
read is ignored by it, so one `.env` serves all of them.

A missing or malformed value stops the program at start with one line naming the variable
(`load`); the bot token never appears in that line or in a log.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import NoReturn, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OFFICIAL_BOT_API = "https://api.telegram.org"
DEFAULT_DATA_DIR = Path("data")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONFIG_ERROR_EXIT = 2


class ServiceSettings(BaseSettings):
    """The Bot API and Redis that every process talks to, and how it logs."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr = Field(description="Telegram bot token from @BotFather")
    telegram_api_url: str = Field(OFFICIAL_BOT_API, description="Bot API server base URL")
    redis_url: str | None = Field(None, description="unset: `make run` starts an embedded server")
    log_level: str = "INFO"

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError("is empty")
        if ":" not in token:
            raise ValueError("does not look like a bot token (expected '<id>:<secret>')")
        return SecretStr(token)

    def require_redis_url(self) -> str:
        """REDIS_URL, or exit at once saying who sets it (the bot and workers need one)."""
        if not self.redis_url:
            config_error(
                "REDIS_URL is not set (run `make run`, which starts a Redis server and sets it "
                "for the bot and the worker, or point REDIS_URL at yours)"
            )
        return self.redis_url


class RecordingLimitSettings(ServiceSettings):
    """Limits on reference recordings: the bot refuses early what the worker would refuse."""

    max_audio_seconds: float = Field(300.0, gt=0)
    min_speech_seconds: float = Field(2.0, ge=0)
    max_audio_bytes: int = Field(20 * 1024 * 1024, ge=1024)


S = TypeVar("S", bound=BaseSettings)


def describe_error(error: ValidationError) -> str:
    """One line naming the variable of the first problem (never its value)."""
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    if first["type"] == "missing":
        return f"{name} is not set (see .env.example)"
    return f"{name}: {first['msg']}"


def config_error(line: str) -> NoReturn:
    print(f"configuration error: {line}", file=sys.stderr)
    raise SystemExit(CONFIG_ERROR_EXIT)


def load(cls: type[S], **overrides: object) -> S:
    """`cls` from the environment and `.env`; on error one line naming the variable, exit 2."""
    try:
        return cls(**overrides)
    except ValidationError as error:
        config_error(describe_error(error))


def setup_logging(level: str) -> None:
    """The one log format of every process. Request logs of aiohttp stay quiet: at DEBUG they
    would carry the bot token inside URLs."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
