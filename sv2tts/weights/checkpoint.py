"""Reading the public SV2TTS checkpoints strictly.

The official files are dicts with `model_state` (a plain state dict) and `optimizer_state`
(two thirds of the synthesizer's bytes, useless at inference): only the former is kept.
Loading is strict: a missing key, an unexpected key or a wrong shape is refused with a
message that names it, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn


class CheckpointError(ValueError):
    """A checkpoint that does not fit the network it is loaded into."""


def read_model_state(path: Path | str) -> dict[str, torch.Tensor]:
    """The `model_state` of a checkpoint file, on the CPU, without the optimizer state."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a truncated or foreign file
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({error})") from error
    if isinstance(data, Mapping) and "model_state" in data:
        data = data["model_state"]
    if not isinstance(data, Mapping):
        raise CheckpointError(f"{path}: expected a dict with 'model_state'")
    return {str(k): v for k, v in data.items() if isinstance(v, torch.Tensor)}


def check_state(
    expected: Mapping[str, tuple[int, ...]], state: Mapping[str, torch.Tensor], what: str
) -> None:
    """Raise CheckpointError naming the first missing, unexpected or mis-shaped key."""
    missing = [k for k in expected if k not in state]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"{what}: missing key '{missing[0]}'{more}")
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        more = f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""
        raise CheckpointError(f"{what}: unexpected key '{unexpected[0]}'{more}")
    for key, shape in expected.items():
        got = tuple(state[key].shape)
        if got != tuple(shape):
            raise CheckpointError(
                f"{what}: key '{key}' has shape {list(got)}, the network expects {list(shape)}"
            )


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> None:
    """Load `state` into `module`, every key and shape checked first."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    check_state(expected, state, what)
    module.load_state_dict(dict(state), strict=True)
