"""Fixtures for storage tests: a storage in a temporary DATA_DIR with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from storage import Sample, Storage
from sv2tts.audio.measures import RecordingStats

START = 1_790_000_000.0  # 2026-09-21 UTC, a fixed point so that dates in tests are known


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unit_vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(256)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def make_sample(
    seed: int = 0,
    *,
    speech_seconds: float = 5.0,
    audio: bytes | None = None,
    encoder_id: str = "enc-test",
    level_dbfs: float = -20.0,
    clipped_fraction: float = 0.0,
) -> Sample:
    return Sample(
        embedding=unit_vector(seed),
        encoder_id=encoder_id,
        recording=RecordingStats(
            total_seconds=speech_seconds + 1.0,
            speech_seconds=speech_seconds,
            level_dbfs=level_dbfs,
            clipped_fraction=clipped_fraction,
            speech_share=0.95,
        ),
        audio=audio,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def storage(data_dir: Path, clock: FakeClock) -> AsyncIterator[Storage]:
    opened = await Storage.open(data_dir, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
