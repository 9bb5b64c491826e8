""".env.example documents every setting and every variable the Compose files use."""

from __future__ import annotations

import ipaddress

import pytest

from bot.settings import Settings
from service.local import LauncherSettings
from tests.deploy.compose_files import (
    COMPOSE_FILES,
    ENV_EXAMPLE,
    ENV_LINE,
    ROOT,
    env_file_entries,
    env_file_values,
    variables_used,
)
from worker.settings import WorkerSettings

# Every process's settings: one .env serves them all.
SETTINGS = (Settings, WorkerSettings, LauncherSettings)
FIELDS = sorted({name for cls in SETTINGS for name in cls.model_fields})
# Read by the code but not part of the settings (sv2tts.weights.manifest reads it itself).
EXTRA_DOCUMENTED = {"SV2TTS_WEIGHTS_URL"}
# Read by Compose itself, not by the interpolation of our files.
COMPOSE_OWN = {"COMPOSE_FILE"}


def documented_names() -> dict[str, int]:
    """NAME -> index of its first `NAME=` or `# NAME=` line in .env.example."""
    found: dict[str, int] = {}
    for index, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()):
        match = ENV_LINE.match(line)
        if match:
            found.setdefault(match["name"], index)
    return found


def test_every_setting_is_documented_with_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    names = documented_names()
    for field in FIELDS:
        name = field.upper()
        assert name in names, f"{name} is missing from .env.example"
        # The lines right above it, up to a blank line, hold a comment in prose.
        index = names[name]
        block = []
        while index > 0 and lines[index - 1].strip():
            index -= 1
            block.append(lines[index])
        prose = [line for line in block if line.startswith("#") and not ENV_LINE.match(line)]
        assert prose, f"{name} has no comment explaining it"


def test_every_variable_the_compose_files_use_is_documented() -> None:
    names = documented_names()
    for path in COMPOSE_FILES:
        missing = variables_used(path) - set(names)
        assert not missing, f"{path.relative_to(ROOT)} uses undocumented {sorted(missing)}"
    assert set(names) >= EXTRA_DOCUMENTED


def test_example_documents_nothing_that_is_not_read() -> None:
    """A setting removed from the settings must leave .env.example too."""
    read = {field.upper() for field in FIELDS} | EXTRA_DOCUMENTED | COMPOSE_OWN
    for path in COMPOSE_FILES:
        read |= variables_used(path)
    stale = set(documented_names()) - read
    assert not stale, f".env.example documents {sorted(stale)}, which nothing reads"


def test_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying the example changes nothing but the token: every value shown is the default."""
    for field in FIELDS:
        monkeypatch.delenv(field.upper(), raising=False)
    for cls in SETTINGS:
        from_example = cls(_env_file=ENV_EXAMPLE, bot_token="1:x")  # type: ignore[call-arg]
        defaults = cls(_env_file=None, bot_token="1:x")  # type: ignore[call-arg]
        assert from_example == defaults, cls.__name__
    set_in_example = {name.lower() for name in env_file_values()} & set(FIELDS)
    assert len(set_in_example) > len(FIELDS) // 2  # the example really sets them


def test_example_holds_no_secrets() -> None:
    values = env_file_values()
    assert values["BOT_TOKEN"] == ""
    assert values["REDIS_PASSWORD"] == ""
    commented = {name: value for name, value, c in env_file_entries() if c}
    assert "WEBHOOK_SECRET" not in values and "WEBHOOK_SECRET" in commented


def test_redis_is_never_suggested_on_a_public_address() -> None:
    suggested = {name: value for name, value, _ in env_file_entries()}["REDIS_PUBLISH_ADDR"]
    address = ipaddress.ip_address(suggested)
    assert address.is_private and not address.is_unspecified
