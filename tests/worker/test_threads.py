"""TORCH_THREADS reaches torch in the worker process, and 0 leaves torch's default; the stress
model is loaded with the engine unless STRESS_PRELOAD is false."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.fakes.weights import make_tiny_weights_dir
from worker.engine import load_engine
from worker.settings import WorkerSettings


@pytest.fixture
def restore_threads() -> Iterator[int]:
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def settings_for(weights: Path, threads: int, preload: bool = False) -> WorkerSettings:
    return WorkerSettings(
        bot_token="1:test",
        sv2tts_weights_dir=weights,
        device="cpu",
        torch_threads=threads,
        stress_preload=preload,
    )


def test_torch_threads_setting_is_applied_when_the_engine_loads(
    tmp_path: Path, restore_threads: int
) -> None:
    weights = make_tiny_weights_dir(tmp_path / "weights")
    wanted = 2 if restore_threads != 2 else 1
    load_engine(settings_for(weights, wanted))
    assert torch.get_num_threads() == wanted


def test_zero_torch_threads_leaves_the_default(tmp_path: Path, restore_threads: int) -> None:
    weights = make_tiny_weights_dir(tmp_path / "weights")
    load_engine(settings_for(weights, 0))
    assert torch.get_num_threads() == restore_threads


class CountingStresser:
    def __init__(self) -> None:
        self.preloads = 0

    def preload(self) -> bool:
        self.preloads += 1
        return True


@pytest.mark.parametrize("preload", [True, False])
def test_the_stress_model_is_loaded_with_the_engine_when_asked(
    tmp_path: Path, restore_threads: int, monkeypatch: pytest.MonkeyPatch, preload: bool
) -> None:
    stresser = CountingStresser()
    monkeypatch.setattr("sv2tts.text.stress.shared_stresser", lambda: stresser)
    load_engine(settings_for(make_tiny_weights_dir(tmp_path / "weights"), 1, preload))
    assert stresser.preloads == (1 if preload else 0)
