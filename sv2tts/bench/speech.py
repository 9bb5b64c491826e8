"""Timing speech: seconds and real-time factor of each stage, for 1, 3 and 10 sentences.

With the real weights in the weights directory the bench runs them as in production. Without
them it builds full-size networks with random weights (`sv2tts.standins`: every key and shape
of the official checkpoints, loaded strictly), and forces the decoder to run a number of
frames proportional to the text (random stop tokens mean nothing), so the timings still
describe a real run.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sv2tts.audio import dsp
from sv2tts.bench.cpu import (
    PEAKED_LOGIT_SCALE,
    format_rate_table,
    gemm_gflops,
    predicted_entropy_bits,
    run_wavernn_rate,
)
from sv2tts.choices import DEVICES, PRECISIONS, Precision, VocoderName
from sv2tts.cpuinfo import cpu_info
from sv2tts.devices import choose_device, configure_cpu_threads
from sv2tts.pipeline import Pipeline
from sv2tts.speech import SynthesisOptions, WaveRNNVocoder, decoded_mels, wavernn_folds
from sv2tts.standins import default_shapes_path, random_pipeline, random_speaker, random_vocoder
from sv2tts.vocoder.model import WaveRNN
from sv2tts.weights.manifest import WeightsError, resolve_all

log = logging.getLogger(__name__)

# Read English speech runs at about 14 characters a second, i.e. about 5.7 frames of 12.5 ms
# per input symbol: the length forced on a decoder whose stop tokens are random.
FORCED_FRAMES_PER_SYMBOL = 5.5

BENCH_SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "She sells sea shells by the sea shore, or so the old song goes.",
    "A journey of a thousand miles begins with a single step forward.",
    "Please call Stella and ask her to bring these things from the store.",
    "The weather today is cloudy, with a chance of rain in the evening.",
    "He opened the window and listened to the birds singing in the garden.",
    "Every morning the baker wakes up early to prepare fresh warm bread.",
    "Technology changes quickly, but good ideas tend to stay with us.",
    "They walked along the beach until the sun went down behind the hills.",
    "Thank you for listening, and have a wonderful rest of your day.",
)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    sentence_counts: tuple[int, ...] = (1, 3, 10)
    vocoders: tuple[VocoderName, ...] = ("wavernn",)
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class BenchRow:
    sentences: int
    vocoder: str
    audio_seconds: float
    text: float
    synthesizer: float
    vocoder_seconds: float
    total: float


def bench_text(sentences: int) -> str:
    """`sentences` sentences of ordinary English (cycled past the ten available)."""
    return " ".join(BENCH_SENTENCES[i % len(BENCH_SENTENCES)] for i in range(sentences))


def bench_speech(
    weights_dir: Path | str,
    device: str,
    *,
    random_weights: bool = False,
    shapes: Path | None = None,
) -> tuple[Pipeline, str]:
    """The speech synthesizer to time and a line saying what it is."""
    where = f"{choose_device(device)} ({torch.get_num_threads()} CPU threads, {platform.node()})"
    if not random_weights:
        try:
            resolve_all(weights_dir, components=("synthesizer", "vocoder"))
            speech = Pipeline.load(weights_dir, device=device)
        except WeightsError as error:
            log.info("real weights unusable (%s): random full-size weights instead", error)
        else:
            return speech, f"real weights from {weights_dir}/ on {where}"
    shapes = shapes or default_shapes_path()
    speech = random_pipeline(device, shapes_path=shapes, frames_per_symbol=FORCED_FRAMES_PER_SYMBOL)
    origin = f"shapes of {shapes}" if shapes else "the networks' own full-size shapes"
    description = (
        f"random full-size weights ({origin}), decoder forced to "
        f"{FORCED_FRAMES_PER_SYMBOL} frames per symbol, on {where}"
    )
    return speech, description


def run_bench_cases(
    speech: Pipeline, config: BenchConfig, options: SynthesisOptions = SynthesisOptions()
) -> list[BenchRow]:
    """One row per (sentence count, vocoder): the fastest of `repeat` runs."""
    speaker = random_speaker()
    rows: list[BenchRow] = []
    for vocoder in config.vocoders:
        run_options = _with_vocoder(options, vocoder)
        speech.speak("Warm up.", speaker, run_options)  # first-call allocations
        for count in config.sentence_counts:
            best = None
            for _ in range(max(1, config.repeat)):
                result = speech.speak_detailed(bench_text(count), speaker, run_options)
                if best is None or result.times.total < best.times.total:
                    best = result
            assert best is not None
            times = best.times
            rows.append(
                BenchRow(
                    sentences=count,
                    vocoder=vocoder,
                    audio_seconds=best.seconds,
                    text=times.text,
                    synthesizer=times.synthesizer,
                    vocoder_seconds=times.vocoder,
                    total=times.total,
                )
            )
            log.info("bench %s", rows[-1])
    return rows


def wavernn_rate_report(
    speech: Pipeline,
    config: BenchConfig,
    *,
    precisions: Sequence[Precision] = ("float32", "bfloat16", "int8"),
    recording: Path | None = None,
) -> str:
    """`cpu.run_wavernn_rate` for the bench's WaveRNN on the CPU, as Markdown.

    The mel is that of `recording` (decoded, any format) or else the synthesizer's for one
    bench sentence. A random stand-in vocoder is replaced by one with peaked predictions
    (`cpu.PEAKED_LOGIT_SCALE`), so that the precisions' distances mean something.
    """
    vocoder = speech.vocoders["wavernn"]
    assert isinstance(vocoder, WaveRNNVocoder)
    model, origin = vocoder.model, "the loaded weights"
    if speech.weights.get("files", {}).get("vocoder", {}).get("random"):
        model = random_vocoder(logit_scale=PEAKED_LOGIT_SCALE).to(speech.device)
        origin = f"random full-size weights, output layer x{PEAKED_LOGIT_SCALE:g}"
    if recording is not None:
        from sv2tts.audio.codec import decode_audio

        mel = dsp.melspectrogram(decode_audio(recording), speech.signal)
        source = f"the mel of {recording}"
    else:
        sentence = speech.sentences(bench_text(1), 150)
        sequences = [speech.frontend.symbols.encode(s) for s in sentence]
        mel = decoded_mels(speech.synthesizer, sequences, random_speaker(), SynthesisOptions())[0]
        source = "the synthesizer's mel of one bench sentence"
    scaled = torch.from_numpy(mel / speech.signal.max_abs_value).to(speech.device)
    target, overlap = wavernn_folds(SynthesisOptions(), speech.device)
    rows, sampling = run_wavernn_rate(
        model, scaled, precisions, target=target, overlap=overlap, repeat=config.repeat
    )
    entropy = predicted_entropy_bits(model, scaled)
    threads = torch.get_num_threads()
    return (
        f"WaveRNN with {origin} on {source} (predicted entropy {entropy:.1f} bits), "
        f"folds {target}/{overlap}\n"
        + format_rate_table(rows, sampling, cpu_info(), threads, gemm_gflops())
    )


def _with_vocoder(options: SynthesisOptions, vocoder: VocoderName) -> SynthesisOptions:
    from dataclasses import replace

    return replace(options, vocoder=vocoder)


def format_table(rows: Sequence[BenchRow]) -> str:
    """A Markdown table: seconds per stage, and real-time factor (stage time / audio time)."""
    lines = [
        "| sentences | vocoder | audio s | text s | synthesizer s (RTF) | vocoder s (RTF) "
        "| total s (RTF) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        audio = max(row.audio_seconds, 1e-9)
        lines.append(
            f"| {row.sentences} | {row.vocoder} | {row.audio_seconds:.2f} | {row.text:.3f} "
            f"| {row.synthesizer:.2f} ({row.synthesizer / audio:.2f}) "
            f"| {row.vocoder_seconds:.2f} ({row.vocoder_seconds / audio:.2f}) "
            f"| {row.total:.2f} ({row.total / audio:.2f}) |"
        )
    return "\n".join(lines)


# --- WaveRNN fold sizes ---------------------------------------------------------------------

# Audio lengths of the pipeline bench's 1, 3 and 10 sentences with random weights, seconds.
FOLD_BENCH_SECONDS = (4.5, 14.0, 46.0)
FOLD_BENCH_SETTINGS = ("8000/800", "4000/400", "2000/200", "1000/200", "1000/100")


@dataclass(frozen=True, slots=True)
class FoldSetting:
    """One way to run batched WaveRNN: fold size, overlap and matrix-product precision."""

    target: int
    overlap: int
    precision: Precision = "float32"

    @classmethod
    def parse(cls, text: str) -> FoldSetting:
        """ "TARGET/OVERLAP" or "TARGET/OVERLAP/bfloat16"."""
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[:2]):
            raise ValueError(f"a fold setting is TARGET/OVERLAP[/PRECISION], not {text!r}")
        precision = parts[2] if len(parts) == 3 else "float32"
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        return cls(int(parts[0]), int(parts[1]), precision)  # type: ignore[arg-type]

    def __str__(self) -> str:
        suffix = "" if self.precision == "float32" else f"/{self.precision}"
        return f"{self.target}/{self.overlap}{suffix}"


@dataclass(frozen=True, slots=True)
class FoldRow:
    setting: FoldSetting
    audio_seconds: float
    folds: int
    steps: int
    seconds: tuple[float, ...]  # one per repeat

    @property
    def median(self) -> float:
        return float(np.median(self.seconds))


def fold_count(samples: int, target: int, overlap: int) -> int:
    """How many folds `fold_with_overlap` makes of `samples` samples."""
    return max(1, -(-(samples - overlap) // (target + overlap)))


def run_fold_bench(
    vocoder: WaveRNN,
    settings: Sequence[FoldSetting],
    audio_seconds: Sequence[float] = FOLD_BENCH_SECONDS,
    repeat: int = 3,
) -> list[FoldRow]:
    """Seconds of `vocoder.generate` on random mels of each length with each setting.

    Settings are interleaved within each repeat, so that a busy machine slows them alike.
    """
    c = vocoder.config
    device = next(vocoder.parameters()).device
    generator = torch.Generator().manual_seed(0)
    mels = {
        s: (
            torch.rand(
                c.feat_dims, round(s * c.sample_rate / c.hop_length) + 1, generator=generator
            )
            * 2
            - 1
        ).to(device)
        for s in audio_seconds
    }
    vocoder.generate(mels[min(audio_seconds)][:, :20])  # first-call allocations
    times: dict[tuple[float, FoldSetting], list[float]] = {}
    for _ in range(max(1, repeat)):
        for seconds, mel in mels.items():
            for setting in settings:
                start = time.perf_counter()
                vocoder.generate(
                    mel,
                    target=setting.target,
                    overlap=setting.overlap,
                    precision=setting.precision,
                )
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                times.setdefault((seconds, setting), []).append(time.perf_counter() - start)
    rows = []
    for (seconds, setting), found in times.items():
        samples = (mels[seconds].size(1) - 1) * c.hop_length
        rows.append(
            FoldRow(
                setting=setting,
                audio_seconds=seconds,
                folds=fold_count(samples, setting.target, setting.overlap),
                steps=setting.target + 2 * setting.overlap,
                seconds=tuple(found),
            )
        )
    return rows


def format_fold_table(rows: Sequence[FoldRow]) -> str:
    """A Markdown table of `run_fold_bench`: median seconds and real-time factor."""
    lines = [
        "| audio s | target/overlap | folds | steps | vocoder s, median (RTF) | all runs s |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        runs = " ".join(f"{s:.2f}" for s in row.seconds)
        lines.append(
            f"| {row.audio_seconds:g} | {row.setting} | {row.folds} | {row.steps} "
            f"| {row.median:.2f} ({row.median / row.audio_seconds:.2f}) | {runs} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sv2tts.bench.speech`: WaveRNN alone (full-size random weights) per fold."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m sv2tts.bench.speech", description="time WaveRNN per fold size and precision"
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=list(FOLD_BENCH_SETTINGS),
        help="TARGET/OVERLAP[/bfloat16] each",
    )
    parser.add_argument("--seconds", nargs="+", type=float, default=list(FOLD_BENCH_SECONDS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", default="cpu", choices=DEVICES)
    args = parser.parse_args(argv)
    if args.threads:
        configure_cpu_threads(args.threads)
    device = choose_device(args.device)
    vocoder = random_vocoder().to(device)
    settings = [FoldSetting.parse(s) for s in args.settings]
    print(
        f"WaveRNN, random full-size weights, on {device} ({torch.get_num_threads()} threads, "
        f"{platform.node()}; {cpu_info().describe()})",
        flush=True,
    )
    print(format_fold_table(run_fold_bench(vocoder, settings, args.seconds, args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
