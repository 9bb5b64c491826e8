"""The bot process's settings: the shared ones (service.settings) and what only the bot reads.

Webhook, access lists, text and rate limits, the database folder. The worker's settings
(weights, device, torch threads) are not here: the bot never loads a model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from service.settings import (
    DEFAULT_DATA_DIR,
    OFFICIAL_BOT_API,
    RecordingLimitSettings,
    load,
)

__all__ = ["OFFICIAL_BOT_API", "WEBHOOK_SECRET_RE", "Settings", "load_settings"]

# https://core.telegram.org/bots/api#setwebhook, secret_token
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _parse_id_list(value: object) -> object:
    """`ADMIN_IDS=1,2 3` -> [1, 2, 3]; an empty string is an empty list."""
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
        return [int(p) for p in parts]
    return value


class Settings(RecordingLimitSettings):
    webhook_url: str | None = Field(None, description="Public HTTPS URL; unset = long polling")
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None

    data_dir: Path = DEFAULT_DATA_DIR

    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    allowed_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    max_text_chars: int = Field(
        1000, ge=1, description="a cheap first gate on a text, before it is spelled out"
    )
    max_text_symbols: int = Field(
        1500,
        ge=1,
        description="symbols a text may come to once spelled out (bot/text_check.py): the work",
    )
    max_dialogue_turns: int = Field(20, ge=1, description="turns (Name: text lines) a /dialogue")
    requests_per_minute: int = Field(6, ge=1)
    max_active_requests_per_user: int = Field(1, ge=1)
    max_queued_requests: int = Field(
        100, ge=1, description="queued or running requests of all users before all are told busy"
    )
    max_voices_per_user: int = Field(20, ge=1)
    embed_timeout_seconds: float = Field(60.0, gt=0)
    job_result_ttl_seconds: int = Field(
        3600, ge=60, description="how long finished or failed jobs stay inspectable in Redis"
    )
    bank_page_size: int = Field(8, ge=1, le=20, description="voices per /bank page")
    metrics_host: str = Field("127.0.0.1", description="where /metrics listens")
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics; 0: off")
    status_edit_seconds: float = Field(
        3.0,
        ge=1.0,
        description="a long request's status message: shown after, and edited at most every",
    )

    @field_validator("admin_ids", "allowed_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _parse_id_list(value)

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        # Telegram takes 1-256 characters of A-Z a-z 0-9 _ - for secret_token and refuses
        # setWebhook otherwise; say so at start, not at the first setWebhook. An empty value
        # (`WEBHOOK_SECRET=` in .env) is unset: bot/app.py then draws a random one per start.
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        if secret is None or secret == "":
            return None
        if not isinstance(secret, str) or not WEBHOOK_SECRET_RE.fullmatch(secret):
            raise ValueError(
                "must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule for secret_token)"
            )
        return secret

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value


def load_settings(**overrides: object) -> Settings:
    """The bot's settings; on error, one line naming the variable, then exit 2."""
    return load(Settings, **overrides)
