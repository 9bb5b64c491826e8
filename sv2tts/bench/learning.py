"""Learning, shown on speech whose text is known: a small synthesizer trained on eSpeak NG.

    python -m sv2tts.bench.learning [--utterances 1500] [--steps 3000] [--out DIR]
        [--guided-attention WEIGHT]

1. eSpeak NG speaks `utterances` generated English sentences (short ones, 3-8 words from
   the word lists, unless `--long-sentences`) with one voice, or several voice variants as
   speakers (`sv2tts.train.espeak`), and `held_out` more sentences that training never sees.
2. `preprocess synthesizer` turns both into training sets (the engine's signal path, the real
   speaker encoder's embeddings), keeping utterances of `min_seconds` (1.0: the reference's
   1.6 s would drop many short sentences) up to `max_mel_frames`.
3. A small Tacotron (`SMALL_MODEL`, the tiny conformance checkpoint's kind of dims) trains on
   the CPU with the synthesizer recipe and the trainer's step (`sv2tts.train`), r = 5, batch
   16, Adam at a fixed learning rate, the reference's losses, clipping and pre-net dropout;
   with `--guided-attention WEIGHT` (off by default) plus the diagonal guided-attention loss
   (`sv2tts.synthesizer.train.guided_attention_loss`), which is not the reference's objective.
4. Every `eval_every` steps (and at step 0, the untrained network) the held-out sentences are
   measured (`evaluate`, one sentence at a time as `say` runs them), and the end checkpoint is
   written in the official format with its sidecar, so that
   `python -m sv2tts say --weights-dir RUN_DIR --vocoder griffinlim` speaks.

Measures on the held-out sentences (all in `report.json`, losses per step in `losses.csv`):

- diagonality: the share of attention mass within a band around the straight path from the
  first character at the first decoder step to the last character at the last step (band
  half-width: 10 % of the characters, at least 1), averaged over decoder steps and
  sentences. Speech is not evenly paced, so a perfect alignment scores below 1, but a network
  that has not learnt to align scores near the band's share of the sentence (`chance`),
  because its attention stays on a few characters or spreads evenly. Measured on the
  free-running output (`generate`: the network feeds itself, as at inference) and
  teacher-forced (fed the true frames).
- focus: the mean over decoder steps of the largest attention weight (1: one character
  attended at a time).
- mel distance: the mean absolute difference per band (in the normalised [-4, 4] units) between
  the network's free-running mel (post-net) and eSpeak's own mel of the same sentence and
  voice, frame pairs matched by dynamic time warping (DTW with the L1 frame cost), so that
  speaking at another pace is not penalised, wrong sounds are. For scale, `baseline`: the
  same distance for a constant frame (the training set's mean frame) as long as the truth.
- frames ratio: the free-running output's length over eSpeak's (did it learn to stop?).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sv2tts.bench.learning_eval import evaluate, read_held_out
from sv2tts.synthesizer.model import SynthesizerConfig
from sv2tts.synthesizer.train import (
    SynthesizerDataset,
    SynthesizerRecipe,
    SynthesizerTrainConfig,
    TrainingSetInfo,
)
from sv2tts.train.checkpoints import resume, save_checkpoint
from sv2tts.train.espeak import make_corpus
from sv2tts.train.loop import Phase, Shard, Trainer, TrainOptions
from sv2tts.train.preprocess.process import PreprocessConfig
from sv2tts.train.preprocess.run import preprocess

log = logging.getLogger(__name__)

# Small enough to learn on a CPU in minutes; the layout is the full network's.
SMALL_MODEL: dict[str, Any] = {
    "embed_dims": 64,
    "encoder_dims": 32,
    "decoder_dims": 64,
    "postnet_dims": 32,
    "encoder_K": 3,
    "postnet_K": 3,
    "lstm_dims": 128,
    "num_highways": 2,
}


@dataclass(frozen=True)
class BenchConfig:
    utterances: int = 1500
    held_out: int = 16
    speakers: tuple[str, ...] = ("en+m3",)
    short_sentences: bool = True
    # Preprocessing: the reference skips utterances under 1.6 s, which would drop nearly
    # half of the short sentences; and a short maximum keeps the batches short.
    min_seconds: float = 1.0
    max_mel_frames: int = 320
    steps: int = 3000
    batch_size: int = 16
    lr: float = 2e-3
    r: int = 5
    eval_every: int = 250
    seed: int = 0
    # The weight of the optional guided-attention loss (not the reference's objective):
    # 0, off, unless asked for (--guided-attention).
    guided_attention: float = 0.0
    model: dict[str, Any] = field(default_factory=lambda: dict(SMALL_MODEL))


def make_training_sets(out: Path, config: BenchConfig, workers: int = 1) -> tuple[Path, Path]:
    """eSpeak corpora (training, held-out) and their synthesizer training sets."""
    corpus, sets = out / "corpus", out / "sets"
    if not (corpus / "train").is_dir():
        make_corpus(
            corpus / "train",
            config.utterances,
            speakers=config.speakers,
            seed=config.seed,
            short=config.short_sentences,
        )
    if not (corpus / "held_out").is_dir():
        make_corpus(
            corpus / "held_out",
            config.held_out,
            speakers=config.speakers,
            seed=config.seed,
            first=config.utterances,
            short=config.short_sentences,
        )
    limits = PreprocessConfig(min_seconds=config.min_seconds, max_mel_frames=config.max_mel_frames)
    for name in ("train", "held_out"):
        preprocess(
            "synthesizer",
            corpus / name,
            sets / name,
            workers=workers,
            config=limits,
            progress=False,
        )
    return sets / "train", sets / "held_out"


def mean_frame(training_set: Path) -> np.ndarray:
    dataset = SynthesizerDataset(training_set)
    total = sum(dataset[i].mel.sum(axis=1) for i in range(len(dataset)))
    frames = sum(dataset[i].mel.shape[1] for i in range(len(dataset)))
    return np.asarray(total, dtype=np.float64) / frames


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def _numbers(row: dict[str, str]) -> dict[str, float]:
    return {key: int(value) if key == "step" else float(value) for key, value in row.items()}


def save_run_checkpoint(trainer: Trainer, recipe: SynthesizerRecipe, run_dir: Path) -> Path:
    """`synthesizer.pt` (official format) and `synthesizer.json` (its sidecar) in `run_dir`:
    what `python -m sv2tts say --weights-dir RUN_DIR` loads."""
    path = run_dir / "synthesizer.pt"
    save_checkpoint(path, trainer.model, trainer.optimizer, trainer.step, recipe.sidecar())
    return path


def train(
    training_set: Path,
    held_out: Path,
    run_dir: Path,
    config: BenchConfig,
    resume_run: bool = False,
) -> dict[str, Any]:
    """Train and measure; writes losses.csv, evaluations.csv, report.json, the checkpoint.

    `resume_run`: go on from the checkpoint in `run_dir` (its weights, optimizer state and
    step; fresh batches) up to `config.steps`, appending to the csv files."""
    torch.manual_seed(config.seed)
    info = TrainingSetInfo.read(training_set)
    model_config = SynthesizerConfig.from_dict({**config.model, "num_chars": len(info.symbols)})
    train_config = SynthesizerTrainConfig(
        model=model_config,
        schedule=((config.r, config.lr, config.steps, config.batch_size),),
        loader_workers=0,
        guided_attention=config.guided_attention,
    )
    recipe = SynthesizerRecipe(train_config, info)
    trainer = Trainer(recipe, training_set, run_dir, TrainOptions(device="cpu", seed=config.seed))
    dataset = recipe.dataset(training_set)
    phase: Phase = recipe.phase(0)
    held, frame = read_held_out(held_out), mean_frame(training_set)

    run_dir.mkdir(parents=True, exist_ok=True)
    evaluations: list[dict[str, float]] = []
    rows: list[dict[str, float]] = []
    if resume_run:
        trainer.step = resume(run_dir / "synthesizer.pt", trainer.model, trainer.optimizer)
        evaluations = [_numbers(row) for row in _read_csv(run_dir / "evaluations.csv")]
        rows = [_numbers(row) for row in _read_csv(run_dir / "losses.csv")][: trainer.step]
    first_step = trainer.step + 1
    batches = recipe.batches(dataset, phase, Shard(), config.seed + trainer.step)

    def measure(step: int) -> None:
        # Written at every evaluation, so that a run cut short still has its figures.
        evaluations.append({"step": step, **evaluate(trainer.model, held, config.r, frame)})
        log.info("step %d: %s", step, evaluations[-1])
        with (run_dir / "evaluations.csv").open("w", newline="") as stream:
            table = csv.DictWriter(stream, fieldnames=list(evaluations[0]))
            table.writeheader()
            table.writerows(evaluations)

    if not resume_run:
        measure(0)
    started = time.perf_counter()
    with (run_dir / "losses.csv").open("w", newline="") as stream:
        writer: csv.DictWriter | None = None
        if rows:  # rewritten up to the resumed step: a killed run's later rows are gone
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        for step in range(first_step, config.steps + 1):
            result, grad_norm = trainer.train_step(next(batches), phase)
            row = {"step": step, **result.scalars, "grad_norm": grad_norm, "lr": phase.lr}
            row["seconds"] = round(time.perf_counter() - started, 2)  # since this start
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            stream.flush()
            rows.append(row)
            if step % config.eval_every == 0 or step == config.steps:
                measure(step)
                save_run_checkpoint(trainer, recipe, run_dir)
    seconds = time.perf_counter() - started
    checkpoint = save_run_checkpoint(trainer, recipe, run_dir)
    window = max(1, min(50, len(rows) // 10))
    report = {
        "config": asdict(config),
        "training_utterances": len(dataset),
        "held_out_sentences": len(held.mels),
        "trained_steps": config.steps - first_step + 1,  # by this start (see --resume)
        "train_seconds": round(seconds, 1),
        "steps_per_second": round((config.steps - first_step + 1) / seconds, 3),
        "loss_first": float(np.mean([r["loss"] for r in rows[:window]])),
        "loss_last": float(np.mean([r["loss"] for r in rows[-window:]])),
        "evaluations": evaluations,
        "checkpoint": str(checkpoint),
    }
    (run_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def run(
    out: Path, config: BenchConfig, workers: int = 1, resume_run: bool = False
) -> dict[str, Any]:
    torch.set_num_threads(1)
    started = time.perf_counter()
    training_set, held_out = make_training_sets(out, config, workers)
    prepared = time.perf_counter() - started
    report = train(training_set, held_out, out / "run", config, resume_run)
    report["prepare_seconds"] = round(prepared, 1)
    (out / "run" / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['training_utterances']} training utterances, "
        f"{report['held_out_sentences']} held-out sentences; "
        f"{report['trained_steps']} steps (to step {report['config']['steps']}) in "
        f"{report['train_seconds']} s "
        f"({report['steps_per_second']} steps/s); loss {report['loss_first']:.3f} -> "
        f"{report['loss_last']:.3f}; guided attention: "
        f"{report['config'].get('guided_attention', 0.0) or 'off'}",
        "step  diag_free  diag_forced  chance  focus  mel_dtw  baseline  mae_forced  frames_ratio",
    ]
    for e in report["evaluations"]:
        lines.append(
            f"{e['step']:>5}  {e['diagonality_free']:9.3f}  {e['diagonality_forced']:11.3f}  "
            f"{e['diagonality_chance']:6.3f}  {e['focus_free']:5.3f}  {e['mel_distance_dtw']:7.3f}"
            f"  {e['mel_distance_baseline']:8.3f}  {e['mel_mae_forced']:10.3f}  "
            f"{e['frames_ratio']:12.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(
        prog="python -m sv2tts.bench.learning", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("learning-bench"))
    parser.add_argument("--utterances", type=int, default=defaults.utterances)
    parser.add_argument("--held-out", type=int, default=defaults.held_out)
    parser.add_argument("--speakers", nargs="+", default=list(defaults.speakers))
    parser.add_argument(
        "--long-sentences",
        action="store_true",
        help="the 6-13-word sentences (default: short ones, 3-8 words)",
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=defaults.min_seconds,
        help="shorter utterances are skipped (the reference: 1.6)",
    )
    parser.add_argument(
        "--max-mel-frames",
        type=int,
        default=defaults.max_mel_frames,
        help="longer utterances are skipped (the reference: 900)",
    )
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--r", type=int, default=defaults.r, help="frames per decoder step")
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--guided-attention",
        type=float,
        default=defaults.guided_attention,
        metavar="WEIGHT",
        help="add the diagonal guided-attention loss (Tachibana et al. 2017, g = 0.2) with "
        "this weight: not the reference's objective (default 0: off)",
    )
    parser.add_argument("--workers", type=int, default=1, help="preprocessing processes")
    parser.add_argument(
        "--resume", action="store_true", help="go on from OUT/run/synthesizer.pt to --steps"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = BenchConfig(
        utterances=args.utterances,
        held_out=args.held_out,
        speakers=tuple(args.speakers),
        short_sentences=not args.long_sentences,
        min_seconds=args.min_seconds,
        max_mel_frames=args.max_mel_frames,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        r=args.r,
        eval_every=args.eval_every,
        seed=args.seed,
        guided_attention=args.guided_attention,
    )
    report = run(args.out, config, args.workers, args.resume)
    print(format_report(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
