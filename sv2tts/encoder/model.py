"""The SV2TTS speaker encoder (GE2E): a 3-layer LSTM over 40-band mel frames.

An utterance is cut into partials of 160 frames (1.6 s) with 50 % overlap; each partial's
embedding is ReLU(Linear(h_T)) of the last LSTM layer's final hidden state, L2-normalised;
the utterance embedding is the mean of the partial embeddings, L2-normalised again.

Usage (loading separated from running; the model never moves itself to a device):

    encoder = load_encoder(path)            # on the CPU, eval mode
    encoder.to(device)                      # the caller's choice
    wav16k = dsp.preprocess_wav(wav, sr)
    embedding, partials = encoder.embed_utterance(wav16k)   # float32 (256,), (P, 256)

`similarity_weight` and `similarity_bias` are the GE2E loss's scale and offset: inference
ignores them (the published checkpoint carries them and loading is strict); training
(`sv2tts.encoder.train`) learns them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sv2tts.audio import dsp
from sv2tts.embedding import l2_normalize
from sv2tts.weights.checkpoint import load_strict, read_model_state

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EncoderConfig:
    sample_rate: int = 16000
    n_mels: int = 40
    hidden_size: int = 256
    num_layers: int = 3
    embedding_size: int = 256
    partial_frames: int = 160  # 1.6 s of 10 ms frames
    partial_overlap: float = 0.5
    min_coverage: float = 0.75  # a trailing partial is kept if this share of it is audio

    @property
    def signal(self) -> dsp.EncoderSignal:
        return dsp.EncoderSignal(sample_rate=self.sample_rate, n_mels=self.n_mels)

    @property
    def partial_step(self) -> int:
        return max(1, round(self.partial_frames * (1.0 - self.partial_overlap)))


def partial_slices(n_samples: int, config: EncoderConfig = EncoderConfig()) -> list[slice]:
    """Mel-frame slices of the partials of an utterance of `n_samples` samples.

    Partials of `partial_frames` frames start every `partial_step` frames; the last one is
    dropped when less than `min_coverage` of it covers the utterance, unless it is the only
    one. The caller zero-pads the waveform up to the last slice's end.
    """
    hop = config.signal.hop_length
    n_frames = n_samples // hop + 1  # librosa's centred frames
    size, step = config.partial_frames, config.partial_step
    starts = list(range(0, max(1, n_frames - size + step + 1), step))
    slices = [slice(start, start + size) for start in starts]
    last = slices[-1]
    coverage = (n_samples - last.start * hop) / (size * hop)
    if coverage < config.min_coverage and len(slices) > 1:
        slices.pop()
    return slices


class SpeakerEncoder(nn.Module):
    def __init__(self, config: EncoderConfig = EncoderConfig()) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(
            input_size=config.n_mels,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
        )
        self.linear = nn.Linear(config.hidden_size, config.embedding_size)
        self.relu = nn.ReLU()
        self.similarity_weight = nn.Parameter(torch.tensor([10.0]))
        self.similarity_bias = nn.Parameter(torch.tensor([-5.0]))

    def forward(self, mels: torch.Tensor, *, ge2e_norm: bool = False) -> torch.Tensor:
        """L2-normalised embeddings (B, embedding_size) of mel frames (B, T, n_mels).

        ge2e_norm: divide by (norm + 1e-5) as GE2E training does, instead of by the norm
        (floored at 1e-12) as inference does; the two differ by about 1e-5 relative.
        """
        _, (hidden, _) = self.lstm(mels)
        embeds = self.relu(self.linear(hidden[-1]))
        norm = embeds.norm(dim=1, keepdim=True)
        if ge2e_norm:
            return embeds / (norm + 1e-5)
        return embeds / norm.clamp_min(1e-12)

    def _embed_partials(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean embedding, partial embeddings) of partials (P, frames, n_mels), all P in
        one forward pass on whatever device the caller put the model."""
        device = next(self.parameters()).device
        with torch.inference_mode():
            partials = self(torch.from_numpy(batch).to(device)).float().cpu().numpy()
        return l2_normalize(partials.mean(axis=0)), partials

    def embed_frames(self, mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(utterance embedding (E,), partial embeddings (P, E)) of encoder mel frames
        (T, n_mels) of an utterance; frames past its end are taken as silence (zeros)."""
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[1] != self.config.n_mels:
            raise ValueError(f"expected mel frames (T, {self.config.n_mels}), got {mel.shape}")
        hop = self.config.signal.hop_length
        slices = partial_slices(max(0, mel.shape[0] - 1) * hop, self.config)
        needed = slices[-1].stop
        if mel.shape[0] < needed:
            mel = np.pad(mel, ((0, needed - mel.shape[0]), (0, 0)))
        return self._embed_partials(np.stack([mel[s] for s in slices]))

    def embed_utterance(self, wav: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(utterance embedding (E,), partial embeddings (P, E)), float32, of a waveform
        already through `dsp.preprocess_wav` (16 kHz, normalised, silences trimmed)."""
        wav = dsp.as_float32_mono(wav)
        if wav.size == 0:
            raise ValueError("cannot embed an empty waveform")
        slices = partial_slices(len(wav), self.config)
        padded_length = slices[-1].stop * self.config.signal.hop_length
        if padded_length > len(wav):
            wav = np.pad(wav, (0, padded_length - len(wav)))
        mel = dsp.encoder_melspectrogram(wav, self.config.signal)
        return self._embed_partials(np.stack([mel[s] for s in slices]))


def load_encoder(path: Path | str, config: EncoderConfig = EncoderConfig()) -> SpeakerEncoder:
    """The speaker encoder with the weights of checkpoint `path`, strictly loaded, on the
    CPU, in eval mode."""
    encoder = SpeakerEncoder(config)
    load_strict(encoder, read_model_state(path), f"speaker encoder ({Path(path).name})")
    encoder.eval()
    log.info("speaker encoder loaded from %s", path)
    return encoder
