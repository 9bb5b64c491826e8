"""The SV2TTS vocoder: WaveRNN in RAW mode (9-bit mu-law classes), mel to waveform.

An upsample network turns the mel spectrogram (one frame per hop) into per-sample
conditioning: a residual network over the padded mel gives auxiliary features (stretched to
the sample rate) and a stack of stretch + smoothing-conv layers upsamples the mel itself.
Two GRUs and three fully connected layers then predict a distribution over 2**bits mu-law
classes for each sample from the previous sample and the conditioning: `WaveRNN.step_logits`
is one step of that recurrence as the paper draws it, `WaveRNN.forward` the same over a
whole sequence of known previous samples (teacher forcing).

Generating is sampling that recurrence one sample at a time. `WaveRNN.sample_plain` does it
with `step_logits`, and is the reference; `sv2tts.vocoder.fast.sample_sequence` does the same
arithmetic rearranged for speed, and is what `generate` uses unless asked for the plain loop.

Batched generation folds the sequence into overlapping segments run as one batch and
cross-fades them back together: the sequential loop gets target + 2 * overlap steps long
instead of the whole utterance.

Module names follow the public checkpoint (see `sv2tts.weights.checkpoint`); the model never moves
itself to a device. Public API: `VocoderConfig`, `WaveRNN.generate`, `WaveRNN.generate_batch`,
`load_vocoder`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sv2tts.audio import dsp
from sv2tts.choices import PRECISIONS, Precision
from sv2tts.synthesizer.model import config_from_dict
from sv2tts.vocoder.fast import sample_sequence
from sv2tts.weights.checkpoint import load_strict, read_model_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VocoderConfig:
    """Dimensions of WaveRNN and its signal settings; defaults are the public checkpoint's.

    The names of the first thirteen fields are those of the checkpoints' json files.
    """

    rnn_dims: int = 512
    fc_dims: int = 512
    bits: int = 9
    pad: int = 2
    upsample_factors: tuple[int, ...] = (5, 5, 8)
    feat_dims: int = 80
    compute_dims: int = 128
    res_out_dims: int = 128
    res_blocks: int = 10
    hop_length: int = 200
    sample_rate: int = 16000
    mode: str = "RAW"
    # The synthesizer's audio was pre-emphasised; the vocoder learned that, so undo it.
    preemphasis: float = 0.97
    # Hops faded out linearly at the very end, so the signal does not stop abruptly.
    fade_out_hops: int = 20
    # Conditioning precomputed at once, in folds x samples: about 18 KB each at full size,
    # so this bounds that buffer to about 75 MB (twice that while it is assembled).
    max_precomputed_samples: int = 1 << 12

    def __post_init__(self) -> None:
        if self.mode != "RAW":
            raise ValueError(f"only the RAW vocoder mode is supported, not {self.mode!r}")
        if math.prod(self.upsample_factors) != self.hop_length:
            raise ValueError(
                f"upsample factors {self.upsample_factors} must multiply to the hop length "
                f"{self.hop_length}"
            )
        if self.res_out_dims % 4:
            raise ValueError("res_out_dims must split into four auxiliary parts")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VocoderConfig:
        """The config from a checkpoint json; `symbols`/`cleaners` are ignored, other
        unknown keys raise ValueError."""
        config: VocoderConfig = config_from_dict(cls, data, "vocoder")
        return config

    @property
    def n_classes(self) -> int:
        return 2**self.bits

    @property
    def aux_dims(self) -> int:
        return self.res_out_dims // 4


class ResBlock(nn.Module):
    """x + BN(conv(relu(BN(conv(x))))) with 1x1 convolutions."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(dims, dims, kernel_size=1, bias=False)
        self.conv2 = nn.Conv1d(dims, dims, kernel_size=1, bias=False)
        self.batch_norm1 = nn.BatchNorm1d(dims)
        self.batch_norm2 = nn.BatchNorm1d(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.batch_norm1(self.conv1(x)))
        return x + self.batch_norm2(self.conv2(y))


class MelResNet(nn.Module):
    """Residual network over the padded mel: (B, feat, T + 2 pad) -> (B, res_out, T)."""

    def __init__(self, config: VocoderConfig) -> None:
        super().__init__()
        c = config
        self.conv_in = nn.Conv1d(c.feat_dims, c.compute_dims, 2 * c.pad + 1, bias=False)
        self.batch_norm = nn.BatchNorm1d(c.compute_dims)
        self.layers = nn.ModuleList(ResBlock(c.compute_dims) for _ in range(c.res_blocks))
        self.conv_out = nn.Conv1d(c.compute_dims, c.res_out_dims, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.batch_norm(self.conv_in(x)))
        for layer in self.layers:
            x = layer(x)
        return self.conv_out(x)


class Stretch(nn.Module):
    """Repeat every step of the last axis `scale` times (nearest-neighbour upsampling)."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat_interleave(self.scale, dim=-1)


class UpsampleNetwork(nn.Module):
    """Mel frames to per-sample conditioning: (upsampled mel, auxiliary features).

    Input (B, feat, T + 2 pad) (the mel padded with `pad` zero frames each side); outputs
    (B, T * hop, feat) and (B, T * hop, res_out).
    """

    def __init__(self, config: VocoderConfig) -> None:
        super().__init__()
        self.hop = config.hop_length
        self.indent = config.pad * config.hop_length
        self.resnet = MelResNet(config)
        self.up_layers = nn.ModuleList()
        for scale in config.upsample_factors:
            # Each stretch is smoothed by a moving average over two scales (initially).
            self.up_layers.append(Stretch(scale))
            smooth = nn.Conv2d(1, 1, kernel_size=(1, 2 * scale + 1), padding=(0, scale), bias=False)
            # Training starts from that moving average; a checkpoint's weights replace it.
            nn.init.constant_(smooth.weight, 1.0 / (2 * scale + 1))
            self.up_layers.append(smooth)

    def forward(self, mels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        aux = self.resnet(mels).repeat_interleave(self.hop, dim=-1)
        m = mels.unsqueeze(1)
        for layer in self.up_layers:
            m = layer(m)
        m = m.squeeze(1)[:, :, self.indent : -self.indent]
        return m.transpose(1, 2), aux.transpose(1, 2)


def fold_with_overlap(x: torch.Tensor, target: int, overlap: int) -> torch.Tensor:
    """(B, total, C) -> (B * folds, target + 2 * overlap, C): overlapping segments.

    Fold i starts at i * (target + overlap); the end is zero-padded so that the last fold
    is whole.
    """
    batch, total, channels = x.shape
    stride = target + overlap
    folds = max(1, math.ceil((total - overlap) / stride))
    padded = folds * stride + overlap
    x = F.pad(x, (0, 0, 0, padded - total))
    segments = x.unfold(1, target + 2 * overlap, stride)  # (B, folds, C, length)
    return segments.permute(0, 1, 3, 2).reshape(batch * folds, target + 2 * overlap, channels)


def crossfade_and_unfold(y: torch.Tensor, folds: int, overlap: int) -> torch.Tensor:
    """(B * folds, length) -> (B, folds * (length - overlap) + overlap): overlap-add.

    In each overlap the earlier fold fades out (equal-power, sqrt) over the first half and is
    silent in the second, where the later fold, silent in the first half, fades in: each
    fold keeps its first half-overlap to warm up its recurrent state. As in the reference, the
    first fold's start is faded in too (the first overlap / 2 samples are silent).
    """
    length = y.size(1)
    stride = length - overlap
    silence = overlap // 2
    ramp = torch.linspace(-1.0, 1.0, overlap - silence, dtype=y.dtype, device=y.device)
    fade_in = torch.cat([y.new_zeros(silence), torch.sqrt(0.5 * (1 + ramp))])
    fade_out = torch.cat([torch.sqrt(0.5 * (1 - ramp)), y.new_zeros(silence)])
    y = y.clone()
    y[:, :overlap] *= fade_in
    y[:, length - overlap :] *= fade_out
    y = y.view(-1, folds, length)
    out = y.new_zeros(y.size(0), folds + 1, stride)
    out[:, :folds] = y[:, :, :stride]
    out[:, 1:, :overlap] += y[:, :, stride:]
    return out.flatten(1)[:, : folds * stride + overlap]


def decode_mu_law(y: np.ndarray, classes: int) -> np.ndarray:
    """Values in [-1, 1] on the mu-law scale to linear amplitude."""
    mu = classes - 1
    return np.sign(y) / mu * ((1 + mu) ** np.abs(y) - 1)


class WaveRNN(nn.Module):
    """WaveRNN conditioned on a mel spectrogram, RAW mode (softmax over mu-law classes)."""

    def __init__(self, config: VocoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or VocoderConfig()
        rnn, aux = config.rnn_dims, config.aux_dims
        self.upsample = UpsampleNetwork(config)
        self.I = nn.Linear(1 + config.feat_dims + aux, rnn)
        self.rnn1 = nn.GRU(rnn, rnn, batch_first=True)
        self.rnn2 = nn.GRU(rnn + aux, rnn, batch_first=True)
        self.fc1 = nn.Linear(rnn + aux, config.fc_dims)
        self.fc2 = nn.Linear(config.fc_dims + aux, config.fc_dims)
        self.fc3 = nn.Linear(config.fc_dims, config.n_classes)
        self.register_buffer("step", torch.zeros(1, dtype=torch.long))

    def class_levels(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """The sample value in [-1, 1] (mu-law scale) of each class: what the next step
        sees as its previous sample."""
        classes = self.config.n_classes
        levels = torch.arange(classes, device=device).to(dtype)
        return levels * (2.0 / (classes - 1)) - 1.0

    def step_logits(
        self,
        previous: torch.Tensor,
        mel: torch.Tensor,
        aux: torch.Tensor,
        h1: torch.Tensor,
        h2: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step of the recurrence: (logits (B, classes), new h1, new h2).

        previous (B, 1): the previous sample in [-1, 1]; mel (B, feat) and aux (B, res_out):
        this sample's conditioning; h1, h2 (B, rnn): the GRUs' states.
        """
        a1, a2, a3, a4 = aux.chunk(4, dim=1)
        x = self.I(torch.cat([previous, mel, a1], dim=1))
        h1 = self.rnn1(x.unsqueeze(1), h1.unsqueeze(0))[1].squeeze(0)
        x = x + h1
        h2 = self.rnn2(torch.cat([x, a2], dim=1).unsqueeze(1), h2.unsqueeze(0))[1].squeeze(0)
        x = x + h2
        x = F.relu(self.fc1(torch.cat([x, a3], dim=1)))
        x = F.relu(self.fc2(torch.cat([x, a4], dim=1)))
        return self.fc3(x), h1, h2

    def forward(
        self, previous: torch.Tensor, mels: torch.Tensor, *, padded: bool = False
    ) -> torch.Tensor:
        """Logits (B, L, classes) of every sample given the samples before it.

        previous (B, L): sample t - 1 for each t (0 for the first), in [-1, 1]; mels
        (B, feat, frames) with L = frames * hop_length, padded here with `pad` zero frames
        each side. padded=True (training windows): mels (B, feat, frames + 2 pad) already
        carry their `pad` frames each side, the recording's real neighbours of the window.
        The same arithmetic as `step_logits`, run over the whole sequence at once.
        """
        pad = self.config.pad
        mels_up, aux = self.upsample(mels if padded else F.pad(mels, (pad, pad)))
        return self.conditioned_logits(previous, mels_up, aux)

    def conditioned_logits(
        self, previous: torch.Tensor, mels_up: torch.Tensor, aux: torch.Tensor
    ) -> torch.Tensor:
        """Logits (B, L, classes) from the previous samples (B, L) and the upsample
        network's per-sample outputs (B, L, feat) and (B, L, res_out)."""
        a1, a2, a3, a4 = aux.chunk(4, dim=2)
        x = self.I(torch.cat([previous.unsqueeze(-1), mels_up, a1], dim=2))
        x = x + self.rnn1(x)[0]
        x = x + self.rnn2(torch.cat([x, a2], dim=2))[0]
        x = F.relu(self.fc1(torch.cat([x, a3], dim=2)))
        x = F.relu(self.fc2(torch.cat([x, a4], dim=2)))
        return self.fc3(x)

    def sample_plain(
        self, mels: torch.Tensor, aux: torch.Tensor, deterministic: bool
    ) -> torch.Tensor:
        """Autoregressive sampling with `step_logits`: (N, L) samples in [-1, 1], mu-law.

        mels (N, L, feat) and aux (N, L, res_out): the upsample network's outputs. The
        reference for `fast.sample_sequence`, which gives the same samples faster.
        """
        batch, length, _ = mels.shape
        levels = self.class_levels(mels.device, mels.dtype)
        h1 = mels.new_zeros(batch, self.config.rnn_dims)
        h2 = mels.new_zeros(batch, self.config.rnn_dims)
        previous = mels.new_zeros(batch, 1)
        out = mels.new_empty(batch, length)
        for t in range(length):
            logits, h1, h2 = self.step_logits(previous, mels[:, t], aux[:, t], h1, h2)
            if deterministic:
                label = logits.argmax(dim=1)
            else:
                label = torch.multinomial(F.softmax(logits, dim=1), 1).squeeze(1)
            out[:, t] = levels[label]
            previous = out[:, t : t + 1]
        return out

    def finish_waveform(self, y: np.ndarray, samples: int) -> np.ndarray:
        """Mu-law decode, de-emphasis, cut to `samples` and fade out the end; float32."""
        c = self.config
        wav = decode_mu_law(y.astype(np.float64), c.n_classes)
        if c.preemphasis:
            wav = dsp.deemphasize(wav, c.preemphasis)
        wav = wav[:samples]
        fade = min(len(wav), c.fade_out_hops * c.hop_length)
        if fade:
            wav[len(wav) - fade :] *= np.linspace(1.0, 0.0, c.fade_out_hops * c.hop_length)[-fade:]
        return np.asarray(wav, dtype=np.float32)

    @torch.inference_mode()
    def generate_batch(
        self,
        mels: torch.Tensor,
        lengths: Sequence[int] | None = None,
        *,
        batched: bool = True,
        target: int = 8000,
        overlap: int = 800,
        deterministic: bool = False,
        precision: Precision = "float32",
        plain: bool = False,
        progress: Callable[[float], None] | None = None,
    ) -> list[np.ndarray]:
        """Waveforms for a batch of mel spectrograms, one float32 array each.

        mels: (B, feat_dims, frames), the synthesizer's mels already divided by 4 (so in
            [-1, 1]), on the model's device. lengths: valid frames of each (default: all).
            Waveform b has (lengths[b] - 1) * hop_length samples at config.sample_rate.
        batched: fold each sequence into segments of `target` samples with `overlap` on
            each side, all run as one batch, then cross-faded together (much faster;
            faint seams). Unbatched runs every sequence in one piece.
        deterministic: take the most likely class instead of sampling (conformance tests).
        precision: "bfloat16" runs the sample loop's matrix products on bfloat16 weights,
            "int8" on int8 weights with inputs quantized on the fly (CPU only); both opt-in:
            faster, but not the reference's numbers.
        plain: sample with the plain reference loop (`sample_plain`) instead of the fast
            one (`fast.sample_sequence`): the same samples, much slower.
        progress: told the share of the sample loop done, now and then (the fast loop only).
        """
        self.eval()
        if mels.dim() != 3 or mels.size(1) != self.config.feat_dims:
            raise ValueError(
                f"expected mels (B, {self.config.feat_dims}, frames), got {mels.shape}"
            )
        batch, _, frames = mels.shape
        lengths = [frames] * batch if lengths is None else list(lengths)
        if len(lengths) != batch or not all(1 <= n <= frames for n in lengths):
            raise ValueError(f"lengths {lengths} do not fit mels of shape {tuple(mels.shape)}")
        if batched and (target < 1 or overlap < 1):
            raise ValueError("target and overlap must be positive")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")

        pad = self.config.pad
        upsampled, aux = self.upsample(F.pad(mels, (pad, pad)))
        total = upsampled.size(1)
        if batched:
            upsampled = fold_with_overlap(upsampled, target, overlap)
            aux = fold_with_overlap(aux, target, overlap)
        if plain:
            output = self.sample_plain(upsampled, aux, deterministic)
        else:
            output = sample_sequence(
                self, upsampled, aux, deterministic, precision=precision, progress=progress
            )
        if batched:
            output = crossfade_and_unfold(output, output.size(0) // batch, overlap)[:, :total]
        log.debug("vocoded %d x %d samples", *output.shape)
        y = output.float().cpu().numpy()
        hop = self.config.hop_length
        return [self.finish_waveform(y[b], (n - 1) * hop) for b, n in enumerate(lengths)]

    def generate(
        self,
        mel: torch.Tensor,
        *,
        batched: bool = True,
        target: int = 8000,
        overlap: int = 800,
        deterministic: bool = False,
        precision: Precision = "float32",
        plain: bool = False,
        progress: Callable[[float], None] | None = None,
    ) -> np.ndarray:
        """The float32 waveform of one mel spectrogram (feat_dims, frames), already / 4.

        (frames - 1) * hop_length samples; see `generate_batch` for the options.
        """
        return self.generate_batch(
            mel.unsqueeze(0),
            batched=batched,
            target=target,
            overlap=overlap,
            deterministic=deterministic,
            precision=precision,
            plain=plain,
            progress=progress,
        )[0]


def load_vocoder(path: Path | str, config: VocoderConfig | None = None) -> WaveRNN:
    """A WaveRNN in eval mode on the CPU with the checkpoint's weights, loaded strictly.

    The optimizer state is dropped. Move it with `.to(device)`.
    """
    model = WaveRNN(config)
    load_strict(model, read_model_state(path), f"vocoder {Path(path).name}")
    model.eval()
    log.info("loaded vocoder %s", path)
    return model
