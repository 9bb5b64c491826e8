"""Speech: text and a speaker embedding in, a waveform out, as a ladder of small steps.

    speech = load_speech("pretrained", device="auto")      # sv2tts.loading
    result = speech.synthesize_detailed("Hello there.", voice)
    result.wav                                             # float32 at speech.sample_rate

    text ─ sentences ─ symbol sequences ─ batches of similar length ─ Tacotron (step limit,
    trailing silent frames trimmed) ─ mels joined with short pauses ─ vocoder (WaveRNN with
    batched folding, or Griffin-Lim) ─ trailing silence trimmed ─ loudness normalised
    ─ tempo changed (when asked, pitch kept)

The sentences' mel spectrograms are joined (with a few frames of the spectrogram's floor,
which is silence, between them) before the vocoder, so that one batched WaveRNN run folds
the whole utterance into segments instead of starting a short run per sentence.

Each step is a function or method of its own (`length_batches`, `padded_batch`,
`joined_mels`, `finished_wav`, `Speech.sentences`, `Speech.sentence_mels`, `Speech.vocode`).
Everything runs under `torch.inference_mode()` on the device the models were put on; the
models stay resident.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from sv2tts.audio import codec, dsp
from sv2tts.choices import VOCODERS, Precision, VocoderName
from sv2tts.devices import synchronize
from sv2tts.embedding import Vector, speaker_vector
from sv2tts.errors import NothingToSay
from sv2tts.synthesizer.model import Tacotron
from sv2tts.text import TextFrontend
from sv2tts.vocoder.model import WaveRNN

log = logging.getLogger(__name__)

# Told (stage, share of that stage done) as the work goes: "synthesizer" after each length
# batch (share of the symbols decoded), "vocoder" now and then from WaveRNN's sample loop
# (share of its steps) and once at its end. For a progress display: it must be cheap.
Progress = Callable[[str, float], None]


def _quiet(stage: str, done: float) -> None:
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
    loudness_dbfs: float = -20.0
    griffin_lim_seed: int = 0
    # Tempo of the finished speech, pitch kept (`codec.change_tempo`, 0.75..1.5): 1.25 is a
    # quarter faster.
    pace: float = 1.0

    def __post_init__(self) -> None:
        low, high = codec.TEMPO_RANGE
        if not low <= self.pace <= high:
            raise ValueError(f"pace must be within {low:g}..{high:g}, not {self.pace:g}")


# WaveRNN's batched generation folds the utterance into segments of `target` samples with
# `overlap` samples each side and runs them as one batch, so the sequential loop is
# target + 2 * overlap steps long whatever the length. The reference's 8000/800 suits CUDA,
# where a step costs about the same for any batch (kernel launches, not arithmetic, bound
# it). On the CPU a step's cost grows with the batch, but far less than in proportion below
# some 64 rows (fixed costs: reading 12 MB of weights, ~30 operator calls, Python), so
# shorter, more numerous folds win for the few seconds of a typical reply (README, "Speed":
# `python -m sv2tts.bench.speech` compares the settings). 200 samples of overlap (12.5 ms) is the
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
    finish: float = 0.0

    @property
    def total(self) -> float:
        return self.text + self.synthesizer + self.vocoder + self.finish


@dataclass(frozen=True)
class SynthesisResult:
    wav: np.ndarray  # float32 at sample_rate
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


def finished_wav(
    wav: np.ndarray, sample_rate: int, loudness_dbfs: float, pace: float = 1.0
) -> np.ndarray:
    """Trailing silence cut, tempo changed by `pace`, loudness normalised (last, so that
    the peaks stay under its limit): what the listener gets."""
    wav = dsp.trim_trailing_silence(wav, sample_rate)
    if pace != 1.0:
        wav = codec.change_tempo(wav, sample_rate, pace)
    return dsp.normalize_loudness(wav, loudness_dbfs)


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
        self, mel: np.ndarray, options: SynthesisOptions, progress: Progress = _quiet
    ) -> np.ndarray:
        """The float32 waveform of one (n_mels, frames) mel spectrogram in [-4, 4]."""
        ...


@dataclass(frozen=True)
class GriffinLimVocoder:
    """Phase reconstruction from the mel spectrogram alone: no weights, fast, buzzy."""

    signal: dsp.SynthSignal

    def __call__(
        self, mel: np.ndarray, options: SynthesisOptions, progress: Progress = _quiet
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
        self, mel: np.ndarray, options: SynthesisOptions, progress: Progress = _quiet
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


# --- the speaker of text --------------------------------------------------------------------


class Speech:
    """A resident Tacotron, its text front end and the vocoders, on one device."""

    def __init__(
        self,
        *,
        synthesizer: Tacotron,
        frontend: TextFrontend,
        device: torch.device,
        wavernn: WaveRNN | None,
        default_vocoder: VocoderName = "wavernn",
        signal: dsp.SynthSignal = dsp.SynthSignal(),
        weights: Mapping[str, Any] | None = None,
    ) -> None:
        """`wavernn` None: Griffin-Lim only. `weights`: what the models were loaded from
        (for `describe`)."""
        if default_vocoder not in VOCODERS:
            raise ValueError(
                f"vocoder must be one of {', '.join(VOCODERS)}, not {default_vocoder!r}"
            )
        self.synthesizer = synthesizer.to(device).eval()
        self.frontend = frontend
        self.device = device
        self.signal = signal
        self.vocoders: dict[VocoderName, Vocoder] = {"griffinlim": GriffinLimVocoder(signal)}
        if wavernn is not None:
            self.vocoders["wavernn"] = WaveRNNVocoder(wavernn.to(device).eval(), device, signal)
        if default_vocoder not in self.vocoders:
            raise ValueError("a WaveRNN default needs the WaveRNN model")
        self.default_vocoder: VocoderName = default_vocoder
        self.weights = dict(weights or {})

    @property
    def sample_rate(self) -> int:
        return self.signal.sample_rate

    def describe(self) -> dict[str, Any]:
        """What is loaded, for logs and health reports (JSON-ready)."""
        return {"device": str(self.device), "vocoder": self.default_vocoder, **self.weights}

    def synthesize(
        self,
        text: str | Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress = _quiet,
    ) -> np.ndarray:
        """Speech of `text` (one string, or several spoken one after another) in the voice
        of `voice` (a `Voice` or its vector): float32 samples at `sample_rate`.
        NothingToSay when there is no speakable text. `progress` is told how far it is."""
        return self.synthesize_detailed(text, voice, options, progress).wav

    def synthesize_detailed(
        self,
        text: str | Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress = _quiet,
    ) -> SynthesisResult:
        """`synthesize`, with the sentences, the mel length and the time of each stage."""
        vocoder = self.vocoder(options)
        speaker = speaker_vector(voice)
        times: dict[str, float] = {}
        with torch.inference_mode():
            with timed(self.device, times, "text"):
                sentences = self.sentences(text, options.max_sentence_chars)
                sequences = [self.frontend.symbols.encode(s) for s in sentences]
            with timed(self.device, times, "synthesizer"):
                mels = self.sentence_mels(sequences, speaker, options, progress)
            with timed(self.device, times, "vocoder"):
                mel = joined_mels(
                    mels,
                    pause_frames(options.pause_seconds, self.signal),
                    -self.signal.max_abs_value,
                )
                wav = vocoder(mel, options, progress)
            with timed(self.device, times, "finish"):
                wav = finished_wav(wav, self.sample_rate, options.loudness_dbfs, options.pace)
        return SynthesisResult(
            wav=wav,
            sample_rate=self.sample_rate,
            sentences=sentences,
            mel_frames=mel.shape[1],
            times=StageTimes(**times),
        )

    def synthesize_lines(
        self,
        texts: Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress = _quiet,
    ) -> list[np.ndarray]:
        """Each of `texts` as a waveform of its own, all in the voice of `voice`, made together
        (a dialogue's lines of one speaker): the sentences of every text decoded in length
        batches as one long text's are, and one vocoder run over their mels, joined with
        `pause_seconds` between sentences and twice that between texts. The waveform is cut in
        the middle of each longer pause and each piece finished on its own (so every line has
        the same loudness). A text with nothing speakable gives an empty waveform;
        NothingToSay when none has anything."""
        vocoder = self.vocoder(options)
        speaker = speaker_vector(voice)
        per_text = [self.frontend.sentences(t, options.max_sentence_chars) for t in texts]
        if not any(per_text):
            raise NothingToSay("no speakable text")
        pause = pause_frames(options.pause_seconds, self.signal)
        gap = max(2, 2 * pause)
        floor = -self.signal.max_abs_value
        with torch.inference_mode():
            sequences = [self.frontend.symbols.encode(s) for ss in per_text for s in ss]
            mels = iter(self.sentence_mels(sequences, speaker, options, progress))
            spoken = [joined_mels([next(mels) for _ in ss], pause, floor) for ss in per_text if ss]
            wav = vocoder(joined_mels(spoken, gap, floor), options, progress)
        # Text k's mel ends `gap` frames before text k+1's begins; cut in the middle of that.
        cuts, end = [], 0
        for mel in spoken[:-1]:
            end += mel.shape[1]
            cuts.append((end + gap // 2) * self.signal.hop_length)
            end += gap
        pieces = iter(np.split(wav, [min(c, len(wav)) for c in cuts]))
        empty = np.zeros(0, dtype=np.float32)
        return [
            finished_wav(next(pieces), self.sample_rate, options.loudness_dbfs, options.pace)
            if ss
            else empty
            for ss in per_text
        ]

    def vocoder(self, options: SynthesisOptions) -> Vocoder:
        """The vocoder `options` ask for (or the default); ValueError if it is not loaded."""
        name = options.vocoder or self.default_vocoder
        if name not in self.vocoders:
            raise ValueError(f"this Speech was loaded without the WaveRNN vocoder ({name!r})")
        return self.vocoders[name]

    def sentences(self, text: str | Sequence[str], max_chars: int) -> list[str]:
        """The cleaned, speakable sentences of `text`; NothingToSay if there are none."""
        texts = [text] if isinstance(text, str) else list(text)
        sentences = [s for t in texts for s in self.frontend.sentences(t, max_chars)]
        if not sentences:
            raise NothingToSay("no speakable text")
        return sentences

    def sentence_mels(
        self,
        sequences: Sequence[Sequence[int]],
        speaker: np.ndarray,
        options: SynthesisOptions,
        progress: Progress = _quiet,
    ) -> list[np.ndarray]:
        """One (n_mels, frames) mel per sequence, in order, decoded in length batches."""
        mels: list[np.ndarray | None] = [None] * len(sequences)
        lengths = [len(s) for s in sequences]
        total, done = max(1, sum(lengths)), 0
        for batch in length_batches(lengths, options.max_batch, options.max_length_ratio):
            chars = torch.from_numpy(padded_batch([sequences[i] for i in batch])).to(self.device)
            speakers = torch.from_numpy(np.tile(speaker, (len(batch), 1))).to(self.device)
            out = self.synthesizer.generate(
                chars, speakers, max_steps=options.max_steps, deterministic=options.deterministic
            )
            found = out.mels.float().cpu().numpy()
            for row, index in enumerate(batch):
                length = max(1, int(out.lengths[row]))
                mels[index] = found[row, :, :length]
            done += sum(lengths[i] for i in batch)
            progress("synthesizer", done / total)
        return [m for m in mels if m is not None]
