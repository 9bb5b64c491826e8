"""The training loop shared by the three networks, and the `Recipe` each network provides.

A recipe is a small object per network that owns its config and knows its network; the
`Trainer` knows everything that is the same for all three (steps, devices, mixed precision,
distributed data parallel, checkpoints, logs, Ctrl-C). One optimisation step is:

    phase = recipe.phase(step)                      # lr, batch size (and r) at this step
    batch = next(batches)                           # recipe.batches(...), moved to the device
    result = recipe.loss(model, batch)              # training-mode forward + loss
    result.loss.backward()
    grad_norm = recipe.clip(model)                  # scale/clip, returns the pre-clip norm
    optimizer.step(); step += 1

`model` handed to a recipe may be wrapped in `DistributedDataParallel`: a recipe runs the
training forward by calling `model(...)` (so that DDP sees it) and reaches the network
itself through `unwrap(model)` for anything else.

Batches are tensors or (named) tuples, lists, dicts or dataclasses of tensors (anything else is
passed through); the trainer moves them to the device with `to_device`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import torch
from torch import nn
from torch.utils.data import Dataset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phase:
    """What the schedule prescribes at a step.

    lr: the learning rate; batch_size: items per optimisation step over all processes;
    end_step: the first step this phase no longer covers (None: it never ends);
    settings: recipe-specific values that change with the phase (the synthesizer's `r`).
    """

    lr: float
    batch_size: int
    end_step: int | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


class StepResult(NamedTuple):
    """What `Recipe.loss` returns.

    loss: the scalar to backpropagate; scalars: named floats to log (loss components and any
    measure of the step, e.g. attention sharpness); outputs: whatever `Recipe.write_sample`
    wants to draw from this step (detached tensors), or None.
    """

    loss: torch.Tensor
    scalars: dict[str, float]
    outputs: Any = None


@dataclass(frozen=True)
class Shard:
    """Which share of each global batch this process builds: items rank::world_size."""

    rank: int = 0
    world_size: int = 1


@runtime_checkable
class Recipe(Protocol):
    """What a network tells the `Trainer`. One implementation per network (see the package)."""

    #: "synthesizer", "vocoder" or "encoder": names the checkpoint (`NAME.pt`, `NAME.json`).
    name: str

    def build_model(self) -> nn.Module:
        """A fresh network with random weights, on the CPU (the trainer moves it)."""
        ...

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """The optimizer over `model`'s parameters (Adam, betas 0.9/0.999, eps 1e-8, no weight
        decay); its lr is overwritten by the trainer from `phase` before every step."""
        ...

    def phase(self, step: int) -> Phase:
        """The schedule at `step` (the number of optimisation steps done so far)."""
        ...

    def dataset(self, training_set: Path) -> Dataset[Any]:
        """The training set at `training_set` (the folder `preprocess` wrote)."""
        ...

    def batches(
        self, dataset: Dataset[Any], phase: Phase, shard: Shard, seed: int
    ) -> Iterator[Any]:
        """An endless iterator of this process's batches for `phase`, built exactly as the
        reference's loaders build them (collate, padding, sampled offsets).

        Deterministic in `seed`; the trainer asks for a new iterator whenever the phase
        changes and after a resume (with a seed derived from the step), so that restarts do
        not replay the same batches.
        """
        ...

    def loss(self, model: nn.Module, batch: Any) -> StepResult:
        """The training-mode forward and the loss of one (device-resident) batch.

        Call `model(...)` for the forward (it may be a DDP wrapper). Any state the phase
        dictates (the synthesizer's `decoder.r`) is the recipe's to set, from the last
        `phase` it handed out or from the batch.
        """
        ...

    def clip(self, model: nn.Module) -> float:
        """Scale and clip the gradients after backward, in place; the pre-clip global norm."""
        ...

    def write_sample(self, model: nn.Module, batch: Any, result: StepResult, folder: Path) -> None:
        """Write what shows progress (PNG plots via matplotlib's Agg backend, a wav) into
        `folder` (created by the trainer, one per sample step)."""
        ...

    def sidecar(self) -> dict[str, Any]:
        """The json written beside every checkpoint, as the engine reads it (network config,
        and for the synthesizer its symbols and cleaners)."""
        ...


def unwrap(model: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel (or compiled) wrapper, else `model`."""
    inner = getattr(model, "module", None)
    return inner if isinstance(inner, nn.Module) else model


def to_device(batch: Any, device: torch.device) -> Any:
    """`batch` with every tensor in it moved to `device` (containers rebuilt, rest kept)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(to_device(x, device) for x in batch))
    if isinstance(batch, tuple | list):
        return type(batch)(to_device(x, device) for x in batch)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        return dataclasses.replace(
            batch,
            **{
                f.name: to_device(getattr(batch, f.name), device) for f in dataclasses.fields(batch)
            },
        )
    return batch


@dataclass(frozen=True)
class TrainOptions:
    """How to run a recipe (not what it trains: that is the recipe's config).

    max_steps: stop after this step (None: train until interrupted); every_*: intervals in
    steps of checkpoints, samples and logged scalars; device: "cpu", "cuda", "cuda:N";
    amp: mixed precision (CUDA only); seed: batch sampling and fresh weights.
    """

    max_steps: int | None = None
    checkpoint_every: int = 1000
    sample_every: int = 1000
    log_every: int = 10
    device: str = "cpu"
    amp: bool = False
    seed: int = 0


class Trainer:
    """Runs a `Recipe` on a training set into a run folder.

    The run folder holds `NAME.pt` + `NAME.json` (the latest checkpoint, loadable by the
    engine), `checkpoints/NAME_STEP.pt`, `samples/STEP/`, `logs/` (TensorBoard and
    `scalars.csv`).
    """

    def __init__(
        self, recipe: Recipe, training_set: Path, run_dir: Path, options: TrainOptions
    ) -> None:
        self.recipe = recipe
        self.training_set = Path(training_set)
        self.run_dir = Path(run_dir)
        self.options = options
        self.device = torch.device(options.device)
        self.model = recipe.build_model().to(self.device)
        self.optimizer = recipe.build_optimizer(self.model)
        self.step = 0

    def train_step(self, batch: Any, phase: Phase) -> tuple[StepResult, float]:
        """One optimisation step on a device-resident batch: (result, pre-clip grad norm)."""
        for group in self.optimizer.param_groups:
            group["lr"] = phase.lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        result = self.recipe.loss(self.model, batch)
        result.loss.backward()
        grad_norm = self.recipe.clip(self.model)
        self.optimizer.step()
        self.step += 1
        return result, grad_norm
