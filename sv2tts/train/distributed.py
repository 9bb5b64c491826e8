"""Several processes through PyTorch's own distributed data parallel (`torchrun`).

    torchrun --nproc-per-node 2 -m sv2tts train synthesizer SET RUN_DIR [--device cpu]

`torchrun` sets RANK, LOCAL_RANK and WORLD_SIZE; `start` then joins the process group (gloo
on CPU, nccl on CUDA, one GPU per process: cuda:LOCAL_RANK). Each process builds its share
of every global batch (items rank::world_size), DDP averages the gradients, so a step of N
processes is a step on the whole batch.

Batch normalisation must see the whole batch too, or N processes would not take the step
one process takes: on CUDA the BatchNorm layers become `torch.nn.SyncBatchNorm`; PyTorch's
SyncBatchNorm refuses CPU tensors, so on CPU they become `GlooSyncBatchNorm`, which sums the
batch moments over the processes with a differentiable all-reduce. Both keep the parameter
and buffer names, so checkpoints are unchanged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """Where this process stands: rank, world size, and the device it trains on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(device: str) -> Context:
    """Join the process group when started by torchrun (WORLD_SIZE > 1), else one process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Context(0, 1, torch.device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    on_cuda = torch.device(device).type == "cuda"
    target = torch.device("cuda", local_rank) if on_cuda else torch.device("cpu")
    if on_cuda:
        torch.cuda.set_device(target)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if on_cuda else "gloo")
    log.info("process %d of %d on %s", rank, world_size, target)
    return Context(rank, world_size, target)


def stop() -> None:
    """Leave the process group, once every process has got here (rank 0 may still be
    writing the last checkpoint; tearing gloo down under it can hang)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


class _SumOverProcesses(torch.autograd.Function):
    """y = the sum of x over all processes; the gradient of each x is the sum of the
    gradients of y over all processes (every process's loss depends on every x)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def sum_over_processes(x: torch.Tensor) -> torch.Tensor:
    """The sum of `x` over all processes, differentiable."""
    result: torch.Tensor = _SumOverProcesses.apply(x)
    return result


class GlooSyncBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics are those of the batch over all processes.

    Same parameters, buffers and update rule as BatchNorm1d (biased variance to normalise,
    unbiased into the running variance); the moments are all-reduced with autograd, so the
    gradients are those of one process holding the whole batch.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized()):
            return super().forward(x)
        dims = [0] if x.dim() == 2 else [0, 2]
        count = x.new_tensor(float(x.numel() // x.size(1)))
        moments = torch.cat([x.sum(dims), (x * x).sum(dims), count.view(1)])
        moments = sum_over_processes(moments)
        channels = x.size(1)
        total = moments[-1]
        mean = moments[:channels] / total
        variance = moments[channels : 2 * channels] / total - mean * mean
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            momentum = self.momentum if self.momentum is not None else 0.0
            unbiased = variance.detach() * total / (total - 1)
            self.running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
            self.running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
        shape = [1, channels] + [1] * (x.dim() - 2)
        normalised = (x - mean.view(shape)) * torch.rsqrt(variance.view(shape) + self.eps)
        return normalised * self.weight.view(shape) + self.bias.view(shape)


def sync_batch_norm(model: nn.Module, device: torch.device) -> nn.Module:
    """`model` with every BatchNorm1d replaced by its synchronised form for `device`."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm1d:
            replacement = GlooSyncBatchNorm(
                child.num_features, child.eps, child.momentum, child.affine
            )
            replacement.load_state_dict(child.state_dict())
            setattr(model, name, replacement)
        else:
            sync_batch_norm(child, device)
    return model


def prepare(model: nn.Module, context: Context) -> nn.Module:
    """`model` with synchronised batch norm when distributed. Call it before building the
    optimizer: the replaced layers have new parameters."""
    return sync_batch_norm(model, context.device) if context.distributed else model


def wrap(model: nn.Module, context: Context) -> nn.Module:
    """`model` (prepared, on context.device) for this process: DDP when distributed."""
    if not context.distributed:
        return model
    ids = [context.device.index] if context.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def any_process(flag: bool, context: Context) -> bool:
    """Whether `flag` is set in any process (every process must call it at the same step)."""
    if not context.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=context.device)
    dist.all_reduce(value)
    return bool(value.item() > 0)


def mean_over_processes(values: dict[str, float], context: Context) -> dict[str, float]:
    """Each value averaged over the processes (every process must call it at the same step
    with the same names): the loss of the whole batch, as one process would log it."""
    if not context.distributed:
        return values
    names = sorted(values)
    tensor = torch.tensor([values[n] for n in names], dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor)
    return dict(zip(names, (tensor / context.world_size).tolist(), strict=True))
