"""`python -m sv2tts`: embed voices, speak text, fetch the weights, time the pipeline.

    python -m sv2tts embed a.mp3 b.ogg [--json] [--save-dir DIR]
    python -m sv2tts say --voice a.mp3|voice.npy --text "Hello." -o out.ogg|.mp3|.wav
        [--pace 1.25] [--seed 7] [--no-watermark]
    python -m sv2tts text [--json] [--symbols english|russian] [--no-stress] TEXT...
    python -m sv2tts download
    python -m sv2tts bench [--sentences 1 3 10] [--vocoder wavernn griffinlim]
    python -m sv2tts preprocess synthesizer|vocoder|encoder DATASET OUT [...]  (sv2tts.train)
    python -m sv2tts train synthesizer|vocoder|encoder TRAINING_SET RUN_DIR [options]

Results go to stdout; errors are one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sv2tts.choices import DEVICES, PRECISIONS, VOCODERS

if TYPE_CHECKING:
    from sv2tts.pipeline import Pipeline

log = logging.getLogger(__name__)

WEIGHTS_DIR_ENV = "SV2TTS_WEIGHTS_DIR"  # the same variable as Settings.sv2tts_weights_dir
EXIT_ERROR = 1


def _common(parser: argparse.ArgumentParser, *, device: bool = True) -> None:
    parser.add_argument(
        "--weights-dir",
        type=Path,
        default=Path(os.environ.get(WEIGHTS_DIR_ENV, "pretrained")),
        help=f"folder of encoder.pt, synthesizer.pt, vocoder.pt (default: ${WEIGHTS_DIR_ENV} "
        "or pretrained/)",
    )
    if device:
        parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sv2tts", description="SV2TTS voice cloning: embed, say, download, bench"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    embed = commands.add_parser("embed", help="speaker embeddings of recordings")
    embed.add_argument("files", nargs="+", type=Path, help="audio files (mp3, ogg, wav, ...)")
    embed.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per file and line (refused files too: the code and measurements)",
    )
    embed.add_argument("--save-dir", type=Path, help="also write <name>.npy there for each file")
    embed.add_argument("--min-speech", type=float, default=2.0, help="seconds (default 2)")
    _common(embed)

    say = commands.add_parser("say", help="speak text in a voice")
    say.add_argument("--voice", required=True, type=Path, help="a recording, or a .npy embedding")
    say.add_argument("--text", required=True, help='what to say ("-": read stdin)')
    say.add_argument("-o", "--output", required=True, type=Path, help="out.ogg, .mp3 or .wav")
    say.add_argument("--vocoder", choices=VOCODERS, default="wavernn")
    say.add_argument("--max-steps", type=int, help="cap on decoder steps per sentence")
    say.add_argument("--seed", type=int, help="fix the random draws (reproducible output)")
    say.add_argument(
        "--pace", type=float, default=1.0, help="tempo, pitch kept: 0.75 (slower) to 1.5"
    )
    say.add_argument(
        "--json", action="store_true", help="print a JSON object: length, likeness, times"
    )
    say.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float32",
        help="WaveRNN's arithmetic on the CPU: bfloat16 and int8 are faster approximations",
    )
    say.add_argument(
        "--no-watermark",
        action="store_true",
        help="leave out the inaudible watermark that every note the bot sends carries",
    )
    say.add_argument("--wavernn-target", type=int, default=None, help=argparse.SUPPRESS)
    say.add_argument("--wavernn-overlap", type=int, default=None, help=argparse.SUPPRESS)
    _common(say)

    text = commands.add_parser(
        "text", help="what the synthesizer will be given: words with stress, symbols"
    )
    text.add_argument("text", nargs="+", help='the text (several: one text, "-": read stdin)')
    text.add_argument(
        "--json", action="store_true", help="one JSON object: the front end and each sentence"
    )
    text.add_argument(
        "--symbols",
        help="a named front end (english, russian) instead of the weights dir's synthesizer",
    )
    text.add_argument("--no-stress", action="store_true", help="read Russian without stress")
    _common(text, device=False)

    download = commands.add_parser("download", help="fetch the official weights")
    download.add_argument(
        "--base-url", help="download from here instead (default: $SV2TTS_WEIGHTS_URL or HF)"
    )
    download.add_argument(
        "--only", nargs="+", choices=("encoder", "synthesizer", "vocoder"), help="these files"
    )
    download.add_argument("--no-progress", action="store_true")
    _common(download, device=False)

    bench = commands.add_parser("bench", help="time each stage of the pipeline")
    bench.add_argument("--sentences", nargs="+", type=int, default=[1, 3, 10])
    bench.add_argument("--vocoder", nargs="+", choices=VOCODERS, default=["wavernn"])
    bench.add_argument("--repeat", type=int, default=1, help="runs per case; the best is kept")
    bench.add_argument(
        "--random-weights",
        action="store_true",
        help="full-size random weights even when the real ones are present",
    )
    bench.add_argument(
        "--shapes", type=Path, help="state_dicts.json to take the full-size shapes from"
    )
    bench.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    bench.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISIONS,
        default=list(PRECISIONS),
        help="WaveRNN sample-loop precisions to compare on the CPU",
    )
    bench.add_argument(
        "--no-wavernn-rate", action="store_true", help="skip the WaveRNN GFLOP/s section"
    )
    bench.add_argument(
        "--rate-recording", type=Path, help="vocode this recording's mel in the GFLOP/s section"
    )
    _common(bench)
    # preprocess parses its own arguments (sv2tts.train.preprocess.cli), imported only when
    # run: its modules pull in librosa, which no other command needs at parse time.
    preprocess = commands.add_parser(
        "preprocess", help="datasets in, training sets out", add_help=False
    )
    preprocess.add_argument("args", nargs=argparse.REMAINDER)
    preprocess.set_defaults(verbose=False)

    from sv2tts.train.cli import add_arguments as add_train_arguments

    add_train_arguments(commands.add_parser("train", help="train or fine-tune a network"))
    return parser


# --- commands -------------------------------------------------------------------------------


def run_embed(args: argparse.Namespace) -> int:
    from sv2tts.audio.codec import decode_audio
    from sv2tts.audio.recording import RecordingLimits
    from sv2tts.loading import load_voice_encoder

    encoder = load_voice_encoder(args.weights_dir, device=args.device)
    limits = RecordingLimits(min_speech_seconds=args.min_speech)
    failed = 0
    for path in args.files:
        try:
            voice = encoder.embed(decode_audio(path), limits=limits)
        except _user_errors() as error:
            print(f"error: {path}: {_message(error)}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": str(path), **_error_fields(error)}), flush=True)
            failed += 1
            continue
        if args.save_dir is not None:
            args.save_dir.mkdir(parents=True, exist_ok=True)
            np.save(args.save_dir / f"{path.stem}.npy", voice.vector)
        if args.json:
            print(json.dumps({"file": str(path), **voice.as_dict()}), flush=True)
        else:
            stats = voice.recording
            print(
                f"{path}: {stats.speech_seconds:.1f} s of speech in {stats.total_seconds:.1f} s, "
                f"{stats.level_dbfs:.1f} dBFS, {stats.clipped_fraction:.2%} clipped, "
                f"speech share {stats.speech_share:.2f}, encoder {voice.encoder_id}",
                flush=True,
            )
    return EXIT_ERROR if failed else 0


def _error_fields(error: BaseException) -> dict[str, object]:
    """A refused file's JSON fields: the code, the detail, and what it measured (when the
    recording got that far), so the thresholds can be checked against the numbers."""
    from dataclasses import asdict

    from sv2tts.errors import EngineError, RecordingError

    if not isinstance(error, EngineError):
        return {"error": "error", "detail": str(error)}
    fields: dict[str, object] = {"error": error.code, "detail": error.detail}
    if isinstance(error, RecordingError) and error.stats is not None:
        fields.update(asdict(error.stats))
    return fields


def voice_vector(pipeline: Pipeline, voice: Path) -> np.ndarray:
    """The speaker embedding of `--voice`: a saved .npy vector, or a recording embedded now."""
    from sv2tts.audio.codec import decode_audio
    from sv2tts.embedding import speaker_vector

    if voice.suffix.lower() == ".npy":
        try:
            return speaker_vector(np.load(voice, allow_pickle=False))
        except OSError as error:
            raise ValueError(f"cannot read {voice}: {error.strerror or error}") from error
    return pipeline.embed(decode_audio(voice)).vector


def run_say(args: argparse.Namespace) -> int:
    """Speak, then the worker's finishing ladder (sv2tts/finish.py), watermark included (as on
    every note the bot sends) unless `--no-watermark`."""
    import time

    import torch

    from sv2tts.finish import Finishing, encoding_of, finish
    from sv2tts.pipeline import Pipeline
    from sv2tts.speech import SynthesisOptions

    choices = Finishing(pace=args.pace, encoding=encoding_of(args.output))
    text = sys.stdin.read() if args.text == "-" else args.text
    pipeline = Pipeline.load(args.weights_dir, device=args.device, vocoder=args.vocoder)
    marker = None
    if not args.no_watermark:
        from sv2tts.watermark.model import resident_watermarker

        marker = resident_watermarker()
    speaker = voice_vector(pipeline, args.voice)
    options = SynthesisOptions(
        max_steps=args.max_steps,
        wavernn_target=args.wavernn_target,
        wavernn_overlap=args.wavernn_overlap,
        wavernn_precision=args.precision,
    )
    if args.seed is not None:  # right before speaking: the same seed, the same speech
        torch.manual_seed(args.seed)
    result = pipeline.speak_detailed(text, speaker, options)
    started = time.perf_counter()
    # The likeness is of the final samples (watermark included) to the voice asked for.
    note = finish(
        result.wav,
        result.sample_rate,
        choices,
        marker=marker,
        voice=speaker,
        measure=pipeline.likeness,
    )
    finishing = time.perf_counter() - started
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(note.data)
    likeness = note.likeness
    if args.json:
        report = {
            "file": str(args.output),
            "seconds": round(note.seconds, 3),
            "sentences": result.sentences,
            "likeness": None if likeness is None else round(likeness, 4),
            "watermark": marker is not None,
            "seconds_to_make": {
                "text": round(result.times.text, 3),
                "synthesizer": round(result.times.synthesizer, 3),
                "vocoder": round(result.times.vocoder, 3),
                "finish": round(finishing, 3),
            },
        }
        print(json.dumps(report, ensure_ascii=False))
    else:
        figure = "unmeasured" if likeness is None else f"{likeness:.2f}"
        print(
            f"wrote {args.output}: {note.seconds:.2f} s, {len(result.sentences)} sentence(s), "
            f"{result.times.total + finishing:.1f} s to make, likeness {figure}"
        )
    return 0


def run_text(args: argparse.Namespace) -> int:
    from sv2tts.text import frontend_named, load_text_frontend
    from sv2tts.text.stress import shared_stresser
    from sv2tts.weights.manifest import read_manifest, sidecar_path

    text = sys.stdin.read() if args.text == ["-"] else " ".join(args.text)
    if args.symbols:
        frontend = frontend_named(args.symbols)
    else:
        # The synthesizer's sidecar, as the engine reads it (a sidecar counts only beside
        # its checkpoint); the checkpoint itself is not loaded.
        checkpoint = args.weights_dir / read_manifest().spec("synthesizer").file
        sidecar = sidecar_path(checkpoint)
        frontend = load_text_frontend(sidecar if checkpoint.is_file() else None)
    if not args.no_stress:
        frontend = frontend.with_stresser(shared_stresser())
    readings = frontend.explain(text)
    if args.json:
        described = {
            "symbol_set": frontend.symbol_set_name,
            "num_symbols": frontend.num_symbols,
            "cleaners": list(frontend.cleaners),
            "language": frontend.language,
        }
        sentences = [reading.as_dict(frontend.symbols) for reading in readings]
        print(json.dumps({"frontend": described, "sentences": sentences}, ensure_ascii=False))
        return 0
    name = frontend.symbol_set_name or f"{frontend.num_symbols} symbols"
    print(f"front end: {name}, {', '.join(frontend.cleaners)}, language {frontend.language}")
    for number, reading in enumerate(readings, 1):
        print("\n" + "\n".join(reading.as_lines(number)))
    return 0


def run_download(args: argparse.Namespace) -> int:
    from sv2tts.weights.download import download_weights
    from sv2tts.weights.manifest import COMPONENTS

    fetched = download_weights(
        args.weights_dir,
        base_url=args.base_url,
        components=args.only or COMPONENTS,
        progress=not args.no_progress,
    )
    if fetched:
        print("downloaded and verified: " + ", ".join(str(p) for p in fetched))
    else:
        print(f"all weights present in {args.weights_dir}/")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from sv2tts.bench.speech import (
        BenchConfig,
        bench_speech,
        format_table,
        run_bench_cases,
        wavernn_rate_report,
    )
    from sv2tts.cpuinfo import cpu_info

    if args.threads:
        from sv2tts.devices import configure_cpu_threads

        configure_cpu_threads(args.threads)
    speech, description = bench_speech(
        args.weights_dir, args.device, random_weights=args.random_weights, shapes=args.shapes
    )
    config = BenchConfig(
        sentence_counts=tuple(args.sentences), vocoders=tuple(args.vocoder), repeat=args.repeat
    )
    print(f"CPU: {cpu_info().describe()}", flush=True)
    print(description, flush=True)
    rows = run_bench_cases(speech, config)
    print(format_table(rows), flush=True)
    if "wavernn" in args.vocoder and speech.device.type == "cpu" and not args.no_wavernn_rate:
        print()
        print(
            wavernn_rate_report(
                speech, config, precisions=args.precisions, recording=args.rate_recording
            )
        )
    return 0


def run_preprocess(args: argparse.Namespace) -> int:
    from sv2tts.train.preprocess.cli import main as preprocess_main

    return preprocess_main(args.args)


def run_train(args: argparse.Namespace) -> int:
    from sv2tts.train.cli import run_train as train

    return train(args)


COMMANDS = {
    "embed": run_embed,
    "say": run_say,
    "download": run_download,
    "bench": run_bench,
    "text": run_text,
    "preprocess": run_preprocess,
    "train": run_train,
}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the input's or the setup's fault: one line, no traceback."""
    from sv2tts.errors import EngineError
    from sv2tts.text import TextFrontendError
    from sv2tts.weights.checkpoint import CheckpointError
    from sv2tts.weights.manifest import WeightsError

    return (
        CheckpointError,
        EngineError,
        TextFrontendError,
        WeightsError,
        ValueError,
        OSError,
        RuntimeError,
    )


def _message(error: BaseException) -> str:
    from sv2tts.errors import EngineError

    if isinstance(error, EngineError):
        return f"{error.code}: {error.detail}" if error.detail else error.code
    return str(error) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "preprocess":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if unknown:  # options before preprocess's positionals (argparse leaves them out of REMAINDER)
        args.args = [*unknown, *args.args]
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return COMMANDS[args.command](args)
    except _user_errors() as error:
        if args.verbose:
            log.exception("%s failed", args.command)
        print(f"error: {_message(error)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
