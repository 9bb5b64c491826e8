"""The SV2TTS pipeline: one loaded object that makes voices and speaks in them.

    pipeline = Pipeline.load("pretrained", device="auto", vocoder="wavernn")
    voice = pipeline.embed(wav, 16000)               # Voice: 256 floats + measurements
    wav = pipeline.speak("Hello there.", voice)      # float32 at pipeline.sample_rate
    note = finish(wav, pipeline.sample_rate, Finishing(pace=1.25))   # sv2tts.finish

Loaded once per process (weights checked first, then read: sv2tts.loading) and then called,
as a Piper voice is: `embed` a recording, `speak` a text, `speak_lines` a dialogue's lines of
one voice together, `likeness` of a waveform to a voice. A voice may be a `Voice`, a numpy
vector or a list of floats (a job's JSON): the pipeline turns it into its vector itself.
`speak` gives the waveform as the vocoder made it; the finishing ladder (sv2tts/finish.py:
trim, pace, loudness, watermark, likeness, encode) makes it what a listener gets. The worker
uses a Pipeline as its engine as it is.

The steps of a synthesis are sv2tts/speech.py's; `load_voice_encoder` loads the speaker
encoder alone, for what makes voices and never speaks (the bank import).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sv2tts import finish
from sv2tts.audio import dsp
from sv2tts.audio.recording import RecordingLimits
from sv2tts.choices import VOCODERS, VocoderName
from sv2tts.devices import configure_cpu_threads
from sv2tts.embedding import Vector, speaker_vector
from sv2tts.encoder.voices import Voice, VoiceEncoder
from sv2tts.errors import NothingToSay
from sv2tts.loading import load_speech_models, load_voice_encoder
from sv2tts.speech import (
    GriffinLimVocoder,
    Progress,
    StageTimes,
    SynthesisOptions,
    SynthesisResult,
    Vocoder,
    WaveRNNVocoder,
    decoded_mels,
    joined_mels,
    pause_frames,
    quiet,
    timed,
)
from sv2tts.synthesizer.model import Tacotron
from sv2tts.text import TextFrontend
from sv2tts.vocoder.model import WaveRNN
from sv2tts.weights.manifest import Manifest, read_manifest, resolve_weights

log = logging.getLogger(__name__)


class Pipeline:
    """A resident speaker encoder, Tacotron with its text front end, and the vocoders, on one
    device."""

    def __init__(
        self,
        *,
        voices: VoiceEncoder,
        synthesizer: Tacotron,
        frontend: TextFrontend,
        device: torch.device,
        wavernn: WaveRNN | None,
        default_vocoder: VocoderName = "wavernn",
        signal: dsp.SynthSignal = dsp.SynthSignal(),
        weights: Mapping[str, Any] | None = None,
    ) -> None:
        """`wavernn` None: Griffin-Lim only. `weights`: what the speech models were loaded
        from (for `describe`)."""
        if default_vocoder not in VOCODERS:
            raise ValueError(
                f"vocoder must be one of {', '.join(VOCODERS)}, not {default_vocoder!r}"
            )
        self.voices = voices
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

    @classmethod
    def load(
        cls,
        weights_dir: Path | str = "pretrained",
        *,
        device: str = "auto",
        vocoder: VocoderName = "wavernn",
        manifest: Manifest | None = None,
        threads: int | None = None,
        stress: bool = True,
    ) -> Pipeline:
        """Check and load the weights in `weights_dir` onto `device`.

        Every file is checked before any is read (WeightsError names the missing or corrupt
        one and the command that fixes it). With vocoder="griffinlim" no vocoder.pt is
        needed. `threads`: set PyTorch's CPU threads for the whole process
        (`configure_cpu_threads`); None leaves them alone. `stress`: Russian is read with
        word stress and ё (sv2tts.text.stress); False reads it by the unstressed rules.
        """
        if vocoder not in VOCODERS:
            raise ValueError(f"vocoder must be one of {', '.join(VOCODERS)}, not {vocoder!r}")
        if threads is not None:
            configure_cpu_threads(threads)
        manifest = manifest or read_manifest()
        for name in ("encoder", "synthesizer", *(("vocoder",) if vocoder == "wavernn" else ())):
            resolve_weights(weights_dir, name, manifest)
        voices = load_voice_encoder(weights_dir, device=device, manifest=manifest)
        models = load_speech_models(weights_dir, vocoder=vocoder, manifest=manifest, stress=stress)
        pipeline = cls(
            voices=voices,
            synthesizer=models.synthesizer,
            frontend=models.frontend,
            device=voices.device,
            wavernn=models.wavernn,
            default_vocoder=vocoder,
            weights={"files": {**voices.weights.get("files", {}), **models.files}},
        )
        log.info("pipeline ready: %s", json.dumps(pipeline.describe()))
        return pipeline

    @property
    def sample_rate(self) -> int:
        """Of the waveforms `speak` gives and `likeness` reads."""
        return self.signal.sample_rate

    @property
    def encoder_id(self) -> str:
        return self.voices.encoder_id

    def describe(self) -> dict[str, Any]:
        """What is loaded, for logs and health reports (JSON-ready)."""
        return {
            "device": str(self.device),
            "vocoder": self.default_vocoder,
            "encoder_id": self.encoder_id,
            **self.weights,
        }

    # --- voices -----------------------------------------------------------------------------

    def embed(
        self,
        wav: np.ndarray,
        sample_rate: int = 16000,
        *,
        limits: RecordingLimits | None = RecordingLimits(),
    ) -> Voice:
        """The voice of mono samples at `sample_rate` (`VoiceEncoder.embed`): a RecordingError
        with a code when the recording fails `limits` (None: no checks)."""
        return self.voices.embed(wav, sample_rate, limits=limits)

    def likeness(self, wav: np.ndarray, voice: Vector) -> float:
        """How much `wav` (at `sample_rate`) sounds like `voice`: the cosine of its own
        embedding, made again from these samples, to the voice's. ValueError when the voice
        has no direction (all zeros)."""
        return self.voices.likeness(wav, self.sample_rate, voice)

    # --- speech -----------------------------------------------------------------------------

    def speak(
        self,
        text: str | Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Speech of `text` (one string, or several spoken one after another) in `voice`:
        float32 samples at `sample_rate`, as the vocoder made them (sv2tts.finish finishes
        them). NothingToSay when there is nothing speakable (`TextFrontend.is_speakable`, the
        rule the bot checks too). `progress` is told how far it is."""
        return self.speak_detailed(text, voice, options, progress).wav

    def speak_detailed(
        self,
        text: str | Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress | None = None,
    ) -> SynthesisResult:
        """`speak`, with the sentences, the mel length and the time of each stage."""
        vocoder = self.vocoder(options)
        speaker = speaker_vector(voice)
        told = progress or quiet
        times: dict[str, float] = {}
        with torch.inference_mode():
            with timed(self.device, times, "text"):
                sentences = self.sentences(text, options.max_sentence_chars)
                sequences = [self.frontend.symbols.encode(s) for s in sentences]
            with timed(self.device, times, "synthesizer"):
                mels = decoded_mels(self.synthesizer, sequences, speaker, options, told)
            with timed(self.device, times, "vocoder"):
                mel = joined_mels(
                    mels,
                    pause_frames(options.pause_seconds, self.signal),
                    -self.signal.max_abs_value,
                )
                wav = vocoder(mel, options, told)
        return SynthesisResult(
            wav=wav,
            sample_rate=self.sample_rate,
            sentences=sentences,
            mel_frames=mel.shape[1],
            times=StageTimes(**times),
        )

    def speak_lines(
        self,
        texts: Sequence[str],
        voice: Vector,
        options: SynthesisOptions = SynthesisOptions(),
        progress: Progress | None = None,
    ) -> list[np.ndarray]:
        """Each of `texts` as a waveform of its own, all in `voice`, made together (a
        dialogue's lines of one speaker): the sentences of every text decoded in length
        batches as one long text's are, and one vocoder run over their mels, joined with
        `pause_seconds` between sentences and twice that between texts. The waveform is cut
        in the middle of each longer pause and each piece levelled on its own
        (`sv2tts.finish.level`: trimmed, brought to the ladder's loudness), so that every
        line of every voice is as loud as the others. A text with nothing speakable gives an
        empty waveform; NothingToSay when none has anything."""
        vocoder = self.vocoder(options)
        speaker = speaker_vector(voice)
        told = progress or quiet
        per_text = [
            self.frontend.sentences(t, options.max_sentence_chars)
            if self.frontend.is_speakable(t)
            else []
            for t in texts
        ]
        if not any(per_text):
            raise NothingToSay("no speakable text")
        pause = pause_frames(options.pause_seconds, self.signal)
        gap = max(2, 2 * pause)
        floor = -self.signal.max_abs_value
        with torch.inference_mode():
            sequences = [self.frontend.symbols.encode(s) for ss in per_text for s in ss]
            mels = iter(decoded_mels(self.synthesizer, sequences, speaker, options, told))
            spoken = [joined_mels([next(mels) for _ in ss], pause, floor) for ss in per_text if ss]
            wav = vocoder(joined_mels(spoken, gap, floor), options, told)
        # Text k's mel ends `gap` frames before text k+1's begins; cut in the middle of that.
        cuts, end = [], 0
        for mel in spoken[:-1]:
            end += mel.shape[1]
            cuts.append((end + gap // 2) * self.signal.hop_length)
            end += gap
        pieces = iter(np.split(wav, [min(c, len(wav)) for c in cuts]))
        empty = np.zeros(0, dtype=np.float32)
        return [finish.level(next(pieces), self.sample_rate) if ss else empty for ss in per_text]

    def vocoder(self, options: SynthesisOptions) -> Vocoder:
        """The vocoder `options` ask for (or the default); ValueError if it is not loaded."""
        name = options.vocoder or self.default_vocoder
        if name not in self.vocoders:
            raise ValueError(f"this Pipeline was loaded without the WaveRNN vocoder ({name!r})")
        return self.vocoders[name]

    def sentences(self, text: str | Sequence[str], max_chars: int) -> list[str]:
        """The cleaned, speakable sentences of `text`; NothingToSay if there are none."""
        texts = [text] if isinstance(text, str) else list(text)
        speakable = [t for t in texts if self.frontend.is_speakable(t)]
        sentences = [s for t in speakable for s in self.frontend.sentences(t, max_chars)]
        if not sentences:
            raise NothingToSay("no speakable text")
        return sentences
