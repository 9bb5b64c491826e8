"""docs/deployment.md names only files and settings that exist."""

from __future__ import annotations

import re

from tests.deploy.compose_files import ROOT, env_file_entries
from tests.deploy.test_env_example import FIELDS

DOC = ROOT / "docs" / "deployment.md"


def test_every_file_the_guide_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w/.-])((?:docker/)?[\w.-]+\.(?:yml|Dockerfile|sh))\b", text))
    named -= {"docker-compose.override.yml"}  # the operator's own file, shown as an example
    assert "docker-compose.yml" in named and "docker/compose.cpu.yml" in named
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert not missing, f"docs/deployment.md names missing files: {missing}"


def test_every_setting_the_guide_names_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=", text))
    known = {name for name, _, _ in env_file_entries()} | {f.upper() for f in FIELDS}
    assert named, "the guide sets no variables?"
    assert named <= known, f"not in .env.example: {sorted(named - known)}"
