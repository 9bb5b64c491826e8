"""The synthesis internals of `sv2tts.pipeline.Pipeline`: text and a voice in, a waveform out.

    text ─ sentences ─ symbol sequences ─ batches of similar length ─ Tacotron (step limit,
    trailing silent frames trimmed) ─ mels joined with short pauses ─ vocoder (WaveRNN with
    batched folding, or Griffin-Lim)

What comes after the vocoder (trailing silence trimmed, the pace, the loudness, the watermark,
the likeness, the encoding) is the finishing ladder, `sv2tts.finish`, which the CLI and the
worker run alike on what `Pipeline.speak` gave.

The sentences' mel spectrograms are joined (with a few frames of the spectrogram's floor,
which is silence, between them) before the vocoder, so that one batched WaveRNN run folds
the whole utterance into segments instead of starting a short run per sentence.

Each step is a function or a small class of its own (`length_batches`, `padded_batch`,
`joined_mels`, `decoded_mels`, the vocoders); the Pipeline runs them under
`torch.inference_mode()` on the device its models were put on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from sv2tts.audio import dsp
from sv2tts.choices import Precision, VocoderName
from sv2tts.devices import synchronize
from sv2tts.synthesizer.model import Tacotron
from sv2tts.vocoder.model import WaveRNN

log = logging.getLogger(__name__)

# Told (stage, share of that stage done) as the work goes: "synthesizer" after each length
# batch (share of the symbols decoded), "vocoder" now and then from WaveRNN's sample loop
# (share of its steps) and once at its end. For a progress display: it must be cheap.
Progress = Callable[[str, float], None]


def quiet(stage: str, done: float) -> None:
    """The progress of nobody watching."""


@dataclass(frozen=True, slots=True)
class SynthesisOptions:
    """How to run a synthesis; the defaults are for production."""

    vocoder: VocoderName | None = None  # None: the Speech's default
    max_batch: int = 8  # sentences decoded together
    max_length_ratio: float = 1.5  # longest / shortest sequence within a batch
    max_sentence_chars: int = 150
    max_steps: int | None = None  # extra cap on decoder steps per sentence
    deterministic: bool = False  # no pre-net dropout, argmax samples: the same text, same wav
    pause_seconds: float = 0.15  # between sentences
    # Samples per fold of batched WaveRNN generation, and overlap on each side; None: the
    # device's default (`wavernn_folds`).
    wavernn_target: int | None = None
    wavernn_overlap: int | None = None
    # WaveRNN's sample loop in "bfloat16" or "int8" (opt-in, CPU: faster, not the reference's
    # numbers; README, "Speed", has how much faster and how far from float32).
    wavernn_precision: Precision = "float32"
    griffin_lim_seed: int = 0


# WaveRNN's batched generation folds the utterance into segments of `target` samples with
# `overlap` samples each side and runs them as one batch, so the sequential loop is
# target + 2 * overlap steps long whatever the length. The reference's 8000/800 suits CUDA,
# where a step costs about the same for any batch (kernel launches, not arithmetic, bound
# it). On the CPU a step's cost grows with the batch, but far less than in proportion below
# some 64 rows (fixed costs: reading 12 MB of weights, ~30 operator calls, Python), so
# shorter, more numerous folds win for the few seconds of a typical reply (README, "Speed":
# `python -m sv2tts.bench` compares the settings). 200 samples of overlap (12.5 ms) is the
# floor: half of it warms the fold's recurrent state up, the other half is the cross-fade.
WAVERNN_FOLDS = {"cuda": (8000, 800), "cpu": (2000, 200)}


def wavernn_folds(options: SynthesisOptions, device: torch.device) -> tuple[int, int]:
    """(target, overlap) for batched WaveRNN on `device`: the options' where given, else
    the device's default (WAVERNN_FOLDS; other devices get the CPU's)."""
    target, overlap = WAVERNN_FOLDS.get(device.type, WAVERNN_FOLDS["cpu"])
    if options.wavernn_target is not None:
        target = options.wavernn_target
    if options.wavernn_overlap is not None:
        overlap = options.wavernn_overlap
    return target, overlap


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Seconds spent in each stage of one synthesis."""

    text: float = 0.0
    synthesizer: float = 0.0
    vocoder: float = 0.0

    @property
    def total(self) -> float:
        return self.text + self.synthesizer + self.vocoder


@dataclass(frozen=True)
class SynthesisResult:
    wav: np.ndarray  # float32 at sample_rate, as the vocoder made it (not yet finished)
    sample_rate: int
    sentences: list[str]
    mel_frames: int
    times: StageTimes = field(default_factory=StageTimes)

    @property
    def seconds(self) -> float:
        return len(self.wav) / self.sample_rate


# --- the pure steps -------------------------------------------------------------------------


def length_batches(lengths: Sequence[int], max_batch: int, max_ratio: float) -> list[list[int]]:
    """Indices of `lengths` grouped into batches of similar length, shortest first.

    A batch decodes as long as its longest member and pads the others, so members are kept
    within `max_ratio` of each other and at most `max_batch` together.
    """
    if max_batch < 1:
        raise ValueError("max_batch must be at least 1")
    batches: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        current = batches[-1] if batches else None
        if (
            current is not None
            and len(current) < max_batch
            and lengths[index] <= max_ratio * max(1, lengths[current[0]])
        ):
            current.append(index)
        else:
            batches.append([index])
    return batches


def padded_batch(sequences: Sequence[Sequence[int]]) -> np.ndarray:
    """(B, longest) int64 symbol ids, padded with 0 (the pad symbol)."""
    longest = max(len(s) for s in sequences)
    batch = np.zeros((len(sequences), longest), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        batch[row, : len(sequence)] = sequence
    return batch


def pause_frames(seconds: float, signal: dsp.SynthSignal) -> int:
    return max(0, round(seconds * signal.sample_rate / signal.hop_length))


def joined_mels(mels: Sequence[np.ndarray], pause: int, floor: float) -> np.ndarray:
    """The (n_mels, frames) mels one after another, `pause` frames of `floor` between."""
    if not mels:
        raise ValueError("no mel spectrograms to join")
    n_mels = mels[0].shape[0]
    gap = np.full((n_mels, pause), floor, dtype=np.float32)
    pieces: list[np.ndarray] = []
    for i, mel in enumerate(mels):
        if i and pause:
            pieces.append(gap)
        pieces.append(np.asarray(mel, dtype=np.float32))
    return np.concatenate(pieces, axis=1)


@contextmanager
def timed(device: torch.device, into: dict[str, float], stage: str) -> Iterator[None]:
    """Add the seconds the block takes (the device's queued work included) to into[stage]."""
    synchronize(device)
    start = time.perf_counter()
    yield
    synchronize(device)
    into[stage] = into.get(stage, 0.0) + time.perf_counter() - start


# --- vocoders -------------------------------------------------------------------------------


class Vocoder(Protocol):
    def __call__(
        self, mel: np.ndarray, options: SynthesisOptions, progress: Progress = quiet
    ) -> np.ndarray:
        """The float32 waveform of one (n_mels, frames) mel spectrogram in [-4, 4]."""
        ...


@dataclass(frozen=True)
class GriffinLimVocoder:
    """Phase reconstruction from the mel spectrogram alone: no weights, fast, buzzy."""

    signal: dsp.SynthSignal

    def __call__(
        self, mel: np.ndarray, options: SynthesisOptions, progress: Progress = quiet
    ) -> np.ndarray:
        wav = dsp.griffin_lim(mel, self.signal, seed=options.griffin_lim_seed)
        progress("vocoder", 1.0)
        return wav


@dataclass(frozen=True)
class WaveRNNVocoder:
    """WaveRNN on `device`, folded as `wavernn_folds` says for that device."""

    model: WaveRNN
    device: torch.device
    signal: dsp.SynthSignal

    def __call__(
        self, mel: np.ndarray, options: SynthesisOptions, progress: Progress = quiet
    ) -> np.ndarray:
        scaled = torch.from_numpy(mel / self.signal.max_abs_value).to(self.device)
        target, overlap = wavernn_folds(options, self.device)
        wav = self.model.generate(
            scaled,
            target=target,
            overlap=overlap,
            deterministic=options.deterministic,
            precision=options.wavernn_precision,
            progress=lambda done: progress("vocoder", done),
        )
        progress("vocoder", 1.0)
        return wav


def decoded_mels(
    synthesizer: Tacotron,
    sequences: Sequence[Sequence[int]],
    speaker: np.ndarray,
    options: SynthesisOptions,
    progress: Progress = quiet,
) -> list[np.ndarray]:
    """One (n_mels, frames) mel per sequence, in order, decoded in length batches on the
    synthesizer's device."""
    device = next(synthesizer.parameters()).device
    mels: list[np.ndarray | None] = [None] * len(sequences)
    lengths = [len(s) for s in sequences]
    total, done = max(1, sum(lengths)), 0
    for batch in length_batches(lengths, options.max_batch, options.max_length_ratio):
        chars = torch.from_numpy(padded_batch([sequences[i] for i in batch])).to(device)
        speakers = torch.from_numpy(np.tile(speaker, (len(batch), 1))).to(device)
        out = synthesizer.generate(
            chars, speakers, max_steps=options.max_steps, deterministic=options.deterministic
        )
        found = out.mels.float().cpu().numpy()
        for row, index in enumerate(batch):
            length = max(1, int(out.lengths[row]))
            mels[index] = found[row, :, :length]
        done += sum(lengths[i] for i in batch)
        progress("synthesizer", done / total)
    return [m for m in mels if m is not None]
