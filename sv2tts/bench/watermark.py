"""`python -m sv2tts.bench.watermark`: what the watermark costs and how well it is found.

On this CPU (printed first), with the trained network of resemble-perth (sv2tts/watermark/model.py):

- the cost of marking and of detecting, in seconds per second of audio, over the recordings
  given (each timed after one warm-up run, the median reported) and one 30 s piece;
- detection on marked and unmarked audio: each recording, as it is and marked, encoded and
  decoded again as an Opus voice note (32 kbit/s, as the worker sends them; and 16 kbit/s) and
  as MP3 (64 and 32 kbit/s), read whole and in 2.5 s windows (hop 1.25 s); the figures are
  how many of each were found (verdict "found"), how many were read as absent, and the range
  of the detector's confidence. Beside the speech: a 220 Hz tone (what the test suite's
  stand-in engine says) and white noise.

    python -m sv2tts.bench.watermark ../shared/audio/*.mp3

Not a test: the figures depend on the machine and go in the README with this command.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sv2tts.audio.codec import SAMPLE_RATE, decode_audio, encode_mp3, encode_ogg_opus
from sv2tts.cpuinfo import cpu_info
from sv2tts.watermark.model import Watermarker, load_watermarker, verdict

WINDOW_SECONDS = 2.5
HOP_SECONDS = 1.25


def round_trip(encode: Callable[[np.ndarray, int], bytes]) -> Callable[[np.ndarray], np.ndarray]:
    def run(wav: np.ndarray) -> np.ndarray:
        return decode_audio(encode(wav, SAMPLE_RATE), max_seconds=3600)

    return run


CONDITIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as made (float)": lambda wav: wav,
    "Opus 32 kbit/s (voice note)": round_trip(encode_ogg_opus),
    "Opus 16 kbit/s": round_trip(lambda w, sr: encode_ogg_opus(w, sr, bitrate="16k")),
    "MP3 64 kbit/s": round_trip(encode_mp3),
    "MP3 32 kbit/s": round_trip(lambda w, sr: encode_mp3(w, sr, bitrate="32k")),
}


@dataclass
class Tally:
    confidences: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.confidences.append(value)

    def share(self, word: str) -> str:
        hits = sum(1 for c in self.confidences if verdict(c) == word)
        return f"{hits}/{len(self.confidences)}"

    def spread(self) -> str:
        return f"{min(self.confidences):.3f}–{max(self.confidences):.3f}"


def windows(wav: np.ndarray) -> list[np.ndarray]:
    size, hop = int(WINDOW_SECONDS * SAMPLE_RATE), int(HOP_SECONDS * SAMPLE_RATE)
    return [wav[i : i + size] for i in range(0, max(1, len(wav) - size + 1), hop)]


def tone(seconds: float = 5.0, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE), dtype=np.float32) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def noise(seconds: float = 5.0) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(int(seconds * SAMPLE_RATE))).astype(
        np.float32
    )


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def snr_db(clean: np.ndarray, marked: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(clean**2) / max(np.sum((marked - clean) ** 2), 1e-20)))


def cost(marker: Watermarker, clips: list[np.ndarray]) -> None:
    apply, detect = [], []
    snrs = [snr_db(wav, marker.apply(wav, SAMPLE_RATE)) for wav in clips]
    for wav in clips:
        seconds = len(wav) / SAMPLE_RATE
        marker.apply(wav, SAMPLE_RATE)  # warm-up: first calls allocate
        apply.append(timed(lambda wav=wav: marker.apply(wav, SAMPLE_RATE)) / seconds)
        detect.append(timed(lambda wav=wav: marker.confidence(wav, SAMPLE_RATE)) / seconds)
    long = np.concatenate(clips)[: 30 * SAMPLE_RATE]
    long = np.tile(long, -(-30 * SAMPLE_RATE // len(long)))[: 30 * SAMPLE_RATE]
    long_apply = timed(lambda: marker.apply(long, SAMPLE_RATE)) / 30
    long_detect = timed(lambda: marker.confidence(long, SAMPLE_RATE)) / 30
    print("\ncost, seconds per second of audio (1 CPU thread of torch unless set otherwise):")
    print(
        f"  mark:   median {statistics.median(apply):.4f} over {len(clips)} clips, 30 s piece "
        f"{long_apply:.4f}"
    )
    print(
        f"  detect: median {statistics.median(detect):.4f} over {len(clips)} clips, 30 s piece "
        f"{long_detect:.4f}"
    )
    print(f"the mark's level under the speech (SNR): {min(snrs):.1f}–{max(snrs):.1f} dB")


def detection(marker: Watermarker, named: dict[str, np.ndarray], speech: list[str]) -> None:
    marked = {name: marker.apply(wav, SAMPLE_RATE) for name, wav in named.items()}
    print(
        f"\ndetection (found >= 0.8, absent < 0.2); speech: {len(speech)} recordings, whole and "
        f"in {WINDOW_SECONDS:g} s windows"
    )
    header = "| condition | audio | marked: found | marked: confidence | unmarked: absent |"
    print(header + " unmarked: confidence |")
    print("|---|---|---:|---:|---:|---:|")
    for condition, transform in CONDITIONS.items():
        groups = {"speech, whole": [], "speech, windows": [], "tone": [], "white noise": []}
        for name in named:
            plain, mark = transform(named[name]), transform(marked[name])
            if name in speech:
                groups["speech, whole"].append((plain, mark))
                groups["speech, windows"] += list(zip(windows(plain), windows(mark), strict=False))
            else:
                groups[name].append((plain, mark))
        for group, pairs in groups.items():
            if not pairs:
                continue
            yes, no = Tally(), Tally()
            for plain, mark in pairs:
                no.add(marker.confidence(plain, SAMPLE_RATE))
                yes.add(marker.confidence(mark, SAMPLE_RATE))
            print(
                f"| {condition} | {group} | {yes.share('found')} | {yes.spread()} | "
                f"{no.share('absent')} | {no.spread()} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sv2tts.bench.watermark", description=__doc__)
    parser.add_argument("recordings", nargs="+", type=Path, help="speech files (any format)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_info().describe()}; torch threads: {args.threads}")
    started = time.perf_counter()
    marker = load_watermarker()
    print(f"loaded the watermark network in {time.perf_counter() - started:.2f} s")
    speech = {path.name: decode_audio(path, max_seconds=600) for path in args.recordings}
    seconds = sum(len(w) for w in speech.values()) / SAMPLE_RATE
    print(f"{len(speech)} recordings, {seconds:.1f} s in all")
    cost(marker, list(speech.values()))
    named = {**speech, "tone": tone(), "white noise": noise()}
    detection(marker, named, list(speech))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
