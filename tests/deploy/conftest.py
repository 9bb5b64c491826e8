"""Fixtures for the deployment tests: the environment a filled-in `.env` gives Compose."""

from __future__ import annotations

import pytest

from tests.deploy.compose_files import env_file_values

# Stand-ins for what an operator writes into .env; distinctive, so a test can look for leaks.
REDIS_PASSWORD = "f3a9c1d2e4b5a6978877665544332211"
BOT_TOKEN = "123456:test-token-not-real"
REDIS_PUBLISH_ADDR = "10.8.0.1"


@pytest.fixture
def deploy_env() -> dict[str, str]:
    """.env.example with the required blanks filled in, as an operator's .env would be."""
    env = env_file_values()
    env.update(
        BOT_TOKEN=BOT_TOKEN,
        REDIS_PASSWORD=REDIS_PASSWORD,
        REDIS_PUBLISH_ADDR=REDIS_PUBLISH_ADDR,
        REDIS_URL=f"redis://:{REDIS_PASSWORD}@{REDIS_PUBLISH_ADDR}:6379/0",
    )
    return env
