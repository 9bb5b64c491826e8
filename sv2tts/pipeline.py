"""The SV2TTS pipeline: load the three models once, then embed voices and speak text.

    pipeline = Pipeline.load("pretrained", device="auto", vocoder="wavernn")
    voice = pipeline.embed(wav, 16000)           # Embedding: 256 floats + measurements
    wav = pipeline.synthesize("Hello there.", voice)   # float32, 16 kHz

Loading (files, checks, devices) is kept apart from running, and running is a chain of small
functions over NumPy arrays, each usable on its own:

    text ─ sentences ─ symbol sequences ─ batches of similar length ─ Tacotron (step limit,
    trailing silent frames trimmed) ─ mels joined with short pauses ─ vocoder (WaveRNN with
    batched folding, or Griffin-Lim) ─ trailing silence trimmed ─ loudness normalised

The sentences' mel spectrograms are joined (with a few frames of the spectrogram's floor,
which is silence, between them) before the vocoder, so that one batched WaveRNN run folds
the whole utterance into segments instead of starting a short run per sentence.

Everything runs under `torch.inference_mode()` on the device chosen once at load ("auto":
CUDA when available). Models stay resident.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from sv2tts import audio, dsp
from sv2tts.encoder import EncoderConfig, SpeakerEncoder, load_encoder
from sv2tts.synthesizer import SynthesizerConfig, Tacotron, config_from_dict, load_synthesizer
from sv2tts.text import TextFrontend, default_text_frontend, load_text_frontend
from sv2tts.vocoder import Precision, VocoderConfig, WaveRNN, load_vocoder
from sv2tts.weights import Manifest, ResolvedWeights, read_manifest, resolve_weights

log = logging.getLogger(__name__)

VocoderName = Literal["wavernn", "griffinlim"]
VOCODERS: tuple[VocoderName, ...] = ("wavernn", "griffinlim")
DEVICES = ("auto", "cpu", "cuda")
SAMPLE_RATE = 16000
EMBEDDING_SIZE = 256
RECORDING_ERROR_CODES = ("too_short", "silent", "clipped")


class PipelineError(ValueError):
    """Input the pipeline cannot use; `code` is one of worker.api.ERROR_CODES."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class RecordingError(PipelineError):
    """A recording that cannot give a usable voice: "too_short", "silent" or "clipped"."""


class NothingToSay(PipelineError):
    def __init__(self, detail: str = "") -> None:
        super().__init__("nothing_to_say", detail)


# --- devices --------------------------------------------------------------------------------


def choose_device(name: str = "auto") -> torch.device:
    """ "auto": CUDA when PyTorch sees a GPU, else the CPU; "cuda" without one is an error."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def configure_cpu_threads(threads: int) -> None:
    """Let PyTorch's CPU operators use `threads` threads (torch.set_num_threads); call it
    once at start-up, before the models run. It changes process-wide state, which is why
    the library never calls it unless asked (`Pipeline.load(threads=...)`).

    The sample loop of WaveRNN multiplies small matrices thousands of times a second, and
    OpenMP's threads spin between them. Measured on 2 cores (WaveRNN, 4.5 s of speech,
    2000/200 folds): idle machine, 2 threads RTF 1.06-1.13 against 1.9-2.0 with 1; with the
    other core busy, 2 threads RTF 4.45, 1 thread 2.02, 2 threads with OMP_WAIT_POLICY=PASSIVE
    1.84 (but 1.55-1.66 on the idle machine). So: as many threads as cores when one worker
    process has the machine to itself, 1 per process when several share it. OpenMP reads
    OMP_WAIT_POLICY when the process starts, so it belongs in the launcher's environment.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
        log.info("torch CPU threads: %d", threads)


# --- voices ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingLimits:
    """What a recording must measure to give a usable voice."""

    min_speech_seconds: float = 2.0
    silent_dbfs: float = -55.0  # speech quieter than this is taken for silence or hum
    max_clipped_fraction: float = 0.01  # more samples at full scale: heavy clipping


def recording_problem(stats: dsp.RecordingStats, limits: RecordingLimits) -> RecordingError | None:
    """Why a recording that measured `stats` is unusable, or None. Silence is reported
    before clipping, clipping before shortness: the first is what the user must fix."""
    if stats.speech_seconds <= 0 or stats.level_dbfs < limits.silent_dbfs:
        return RecordingError(
            "silent",
            f"{stats.speech_seconds:.2f} s of speech at {stats.level_dbfs:.1f} dBFS",
        )
    if stats.clipped_fraction > limits.max_clipped_fraction:
        return RecordingError(
            "clipped", f"{stats.clipped_fraction:.1%} of the samples are at full scale"
        )
    if stats.speech_seconds < limits.min_speech_seconds:
        return RecordingError(
            "too_short",
            f"{stats.speech_seconds:.2f} s of speech, at least "
            f"{limits.min_speech_seconds:g} s are needed",
        )
    return None


@dataclass(frozen=True, slots=True)
class Embedding:
    """A voice: the speaker encoder's unit vector and what its recording measured.

    `np.asarray(embedding)` is the vector, so an Embedding goes wherever one is expected.
    """

    vector: np.ndarray  # (256,) float32, L2-normalised
    encoder_id: str  # sha256 prefix of the encoder weights that made it
    speech_seconds: float
    total_seconds: float
    level_dbfs: float
    clipped_fraction: float

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.vector if dtype is None else self.vector.astype(dtype)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the vector as a list of floats."""
        data = asdict(self)
        data["vector"] = [float(x) for x in self.vector]
        return data


def speaker_vector(embedding: Embedding | np.ndarray | Sequence[float]) -> np.ndarray:
    """A (256,) float32 unit vector from an Embedding, an array or a list of floats."""
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if vector.shape != (EMBEDDING_SIZE,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"a speaker embedding is {EMBEDDING_SIZE} finite floats")
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise ValueError("a speaker embedding cannot be all zeros")
    return vector / norm


# --- synthesis, as pure steps ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SynthesisOptions:
    """How to run a synthesis; the defaults are for production."""

    vocoder: VocoderName | None = None  # None: the one the pipeline was loaded with
    max_batch: int = 8  # sentences decoded together
    max_length_ratio: float = 1.5  # longest / shortest sequence within a batch
    max_sentence_chars: int = 150
    max_steps: int | None = None  # extra cap on decoder steps per sentence
    # Decode exactly this many frames per input symbol, ignoring stop tokens (benchmarks with
    # random weights, whose stop tokens mean nothing).
    force_frames_per_symbol: float | None = None
    deterministic: bool = False  # no pre-net dropout: the same text gives the same mel
    pause_seconds: float = 0.15  # between sentences
    # Samples per fold of batched WaveRNN generation, and overlap on each side; None: the
    # device's default (`wavernn_folds`).
    wavernn_target: int | None = None
    wavernn_overlap: int | None = None
    # "bfloat16": WaveRNN's sample loop multiplies in bfloat16 (opt-in; faster on CPUs with
    # AVX512-BF16, not the reference's numbers).
    wavernn_precision: Precision = "float32"
    loudness_dbfs: float = -20.0
    griffin_lim_seed: int = 0


# WaveRNN's batched generation folds the utterance into segments of `target` samples with
# `overlap` samples each side and runs them as one batch, so the sequential loop is
# target + 2 * overlap steps long whatever the length. The reference's 8000/800 suits CUDA,
# where a step costs about the same for any batch (kernel launches, not arithmetic, bound it).
# On the CPU a step's cost grows with the batch, but far less than in proportion below some
# 64 rows (fixed costs: reading 12 MB of weights, ~30 operator calls, Python), so shorter,
# more numerous folds win for the few seconds of a typical reply: measured on a 2-core AMD
# EPYC (Zen 4), one thread, full-size weights (`python -m sv2tts.bench`), 2000/200 took the
# vocoder from RTF 2.75 to 1.92 for 4.5 s of speech and from 2.32 to 1.71 for 14 s; 4000/400
# gave 2.13 and 1.91, 1000/200 no more than 2000/200 (1.94, 1.75: it pays more overlap).
# 200 samples of overlap (12.5 ms) is the floor: half of it warms the fold's recurrent state
# up, the other half is the cross-fade.
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


def finished_wav(wav: np.ndarray, sample_rate: int, loudness_dbfs: float) -> np.ndarray:
    """Trailing silence cut and loudness normalised: what the listener gets."""
    wav = dsp.trim_trailing_silence(wav, sample_rate)
    return dsp.normalize_loudness(wav, loudness_dbfs)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextmanager
def _timed(device: torch.device, into: dict[str, float], stage: str) -> Iterator[None]:
    _sync(device)
    start = time.perf_counter()
    yield
    _sync(device)
    into[stage] = into.get(stage, 0.0) + time.perf_counter() - start


# --- the facade -----------------------------------------------------------------------------


def _read_sidecar(resolved: ResolvedWeights) -> dict[str, Any]:
    if resolved.sidecar is None:
        return {}
    data = json.loads(resolved.sidecar.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{resolved.sidecar}: a sidecar config must be a JSON object")
    return data


class Pipeline:
    """Resident models and the text front end, on one device."""

    def __init__(
        self,
        *,
        device: torch.device,
        synthesizer: Tacotron | None = None,
        frontend: TextFrontend | None = None,
        encoder: SpeakerEncoder | None = None,
        vocoder: WaveRNN | None = None,
        default_vocoder: VocoderName = "wavernn",
        encoder_id: str = "",
        weights: dict[str, dict[str, Any]] | None = None,
        signal: dsp.SynthSignal | None = None,
    ) -> None:
        self.synthesizer = synthesizer.to(device).eval() if synthesizer is not None else None
        self.encoder = encoder.to(device).eval() if encoder is not None else None
        self.vocoder = vocoder.to(device).eval() if vocoder is not None else None
        self.frontend = frontend or default_text_frontend()
        self.device = device
        self.default_vocoder: VocoderName = default_vocoder
        self.encoder_id = encoder_id
        self.signal = signal or dsp.SynthSignal()
        self._weights = weights or {}

    @property
    def sample_rate(self) -> int:
        return self.signal.sample_rate

    @classmethod
    def load(
        cls,
        weights_dir: Path | str = "pretrained",
        *,
        device: str = "auto",
        vocoder: VocoderName = "wavernn",
        manifest: Manifest | None = None,
        encoder_only: bool = False,
        threads: int | None = None,
    ) -> Pipeline:
        """Check and load the weights in `weights_dir` onto `device`.

        Raises WeightsError (missing or corrupt file, with the command that fixes it) before
        anything is unpickled. With vocoder="griffinlim" no vocoder.pt is needed; with
        `encoder_only` (voices, no speech) only the encoder is read. `threads`: set
        PyTorch's CPU threads for the whole process (`configure_cpu_threads`); None leaves
        them alone.
        """
        if vocoder not in VOCODERS:
            raise ValueError(f"vocoder must be one of {', '.join(VOCODERS)}, not {vocoder!r}")
        target = choose_device(device)
        if threads is not None:
            configure_cpu_threads(threads)
        manifest = manifest or read_manifest()
        names = ["encoder"]
        if not encoder_only:
            names += ["synthesizer"] + (["vocoder"] if vocoder == "wavernn" else [])
        resolved = {name: resolve_weights(weights_dir, name, manifest) for name in names}

        enc = resolved["encoder"]
        encoder = load_encoder(
            enc.path, config_from_dict(EncoderConfig, _read_sidecar(enc), "encoder")
        )
        if encoder_only:
            return cls(
                device=target,
                encoder=encoder,
                default_vocoder=vocoder,
                encoder_id=enc.short_id,
                weights={"encoder": _describe_weights(enc)},
            )
        syn = resolved["synthesizer"]
        synthesizer = load_synthesizer(syn.path, SynthesizerConfig.from_dict(_read_sidecar(syn)))
        frontend = load_text_frontend(syn.sidecar) if syn.sidecar else default_text_frontend()
        if frontend.num_symbols != synthesizer.config.num_chars:
            raise ValueError(
                f"{syn.path}: the text front end has {frontend.num_symbols} symbols, the "
                f"synthesizer's embedding {synthesizer.config.num_chars} rows"
            )
        wavernn = None
        if vocoder == "wavernn":
            voc = resolved["vocoder"]
            wavernn = load_vocoder(voc.path, VocoderConfig.from_dict(_read_sidecar(voc)))
        pipeline = cls(
            synthesizer=synthesizer,
            frontend=frontend,
            device=target,
            encoder=encoder,
            vocoder=wavernn,
            default_vocoder=vocoder,
            encoder_id=enc.short_id,
            weights={name: _describe_weights(r) for name, r in resolved.items()},
        )
        log.info("pipeline ready on %s: %s", target, json.dumps(pipeline.describe()))
        return pipeline

    def describe(self) -> dict[str, Any]:
        """What is loaded, for logs and health reports (JSON-ready)."""
        return {
            "device": str(self.device),
            "vocoder": self.default_vocoder,
            "encoder_id": self.encoder_id,
            "files": self._weights,
        }

    # --- voices -----------------------------------------------------------------------------

    def embed(
        self,
        recording: np.ndarray | bytes | Path | str,
        sample_rate: int = SAMPLE_RATE,
        *,
        limits: RecordingLimits | None = RecordingLimits(),
        max_bytes: int = audio.DEFAULT_MAX_BYTES,
        max_seconds: float = audio.DEFAULT_MAX_SECONDS,
        decode_timeout: float = audio.DEFAULT_TIMEOUT,
    ) -> Embedding:
        """The voice of a recording: samples at `sample_rate`, or encoded audio (bytes or a
        path) decoded under the byte, duration and time limits.

        Raises RecordingError ("silent", "clipped", "too_short") when the recording fails
        `limits` (None: no check), audio.AudioError when it cannot be decoded.
        """
        if self.encoder is None:
            raise RuntimeError("this pipeline was built without a speaker encoder")
        if isinstance(recording, np.ndarray):
            wav = dsp.as_float32_mono(recording)
        else:
            wav = audio.decode_audio(
                recording, max_bytes=max_bytes, max_seconds=max_seconds, timeout=decode_timeout
            )
            sample_rate = audio.SAMPLE_RATE
        stats = dsp.measure_recording(wav, sample_rate, self.encoder.config.signal)
        problem = recording_problem(stats, limits) if limits is not None else None
        if problem is not None:
            raise problem
        speech = dsp.preprocess_wav(wav, sample_rate, self.encoder.config.signal)
        if speech.size == 0:
            raise RecordingError("silent", "no speech found")
        with torch.inference_mode():
            vector, _ = self.encoder.embed_utterance(speech)
        return Embedding(
            vector=vector,
            encoder_id=self.encoder_id,
            speech_seconds=stats.speech_seconds,
            total_seconds=stats.total_seconds,
            level_dbfs=stats.level_dbfs,
            clipped_fraction=stats.clipped_fraction,
        )

    # --- speech -----------------------------------------------------------------------------

    def synthesize(
        self,
        text: str | Sequence[str],
        embedding: Embedding | np.ndarray | Sequence[float],
        options: SynthesisOptions = SynthesisOptions(),
    ) -> np.ndarray:
        """Speech of `text` (one string, or several spoken one after another) in the voice
        of `embedding`: float32 samples at `sample_rate`. NothingToSay when there is no
        speakable text."""
        return self.synthesize_detailed(text, embedding, options).wav

    def synthesize_detailed(
        self,
        text: str | Sequence[str],
        embedding: Embedding | np.ndarray | Sequence[float],
        options: SynthesisOptions = SynthesisOptions(),
    ) -> SynthesisResult:
        """`synthesize`, with the sentences, the mel length and the time of each stage."""
        vocoder = options.vocoder or self.default_vocoder
        if self.synthesizer is None:
            raise RuntimeError("this pipeline was loaded for voices only (no synthesizer)")
        if vocoder == "wavernn" and self.vocoder is None:
            raise ValueError("this pipeline was loaded without the WaveRNN vocoder")
        speaker = speaker_vector(embedding)
        times: dict[str, float] = {}
        with torch.inference_mode():
            with _timed(self.device, times, "text"):
                sentences = self.sentences(text, options.max_sentence_chars)
                sequences = [self.frontend.symbols.encode(s) for s in sentences]
            with _timed(self.device, times, "synthesizer"):
                mels = self.sentence_mels(sequences, speaker, options)
            with _timed(self.device, times, "vocoder"):
                mel = joined_mels(
                    mels,
                    pause_frames(options.pause_seconds, self.signal),
                    -self.signal.max_abs_value,
                )
                wav = self.vocode(mel, vocoder, options)
            with _timed(self.device, times, "finish"):
                wav = finished_wav(wav, self.sample_rate, options.loudness_dbfs)
        return SynthesisResult(
            wav=wav,
            sample_rate=self.sample_rate,
            sentences=sentences,
            mel_frames=mel.shape[1],
            times=StageTimes(**times),
        )

    def sentences(self, text: str | Sequence[str], max_chars: int) -> list[str]:
        """The cleaned, speakable sentences of `text`; NothingToSay if there are none."""
        texts = [text] if isinstance(text, str) else list(text)
        sentences = [s for t in texts for s in self.frontend.sentences(t, max_chars)]
        if not sentences:
            raise NothingToSay("no speakable text")
        return sentences

    def sentence_mels(
        self, sequences: Sequence[Sequence[int]], speaker: np.ndarray, options: SynthesisOptions
    ) -> list[np.ndarray]:
        """One (n_mels, frames) mel per sequence, in order, decoded in length batches."""
        assert self.synthesizer is not None
        mels: list[np.ndarray | None] = [None] * len(sequences)
        lengths = [len(s) for s in sequences]
        r = self.synthesizer.reduction_factor
        for batch in length_batches(lengths, options.max_batch, options.max_length_ratio):
            chars = torch.from_numpy(padded_batch([sequences[i] for i in batch])).to(self.device)
            speakers = torch.from_numpy(np.tile(speaker, (len(batch), 1))).to(self.device)
            force = None
            if options.force_frames_per_symbol is not None:
                frames = options.force_frames_per_symbol * max(lengths[i] for i in batch)
                force = max(1, math.ceil(frames / r))
            out = self.synthesizer.generate(
                chars,
                speakers,
                max_steps=options.max_steps,
                force_steps=force,
                deterministic=options.deterministic,
            )
            found = out.mels.float().cpu().numpy()
            for row, index in enumerate(batch):
                length = max(1, int(out.lengths[row]))
                mels[index] = found[row, :, :length]
        return [m for m in mels if m is not None]

    def vocode(
        self, mel: np.ndarray, vocoder: VocoderName, options: SynthesisOptions
    ) -> np.ndarray:
        """The waveform of one (n_mels, frames) mel spectrogram in [-4, 4]."""
        if vocoder == "griffinlim":
            return dsp.griffin_lim(mel, self.signal, seed=options.griffin_lim_seed)
        assert self.vocoder is not None
        scaled = torch.from_numpy(mel / self.signal.max_abs_value).to(self.device)
        target, overlap = wavernn_folds(options, self.device)
        return self.vocoder.generate(
            scaled,
            target=target,
            overlap=overlap,
            deterministic=options.deterministic,
            precision=options.wavernn_precision,
        )


def _describe_weights(resolved: ResolvedWeights) -> dict[str, Any]:
    return {
        "file": str(resolved.path),
        "sha256": resolved.sha256[:16],
        "official": resolved.official,
        **({"config": str(resolved.sidecar)} if resolved.sidecar else {}),
    }
