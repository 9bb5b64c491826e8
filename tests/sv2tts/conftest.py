"""Fixtures of the engine's network tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

# The networks' conformance runs on every device this machine has.
DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
    ),
]


@pytest.fixture(scope="module")
def single_thread() -> Iterator[None]:
    # The decoder and vocoder loops step over small matrices, gaining little from intra-op
    # threads, and on a busy 2-core machine OpenMP's spinning threads make them up to 50x
    # slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
