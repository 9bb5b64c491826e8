"""The parts of the engine the bot imports load no torch (nor librosa, for the lightest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("modules", "forbidden"),
    [
        (
            "sv2tts, sv2tts.text, sv2tts.audio.codec, sv2tts.choices, sv2tts.errors",
            ("torch", "librosa"),
        ),
        ("sv2tts.embedding, sv2tts.devices", ("torch", "librosa")),
        ("sv2tts.audio.recording", ("torch",)),
    ],
)
def test_light_modules_import_without_torch(modules: str, forbidden: tuple[str, ...]) -> None:
    code = (
        f"import sys\nimport {modules}\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {forbidden!r}]\n"
        "assert not bad, bad[:5]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_worker_validates_its_device_against_the_engine_list() -> None:
    from sv2tts.choices import DEVICES
    from worker.settings import Device

    assert tuple(d.value for d in Device) == DEVICES
