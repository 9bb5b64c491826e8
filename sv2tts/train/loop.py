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

Each network's module `sv2tts.NET.train` provides `make_recipe(training_set: Path,
overrides: Mapping[str, Any]) -> Recipe` (overrides: the `--config` json, over the
reference's defaults); `python -m sv2tts train NET ...` finds it by that name. A recipe's
`config` should offer `to_dict()`, saved as RUN_DIR/train_config.json for `--resume`.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import time
from collections.abc import Iterable, Iterator, Mapping
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


def clip_gradients(parameters: Iterable[nn.Parameter], max_norm: float | None) -> float:
    """Clip the global gradient norm to `max_norm` (scale by max_norm / (norm + 1e-6) when
    that is below 1, as torch's clip_grad_norm_ does); the pre-clip norm."""
    grads = [p for p in parameters if p.grad is not None]
    if max_norm is None:
        return float(torch.nn.utils.get_total_norm([p.grad for p in grads]))
    return float(torch.nn.utils.clip_grad_norm_(grads, max_norm))


def ignore_sigint(_worker_id: int = 0) -> None:
    """A DataLoader `worker_init_fn`: Ctrl-C is the main process's to handle (it saves and
    stops); a worker killed by it would break the batch being built."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass(frozen=True)
class TrainOptions:
    """How to run a recipe (not what it trains: that is the recipe's config).

    max_steps: stop at this step (None: at the end of the recipe's schedule, or never);
    checkpoint_every / sample_every / log_every: intervals in steps (0: never; a checkpoint
    is also written at the end); backup_every: also keep a copy of the checkpoint under
    checkpoints/ at these steps (0: never); device: "cpu", "cuda", "cuda:N"; amp: mixed
    precision (float16 autocast and gradient scaling, CUDA only); seed: fresh weights,
    dropout and batch order; init: start from this checkpoint's weights (fine-tuning);
    resume: continue from RUN_DIR/NAME.pt (weights, optimizer, step); progress: show a bar.
    """

    max_steps: int | None = None
    checkpoint_every: int = 1000
    sample_every: int = 500
    log_every: int = 10
    backup_every: int = 25_000
    device: str = "cpu"
    amp: bool = False
    seed: int = 0
    init: Path | None = None
    resume: bool = False
    progress: bool = True
    tensorboard: bool = True


class Trainer:
    """Runs a `Recipe` on a training set into a run folder.

    RUN_DIR/NAME.pt + NAME.json: the latest checkpoint and its sidecar (what `python -m
    sv2tts say --weights-dir RUN_DIR` loads); RUN_DIR/checkpoints/NAME_STEP.pt: backups;
    RUN_DIR/samples/STEP/: samples; RUN_DIR/logs/: TensorBoard and scalars.csv;
    RUN_DIR/train_config.json: the recipe's config and the options of the run.
    """

    def __init__(
        self, recipe: Recipe, training_set: Path, run_dir: Path, options: TrainOptions
    ) -> None:
        from sv2tts.train import distributed

        self.recipe = recipe
        self.training_set = Path(training_set)
        self.run_dir = Path(run_dir)
        self.options = options
        self.context = distributed.start(options.device)
        self.device = self.context.device
        if options.amp and self.device.type != "cuda":
            raise ValueError("--amp (float16 mixed precision) needs a CUDA device")
        torch.manual_seed(options.seed)
        network = recipe.build_model()
        self.step = 0
        self.interrupted = False
        if options.init is not None and options.resume:
            raise ValueError("--init starts a new run from a checkpoint; --resume continues one")
        if options.init is not None:
            from sv2tts.train.checkpoints import init_from

            symbols = recipe.sidecar().get("symbols")
            init_from(Path(options.init), network, symbols)
        network = distributed.prepare(network, self.context).to(self.device)
        self.optimizer = recipe.build_optimizer(network)
        if options.resume:
            from sv2tts.train.checkpoints import resume

            self.step = resume(self.checkpoint_path, network, self.optimizer)
        self.model = distributed.wrap(network, self.context)
        self.scaler = torch.amp.GradScaler("cuda") if options.amp else None

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / f"{self.recipe.name}.pt"

    def train_step(self, batch: Any, phase: Phase) -> tuple[StepResult, float]:
        """One optimisation step on a device-resident batch: (result, pre-clip grad norm)."""
        for group in self.optimizer.param_groups:
            group["lr"] = phase.lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.options.amp):
            result = self.recipe.loss(self.model, batch)
        if self.scaler is not None:
            self.scaler.scale(result.loss).backward()
            self.scaler.unscale_(self.optimizer)
            grad_norm = self.recipe.clip(self.model)
            # A step whose gradients overflowed in float16 is skipped by the scaler.
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            result.loss.backward()
            grad_norm = self.recipe.clip(self.model)
            self.optimizer.step()
        self.step += 1
        return result, grad_norm

    def save(self) -> None:
        """The latest checkpoint (rank 0 only), and a backup at backup steps."""
        if not self.context.is_main:
            return
        from sv2tts.train.checkpoints import save_checkpoint

        sidecar = self.recipe.sidecar()
        save_checkpoint(self.checkpoint_path, self.model, self.optimizer, self.step, sidecar)
        every = self.options.backup_every
        if every and self.step % every == 0:
            backup = self.run_dir / "checkpoints" / f"{self.recipe.name}_{self.step:07d}.pt"
            save_checkpoint(backup, self.model, self.optimizer, self.step, sidecar)

    def _on_sigint(self, _signum: int, _frame: Any) -> None:
        if self.interrupted:  # a second Ctrl-C: stop now, without saving
            raise KeyboardInterrupt
        log.warning("interrupted: saving a checkpoint after this step (Ctrl-C again to abort)")
        self.interrupted = True

    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def run(self) -> int:
        """Train until max_steps, the end of the schedule, or Ctrl-C; save; the last step."""
        from sv2tts.train import distributed
        from sv2tts.train.logs import RunLog, progress_bar

        options = self.options
        shard = Shard(self.context.rank, self.context.world_size)
        dataset = self.recipe.dataset(self.training_set)
        main = self.context.is_main
        run_log = RunLog(self.run_dir / "logs", options.tensorboard) if main else None
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        end = self._end_step()
        bar = progress_bar(self.step, end, options.progress and main)
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        # Dropout after a resume must not replay the first run's masks.
        torch.manual_seed(options.seed + self.step + 1)
        phase: Phase | None = None
        batches: Iterator[Any] = iter(())
        started, started_step = time.monotonic(), self.step
        try:
            while end is None or self.step < end:
                current = self.recipe.phase(self.step)
                if current.end_step is not None and self.step >= current.end_step:
                    break  # past the schedule's last phase
                if current != phase:
                    phase = current
                    log.info("step %d: %s", self.step, phase)
                    batches = self.recipe.batches(dataset, phase, shard, options.seed + self.step)
                batch = to_device(next(batches), self.device)
                result, grad_norm = self.train_step(batch, phase)
                bar.update(1)
                bar.set_postfix(loss=f"{float(result.loss.detach()):.4f}")
                if self._due(options.log_every):
                    scalars = distributed.mean_over_processes(result.scalars, self.context)
                    if run_log is not None:
                        rate = (self.step - started_step) / max(time.monotonic() - started, 1e-9)
                        extra = {"grad_norm": grad_norm, "lr": phase.lr, "steps_per_s": rate}
                        run_log.scalars(self.step, {**scalars, **extra})
                if main and self._due(options.sample_every):
                    folder = self.run_dir / "samples" / f"{self.step:07d}"
                    folder.mkdir(parents=True, exist_ok=True)
                    self.recipe.write_sample(self.model, batch, result, folder)
                if distributed.any_process(self.interrupted, self.context):
                    break
                if self._due(options.checkpoint_every):
                    self.save()
        finally:
            signal.signal(signal.SIGINT, previous)
            bar.close()
            if run_log is not None:
                run_log.close()
        self.save()
        log.info("stopped at step %d%s", self.step, " (interrupted)" if self.interrupted else "")
        return self.step

    def _end_step(self) -> int | None:
        """The step the run ends at: max_steps, else the end of the schedule if it has one."""
        if self.options.max_steps is not None:
            return self.options.max_steps
        step = self.step
        # Walk the phases to the last one (the recipe's schedule is finite or endless).
        for _ in range(1000):
            phase = self.recipe.phase(step)
            if phase.end_step is None:
                return None
            if phase.end_step <= step:
                return step
            step = phase.end_step
        return None
