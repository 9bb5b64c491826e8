"""The SV2TTS pipeline: voices and speech, loaded once, behind one object.

    pipeline = Pipeline.load("pretrained", device="auto", vocoder="wavernn")
    voice = pipeline.embed(wav, 16000)                 # Voice: 256 floats + measurements
    wav = pipeline.synthesize("Hello there.", voice)   # float32, 16 kHz

A facade only: `pipeline.voices` (sv2tts.encoder.voices.VoiceEncoder) makes voices from samples,
`pipeline.speech` (sv2tts.speech.Speech) speaks text, and sv2tts.loading loads both. Use
those directly for one half alone (e.g. `load_voice_encoder` where only voices are made).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sv2tts.audio.recording import RecordingLimits
from sv2tts.choices import VocoderName
from sv2tts.devices import configure_cpu_threads
from sv2tts.embedding import Vector
from sv2tts.encoder.voices import Voice, VoiceEncoder
from sv2tts.loading import load_speech, load_voice_encoder
from sv2tts.speech import Progress, Speech, SynthesisOptions, SynthesisResult
from sv2tts.weights.manifest import Manifest, read_manifest, resolve_weights

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pipeline:
    """A resident voice encoder and speech synthesizer, on one device."""

    voices: VoiceEncoder
    speech: Speech

    @classmethod
    def load(
        cls,
        weights_dir: Path | str = "pretrained",
        *,
        device: str = "auto",
        vocoder: VocoderName = "wavernn",
        manifest: Manifest | None = None,
        threads: int | None = None,
    ) -> Pipeline:
        """Check and load the weights in `weights_dir` onto `device`.

        Every file is checked before any is read (WeightsError names the missing or corrupt
        one and the command that fixes it). With vocoder="griffinlim" no vocoder.pt is
        needed. `threads`: set PyTorch's CPU threads for the whole process
        (`configure_cpu_threads`); None leaves them alone.
        """
        if threads is not None:
            configure_cpu_threads(threads)
        manifest = manifest or read_manifest()
        for name in ("encoder", "synthesizer", *(("vocoder",) if vocoder == "wavernn" else ())):
            resolve_weights(weights_dir, name, manifest)
        pipeline = cls(
            voices=load_voice_encoder(weights_dir, device=device, manifest=manifest),
            speech=load_speech(weights_dir, device=device, vocoder=vocoder, manifest=manifest),
        )
        log.info("pipeline ready: %s", json.dumps(pipeline.describe()))
        return pipeline

    @property
    def device(self) -> torch.device:
        return self.speech.device

    @property
    def sample_rate(self) -> int:
        """Of the waveforms `synthesize` returns."""
        return self.speech.sample_rate

    @property
    def encoder_id(self) -> str:
        return self.voices.encoder_id

    def describe(self) -> dict[str, Any]:
        """What is loaded, for logs and health reports (JSON-ready)."""
        speech = self.speech.describe()
        files = {**self.voices.weights.get("files", {}), **speech.get("files", {})}
        return {
            "device": str(self.device),
            "vocoder": self.speech.default_vocoder,
            "encoder_id": self.encoder_id,
            "files": files,
        }

    def embed(
        self,
        wav: np.ndarray,
        sample_rate: int = 16000,
        *,
        limits: RecordingLimits | None = RecordingLimits(),
    ) -> Voice:
        """`VoiceEncoder.embed`: the voice of mono samples at `sample_rate`."""
        return self.voices.embed(wav, sample_rate, limits=limits)

    def likeness(self, wav: np.ndarray, voice: Vector) -> float:
        """`VoiceEncoder.likeness` of a waveform at `sample_rate` (what `synthesize` gave)."""
        return self.voices.likeness(wav, self.sample_rate, voice)

    def synthesize(
        self,
        text: str | Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress | None = None,
    ) -> np.ndarray:
        """`Speech.synthesize`: float32 samples at `sample_rate`; `progress` told how far."""
        if progress is None:
            return self.speech.synthesize(text, voice, options)
        return self.speech.synthesize(text, voice, options, progress)

    def synthesize_detailed(
        self,
        text: str | Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
    ) -> SynthesisResult:
        """`Speech.synthesize_detailed`: the waveform, sentences, mel length, stage times."""
        return self.speech.synthesize_detailed(text, voice, options)

    def synthesize_lines(
        self,
        texts: Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress | None = None,
    ) -> list[np.ndarray]:
        """`Speech.synthesize_lines`: one waveform per text, the texts made together."""
        if progress is None:
            return self.speech.synthesize_lines(texts, voice, options)
        return self.speech.synthesize_lines(texts, voice, options, progress)
