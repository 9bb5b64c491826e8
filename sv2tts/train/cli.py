"""`python -m sv2tts train NET TRAINING_SET RUN_DIR [options]`: train or fine-tune a network.

    python -m sv2tts train synthesizer data/syn runs/syn                  # from scratch
    python -m sv2tts train synthesizer data/syn runs/syn --resume         # continue
    python -m sv2tts train synthesizer data/ru runs/ru --init pretrained/synthesizer.pt
    python -m sv2tts train synthesizer data/syn runs/syn --config my.json --max-steps 5000
    torchrun --nproc-per-node 4 -m sv2tts train synthesizer data/syn runs/syn --device cuda

NET names a module `sv2tts.NET.train` that provides `make_recipe(training_set, overrides)`
(see `sv2tts.train.loop`). `--config FILE.json` overrides the recipe's defaults (the
reference's hyper-parameters); the config in effect is saved as RUN_DIR/train_config.json,
which `--resume` reuses when no --config is given. Ctrl-C saves a checkpoint and stops.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sv2tts.choices import DEVICES

log = logging.getLogger(__name__)

NETWORKS = ("synthesizer", "vocoder", "encoder")
CONFIG_NAME = "train_config.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `train` subcommand's arguments (sv2tts.cli adds them to its subparser)."""
    parser.add_argument("network", choices=NETWORKS, help="the network to train")
    parser.add_argument("training_set", type=Path, help="what `preprocess` wrote")
    parser.add_argument("run_dir", type=Path, help="checkpoints, samples and logs go here")
    parser.add_argument("--config", type=Path, help="json overriding the default config")
    parser.add_argument("--init", type=Path, help="start from this checkpoint's weights")
    parser.add_argument("--resume", action="store_true", help="continue RUN_DIR's run")
    parser.add_argument("--max-steps", type=int, help="stop at this step (default: schedule end)")
    parser.add_argument("--checkpoint-every", type=int, default=1000, metavar="STEPS")
    parser.add_argument("--sample-every", type=int, default=500, metavar="STEPS")
    parser.add_argument("--log-every", type=int, default=10, metavar="STEPS")
    parser.add_argument("--backup-every", type=int, default=25_000, metavar="STEPS")
    parser.add_argument("--device", choices=[*DEVICES, "cuda:0"], default="auto")
    parser.add_argument("--amp", action="store_true", help="float16 mixed precision (CUDA)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")


def read_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config overrides of this run: --config, else (on --resume) the saved ones."""
    path = args.config
    if path is None and args.resume and (args.run_dir / CONFIG_NAME).is_file():
        path = args.run_dir / CONFIG_NAME
    if path is None:
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config must be a JSON object")
    log.info("config from %s", path)
    return data


def make_recipe(network: str, training_set: Path, overrides: Mapping[str, Any]) -> Any:
    module = importlib.import_module(f"sv2tts.{network}.train")
    return module.make_recipe(training_set, overrides)


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_train(args: argparse.Namespace) -> int:
    """Train as `args` say; the exit status."""
    from sv2tts.train.loop import Trainer, TrainOptions

    if args.resume and not (args.run_dir / f"{args.network}.pt").is_file():
        raise FileNotFoundError(f"--resume: no {args.network}.pt in {args.run_dir}")
    overrides = read_overrides(args)
    recipe = make_recipe(args.network, args.training_set, overrides)
    options = TrainOptions(
        max_steps=args.max_steps,
        checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every,
        log_every=args.log_every,
        backup_every=args.backup_every,
        device=resolve_device(args.device),
        amp=args.amp,
        seed=args.seed,
        init=args.init,
        resume=args.resume,
        progress=not args.no_progress,
    )
    trainer = Trainer(recipe, args.training_set, args.run_dir, options)
    if trainer.context.is_main:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        config = recipe.config.to_dict() if hasattr(recipe.config, "to_dict") else overrides
        (args.run_dir / CONFIG_NAME).write_text(json.dumps(config, indent=1) + "\n")
    try:
        step = trainer.run()
    finally:
        from sv2tts.train import distributed

        distributed.stop()
    if trainer.context.is_main:
        print(f"{args.network}: step {step}, checkpoint {trainer.checkpoint_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sv2tts train", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    return run_train(args)


if __name__ == "__main__":
    raise SystemExit(main())
