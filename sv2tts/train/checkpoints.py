"""Checkpoints in the official SV2TTS format, the engine's sidecar json, --init and --resume.

A checkpoint is a dict `{"model_state", "optimizer_state", "step"}`: `model_state` has the
keys and shapes of the official files (../shared/sv2tts-reference/state_dicts.json), so the
engine's strict loaders and the reference's loader take it; `optimizer_state` is the
optimizer's own state dict; `step` counts optimisation steps (the official encoder file has
it too; the reference's synthesizer and vocoder loaders ignore it). Beside `NAME.pt` lies
`NAME.json`, the sidecar the engine reads (`sv2tts.weights.manifest`, `sv2tts.loading`).

Files are written to a temporary name and renamed, so that an interrupted save never leaves
a truncated checkpoint where the last good one was.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sv2tts.text.symbols import DEFAULT_SYMBOLS
from sv2tts.train.loop import unwrap
from sv2tts.weights.checkpoint import CheckpointError, check_state

log = logging.getLogger(__name__)

# State-dict entries whose rows are indexed by the text symbol table.
SYMBOL_TABLE_KEYS = ("encoder.embedding.weight",)


def sidecar_of(checkpoint: Path) -> Path:
    return Path(checkpoint).with_suffix(".json")


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    write(temporary)
    os.replace(temporary, path)


def save_checkpoint(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    sidecar: Mapping[str, Any],
) -> None:
    """Write `path` (official format + step) and its sidecar json beside it."""
    state = {
        "model_state": {k: v.detach().cpu() for k, v in unwrap(model).state_dict().items()},
        "optimizer_state": optimizer.state_dict(),
        "step": int(step),
    }
    _atomic_write(Path(path), lambda p: torch.save(state, p))
    text = json.dumps(dict(sidecar), indent=1, ensure_ascii=False)
    _atomic_write(sidecar_of(path), lambda p: p.write_text(text + "\n", encoding="utf-8"))
    log.info("saved %s at step %d", path, step)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint dict at `path` (on the CPU); CheckpointError if it is not one."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a truncated or foreign file
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({error})") from error
    if not isinstance(data, dict) or "model_state" not in data:
        raise CheckpointError(f"{path}: expected a dict with 'model_state'")
    return data


def checkpoint_step(data: Mapping[str, object]) -> int | None:
    """The step a checkpoint was saved at: its top-level `step`, else (the published
    synthesizer.pt and vocoder.pt have none) the model's own `step` buffer; None if neither."""
    if "step" in data:
        return int(data["step"])  # type: ignore[call-overload]
    state = data.get("model_state")
    if isinstance(state, Mapping) and "step" in state:
        return int(state["step"])
    return None


def resume(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Model and optimizer state from the checkpoint at `path`, loaded strictly; its step."""
    data = read_checkpoint(path)
    network = unwrap(model)
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    check_state(expected, data["model_state"], str(path))
    network.load_state_dict(data["model_state"], strict=True)
    step = checkpoint_step(data)
    if not data.get("optimizer_state") or step is None:
        raise CheckpointError(
            f"{path}: no optimizer state or step to resume from (use --init to start from it)"
        )
    optimizer.load_state_dict(data["optimizer_state"])
    log.info("resumed from %s at step %d", path, step)
    return step


def checkpoint_symbols(path: Path) -> tuple[str, ...]:
    """The symbol table a checkpoint was trained with: its sidecar's, else the official one."""
    sidecar = sidecar_of(path)
    if sidecar.is_file():
        symbols = json.loads(sidecar.read_text(encoding="utf-8")).get("symbols")
        if symbols:
            return tuple(symbols)
    return DEFAULT_SYMBOLS.symbols


def remap_rows(
    old: torch.Tensor,
    fresh: torch.Tensor,
    old_symbols: Sequence[str],
    new_symbols: Sequence[str],
) -> tuple[torch.Tensor, list[str]]:
    """A table for `new_symbols`: rows of symbols both tables have are copied from `old`
    (by symbol, not by index); the other rows keep `fresh` (their random init). Index 0
    (pad) and 1 (end of sequence) are matched by role. Returns (table, new symbols)."""
    table = fresh.clone()
    where = {symbol: i for i, symbol in enumerate(old_symbols)}
    added = []
    for i, symbol in enumerate(new_symbols):
        source = i if i < 2 else where.get(symbol)
        if source is None or (i >= 2 and source < 2):
            added.append(symbol)
            continue
        table[i] = old[source]
    return table, added


def init_from(
    path: Path, model: nn.Module, new_symbols: Sequence[str] | None = None
) -> dict[str, list[str]]:
    """Start `model` from the weights of the checkpoint at `path` (fine-tuning).

    Every entry must match in name and shape, except the symbol tables (`SYMBOL_TABLE_KEYS`)
    when `new_symbols` is given: those are rebuilt by symbol (`remap_rows`) from the
    checkpoint's table (its sidecar's symbols, else the official 66). The optimizer starts
    fresh. Returns, per remapped table, the symbols that got fresh rows.
    """
    state = dict(read_checkpoint(path)["model_state"])
    network = unwrap(model)
    current = network.state_dict()
    added: dict[str, list[str]] = {}
    if new_symbols is not None:
        old_symbols = checkpoint_symbols(path)
        for key in SYMBOL_TABLE_KEYS:
            if key in state and key in current:
                if state[key].shape[0] != len(old_symbols):
                    raise CheckpointError(
                        f"{path}: '{key}' has {state[key].shape[0]} rows but its symbol table "
                        f"{len(old_symbols)} symbols"
                    )
                state[key], added[key] = remap_rows(
                    state[key], current[key], old_symbols, new_symbols
                )
                log.info(
                    "%s: %d of %d symbols are new (fresh rows): %s",
                    key,
                    len(added[key]),
                    len(new_symbols),
                    "".join(added[key]),
                )
    check_state({k: tuple(v.shape) for k, v in current.items()}, state, str(path))
    network.load_state_dict(state, strict=True)
    return added
