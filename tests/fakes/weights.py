"""Weights directories for tests: the tiny reference checkpoints as a custom model.

The tiny synthesizer and vocoder from ../shared/sv2tts-reference/ are copied in with their
configs as sidecar files (synthesizer.json, vocoder.json), which marks them as custom models
(not checked against the manifest of the official files). The encoder is left out, so the
engine falls back to the real encoder weights that the `resemblyzer` package ships.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REFERENCE


def make_tiny_weights_dir(dest: Path) -> Path:
    """Fill `dest` with tiny synthesizer/vocoder checkpoints and their sidecar configs."""
    if not REFERENCE.is_dir():
        pytest.skip(f"tiny checkpoints not found at {REFERENCE} (../shared is absent)")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("synthesizer", "vocoder"):
        shutil.copyfile(REFERENCE / f"{name}_tiny.pt", dest / f"{name}.pt")
        shutil.copyfile(REFERENCE / f"{name}_tiny.json", dest / f"{name}.json")
    return dest
