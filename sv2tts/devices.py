"""Where the models run: choosing the device, CPU threads, waiting for queued work.

The names a device may be given are `sv2tts.choices.DEVICES`. Torch is imported inside the
functions, so importing this module costs nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sv2tts.choices import DEVICES

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def choose_device(name: str = "auto") -> torch.device:
    """ "auto": CUDA when PyTorch sees a GPU, else the CPU; "cuda" without one is an error."""
    import torch

    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def configure_cpu_threads(threads: int) -> None:
    """Let PyTorch's CPU operators use `threads` threads (torch.set_num_threads); call it
    once at start-up, before the models run. It changes process-wide state, which is why
    the library never calls it unless asked (`Pipeline.load(threads=...)`).

    WaveRNN's sample loop multiplies small matrices thousands of times a second and OpenMP's
    threads spin between them, so threads that compete for a core cost far more than they
    give: as many threads as cores when one worker process has the machine to itself, 1 per
    process when several share it (README, "Speed", has the measurements). OpenMP reads
    OMP_WAIT_POLICY when the process starts, so that belongs in the launcher's environment.
    """
    import torch

    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
        log.info("torch CPU threads: %d", threads)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously), so a timer is honest."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
