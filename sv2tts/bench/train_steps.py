"""Training speed of the full-size vocoder and encoder: optimisation steps per second.

    python -m sv2tts.bench.train_steps                     # both, on the CPU
    python -m sv2tts.bench.train_steps vocoder --steps 5 --threads 2
    python -m sv2tts.bench.train_steps encoder --device cuda

One step is what `sv2tts.train.loop.Trainer.train_step` runs: the recipe's training forward
and loss, backward, the recipe's gradient scaling/clipping, one Adam step, at the reference's
full size and batch (vocoder: WaveRNN 512/512, 100 windows of 1000 samples; encoder: 3 x 256
LSTM, 64 speakers x 10 utterances x 160 frames). The batches are synthetic (random mel
windows and labels, random frames): speed does not depend on the values. Fresh random
weights. The CPU model is printed first, because figures from different machines are not
comparable. A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from sv2tts.cpuinfo import cpu_info
from sv2tts.encoder.train import EncoderBatch, EncoderRecipe
from sv2tts.train.loop import to_device
from sv2tts.vocoder.train import VocoderBatch, VocoderRecipe, labels_to_inputs

log = logging.getLogger(__name__)

NETWORKS = ("vocoder", "encoder")


def vocoder_batch(recipe: VocoderRecipe, rng: np.random.Generator) -> VocoderBatch:
    c = recipe.config
    size = c.batch_size
    labels = torch.from_numpy(rng.integers(0, c.model.n_classes, (size, c.seq_len + 1)))
    mels = rng.uniform(-1, 1, (size, c.model.feat_dims, c.mel_window)).astype(np.float32)
    return VocoderBatch(
        mels=torch.from_numpy(mels),
        x=labels_to_inputs(labels[:, :-1], c.model.bits),
        y=labels[:, 1:],
        mel_offsets=np.zeros(size, np.int64),
        sig_offsets=np.zeros(size, np.int64),
    )


def encoder_batch(recipe: EncoderRecipe, rng: np.random.Generator) -> EncoderBatch:
    c = recipe.config
    speakers, utterances = c.speakers_per_batch, c.utterances_per_speaker
    shape = (speakers * utterances, c.partial_frames, c.model.n_mels)
    frames = rng.random(shape, dtype=np.float32)
    return EncoderBatch(
        frames=torch.from_numpy(frames),
        speakers=speakers,
        starts=np.zeros((speakers, utterances), np.int64),
        names=tuple(str(s) for s in range(speakers)),
    )


class StepTime(NamedTuple):
    wall: float  # seconds
    cpu: float  # CPU seconds of this process (all its threads)


def step_times(
    recipe: Any, batch: Any, device: torch.device, steps: int, warmup: int = 1
) -> list[StepTime]:
    """Times of each of `steps` timed optimisation steps, after `warmup` untimed ones."""
    model = recipe.build_model().to(device)
    optimizer = recipe.build_optimizer(model)
    model.train()
    batch = to_device(batch, device)

    def one_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        result = recipe.loss(model, batch)
        result.loss.backward()
        recipe.clip(model)
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        one_step()
    times = []
    for _ in range(steps):
        started, cpu_started = time.perf_counter(), time.process_time()
        one_step()
        times.append(StepTime(time.perf_counter() - started, time.process_time() - cpu_started))
    return times


def describe(name: str, recipe: Any) -> str:
    c = recipe.config
    if name == "vocoder":
        m = c.model
        return (
            f"WaveRNN rnn {m.rnn_dims} fc {m.fc_dims} res {m.res_blocks}x{m.compute_dims}, "
            f"batch {c.batch_size} x {c.seq_len} samples"
        )
    m = c.model
    return (
        f"LSTM {m.num_layers}x{m.hidden_size}, batch {c.speakers_per_batch} speakers x "
        f"{c.utterances_per_speaker} utterances x {c.partial_frames} frames"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sv2tts.bench.train_steps", description=__doc__)
    parser.add_argument("networks", nargs="*", help=f"any of {', '.join(NETWORKS)} (default: both)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per network")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.networks if n not in NETWORKS]
    if unknown:
        parser.error(f"unknown network(s) {', '.join(unknown)}; choose from {', '.join(NETWORKS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"CPU: {cpu_info().describe()}")
    if device.type == "cuda":
        print(f"GPU: {torch.cuda.get_device_name(device)}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    print(f"load average before: {load} (other processes share these CPUs)")
    makers: dict[str, Callable[[], tuple[Any, Any]]] = {
        "vocoder": lambda: (r := VocoderRecipe(), vocoder_batch(r, np.random.default_rng(0))),
        "encoder": lambda: (r := EncoderRecipe(), encoder_batch(r, np.random.default_rng(0))),
    }
    for name in args.networks or NETWORKS:
        recipe, batch = makers[name]()
        times = step_times(recipe, batch, device, args.steps, args.warmup)
        walls = [t.wall for t in times]
        median = statistics.median(walls)
        cpu = statistics.median(t.cpu for t in times)
        spread = f"{min(walls):.3f}-{max(walls):.3f}"
        # CPU seconds tell how much of the machine the step had: on a shared machine the
        # wall time is inflated by the other processes, the CPU time much less.
        print(
            f"{name}: {describe(name, recipe)}: {1 / median:.4f} steps/s "
            f"(median {median:.3f} s/step over {len(times)} steps, range {spread} s; "
            f"{cpu:.1f} CPU s/step)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
