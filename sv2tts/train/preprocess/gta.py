"""Ground-truth-aligned mels: a trained synthesizer run teacher-forced over its training data.

Not available yet: it needs the synthesizer's training forward (branch train-syn).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_gta(checkpoint: Path, out_dir: Path, kept: list, utterances: dict, job: Any) -> dict:
    raise NotImplementedError("--gta needs the synthesizer's teacher-forced forward (train-syn)")
