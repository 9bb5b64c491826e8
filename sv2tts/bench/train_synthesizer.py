"""Training speed: optimisation steps per second of a full-size network, on random weights.

    python -m sv2tts.bench.train_synthesizer synthesizer [--steps 3] [--batch 12]
        [--device cpu|cuda] [--amp]

No training set is needed: the batch is synthetic, of realistic lengths (texts of 80-160
symbols, about 5.5 mel frames per symbol as read speech has at 80 frames/s, the longest
within the reference's max_mel_frames 900), with random mels and unit speaker embeddings.
One warm-up step is not timed (`--warmup`). The step is the training loop's
(`Trainer.train_step`: the recipe's forward and loss, backward, clipping, Adam), at the
reference's schedule's first phase. Prints the CPU model (or GPU name) first, then the
figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from sv2tts.cpuinfo import cpu_info
from sv2tts.synthesizer.train import (
    SynthesizerItem,
    SynthesizerRecipe,
    SynthesizerTrainConfig,
    TrainingSetInfo,
    collate,
)
from sv2tts.text.symbols import DEFAULT_SYMBOLS
from sv2tts.train.loop import Trainer, TrainOptions, to_device

log = logging.getLogger(__name__)


def synthetic_items(batch: int, seed: int = 0) -> list[SynthesizerItem]:
    """`batch` utterances of realistic lengths with random content."""
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(batch):
        symbols = int(rng.integers(80, 161))
        frames = min(900, int(symbols * 5.5))
        chars = np.append(rng.integers(2, len(DEFAULT_SYMBOLS), symbols - 1), 1).astype(np.int64)
        mel = rng.uniform(-4, 4, (80, frames)).astype(np.float32)
        embed = rng.standard_normal(256).astype(np.float32)
        items.append(SynthesizerItem(chars, mel, embed / np.linalg.norm(embed)))
    return items


def bench_synthesizer(
    steps: int, batch: int, device: str, amp: bool, warmup: int = 1
) -> dict[str, float]:
    """Seconds per step and steps/s of the full-size synthesizer's training step."""
    info = TrainingSetInfo(DEFAULT_SYMBOLS.symbols, ("english_cleaners",), "en", {})
    recipe = SynthesizerRecipe(SynthesizerTrainConfig(loader_workers=0), info)
    options = TrainOptions(device=device, amp=amp, progress=False, tensorboard=False)
    trainer = Trainer(recipe, Path("."), Path("."), options)
    phase = recipe.phase(0)
    data = collate(synthetic_items(batch), int(phase.settings["r"]))
    data = to_device(data, trainer.device)
    frames = int(data.mels.shape[-1])
    log.info("batch %d, %d padded frames, %d symbols", batch, frames, data.chars.shape[1])
    for _ in range(warmup):  # allocations, kernels, autotuning
        trainer.train_step(data, phase)
    synchronize(trainer.device)
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(data, phase)
    synchronize(trainer.device)
    seconds = (time.perf_counter() - started) / steps
    return {
        "seconds_per_step": seconds,
        "steps_per_s": 1.0 / seconds,
        "padded_frames": frames,
        "utterances_per_s": batch / seconds,
    }


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def describe(device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(torch.device(device))} (CUDA {torch.version.cuda})"
    return f"{cpu_info().describe()}, {torch.get_num_threads()} torch threads"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sv2tts.bench.train_synthesizer", description=__doc__
    )
    parser.add_argument("network", choices=["synthesizer"])
    parser.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=12, help="the reference's: 12")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true", help="float16 mixed precision (CUDA)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    load = f", load average {os.getloadavg()[0]:.1f}"
    print(
        f"{platform.node()}: {describe(args.device)}; torch {torch.__version__}{load}", flush=True
    )
    figures = bench_synthesizer(args.steps, args.batch, args.device, args.amp, args.warmup)
    print(
        f"{args.network}, full size, random weights, batch {args.batch} "
        f"({figures['padded_frames']} padded frames), {args.device}"
        f"{' amp' if args.amp else ''}: {figures['seconds_per_step']:.2f} s/step, "
        f"{figures['steps_per_s']:.3f} steps/s, {figures['utterances_per_s']:.2f} utterances/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
