"""`python -m sv2tts preprocess synthesizer|vocoder|encoder DATASET OUT [options]`.

    python -m sv2tts preprocess synthesizer LJSpeech-1.1 data/syn --workers 4
    python -m sv2tts preprocess vocoder LibriTTS/train-clean-100 data/voc --gta run/synthesizer.pt
    python -m sv2tts preprocess encoder cv-corpus/ru data/enc --format commonvoice

Prints the summary (also written as OUT/summary.json) as JSON on stdout; progress goes to
stderr. Exit status 0 even when some files were skipped: skipping is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sv2tts.train.preprocess.datasets import FORMATS
from sv2tts.train.preprocess.run import NETS, preprocess
from sv2tts.train.preprocess.symbols import DEFAULT_SYMBOLS_NAME

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The preprocess command's arguments (shared with `python -m sv2tts preprocess`)."""
    parser.add_argument("net", choices=NETS, help="the network the training set is for")
    parser.add_argument("dataset", type=Path, help="the dataset's root folder")
    parser.add_argument("out", type=Path, help="the training set's folder (created)")
    parser.add_argument(
        "--format", choices=FORMATS, help="the dataset's layout (default: detected)"
    )
    parser.add_argument(
        "--symbols",
        default=DEFAULT_SYMBOLS_NAME,
        help="symbol set name, or a json with symbols and cleaners "
        f"(default {DEFAULT_SYMBOLS_NAME})",
    )
    parser.add_argument(
        "--gta", type=Path, help="vocoder: also write mels of this synthesizer, teacher-forced"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--weights-dir",
        type=Path,
        default=Path("pretrained"),
        help="where encoder.pt is (default pretrained/, else resemblyzer's copy)",
    )
    parser.add_argument(
        "--no_alignments",
        "--no-alignments",
        dest="no_alignments",
        action="store_true",
        help="LibriSpeech: use whole utterances, not split at the silences of the "
        "*.alignment.txt files beside them (used by default where present)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    summary = preprocess(
        args.net,
        args.dataset,
        args.out,
        fmt=args.format,
        symbols=args.symbols,
        workers=max(1, args.workers),
        weights_dir=args.weights_dir,
        gta=args.gta,
        progress=False if args.no_progress else None,
        alignments=not args.no_alignments,
    )
    print(json.dumps(summary.to_json(), indent=1), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sv2tts preprocess", description="datasets in, training sets out"
    )
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger().setLevel(level)  # also when `python -m sv2tts` configured it first
    return run(args)
