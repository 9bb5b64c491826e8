"""The one settings model, read from the environment and `.env`.

Every process (bot, worker, the local launcher) reads its configuration here. A missing or
malformed value stops the program at start with one line naming the variable.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sv2tts.choices import DEVICES

OFFICIAL_BOT_API = "https://api.telegram.org"

# The engine's device names (auto, cpu, cuda), as an enum the settings validate against.
Device = StrEnum("Device", [(name, name) for name in DEVICES])  # type: ignore[misc]


def _parse_id_list(value: object) -> object:
    """`ADMIN_IDS=1,2 3` -> [1, 2, 3]; an empty string is an empty list."""
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
        return [int(p) for p in parts]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr = Field(description="Telegram bot token from @BotFather")
    telegram_api_url: str = Field(OFFICIAL_BOT_API, description="Bot API server base URL")
    webhook_url: str | None = Field(None, description="Public HTTPS URL; unset = long polling")
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None

    redis_url: str | None = Field(None, description="unset: an embedded server is started")
    data_dir: Path = Path("data")
    sv2tts_weights_dir: Path = Path("pretrained")
    device: Device = Device.auto

    admin_ids: Annotated[list[int], NoDecode] = []
    allowed_user_ids: Annotated[list[int], NoDecode] = []

    max_text_chars: int = Field(1000, ge=1)
    max_audio_seconds: float = Field(300.0, gt=0)
    min_speech_seconds: float = Field(2.0, ge=0)
    max_audio_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    requests_per_minute: int = Field(6, ge=1)
    max_active_requests_per_user: int = Field(1, ge=1)
    embed_timeout_seconds: float = Field(60.0, gt=0)
    job_result_ttl_seconds: int = Field(
        3600, ge=60, description="how long finished or failed jobs stay inspectable in Redis"
    )
    bank_page_size: int = Field(8, ge=1, le=20, description="voices per /bank page")
    torch_threads: int = Field(
        0,
        ge=0,
        description="CPU threads of torch in each worker; 0 = torch's default (one per core). "
        "One worker alone on a machine: as many as cores; several workers sharing it: 1 each",
    )
    log_level: str = "INFO"

    @field_validator("admin_ids", "allowed_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _parse_id_list(value)

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError("is empty")
        if ":" not in token:
            raise ValueError("does not look like a bot token (expected '<id>:<secret>')")
        return SecretStr(token)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    if first["type"] == "missing":
        return f"{name} is not set (see .env.example)"
    return f"{name}: {first['msg']}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; on error, one line naming the variable, then exit 2."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        print(f"configuration error: {_describe(error)}", file=sys.stderr)
        raise SystemExit(2) from None
