"""The SV2TTS vocoder: WaveRNN in RAW mode (9-bit mu-law classes), mel to waveform.

An upsample network turns the mel spectrogram (one frame per hop) into per-sample
conditioning: a residual network over the padded mel gives auxiliary features (stretched to
the sample rate) and a stack of stretch + smoothing-conv layers upsamples the mel itself.
Two GRUs and three fully connected layers then predict a distribution over 2**bits mu-law
classes for each sample from the previous sample and the conditioning.

Batched generation folds the sequence into overlapping segments run as one batch and
cross-fades them back together: the sequential loop gets target + 2 * overlap steps long
instead of the whole utterance.

Module names follow the public checkpoint (see `sv2tts.checkpoint`); the model never moves
itself to a device. Public API: `VocoderConfig`, `WaveRNN.generate`, `WaveRNN.generate_batch`,
`load_vocoder`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import lfilter
from torch import nn

from sv2tts.checkpoint import load_strict, read_model_state
from sv2tts.synthesizer import config_from_dict

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
            self.up_layers.append(
                nn.Conv2d(1, 1, kernel_size=(1, 2 * scale + 1), padding=(0, scale), bias=False)
            )

    def forward(self, mels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        aux = self.resnet(mels).repeat_interleave(self.hop, dim=-1)
        m = mels.unsqueeze(1)
        for layer in self.up_layers:
            m = layer(m)
        m = m.squeeze(1)[:, :, self.indent : -self.indent]
        return m.transpose(1, 2), aux.transpose(1, 2)


class Conditioning(NamedTuple):
    """Per-sample terms of the recurrent step that do not depend on the previous sample.

    Each (L, N, width), time-major so that a step reads contiguous rows: the conditioning's
    share of I's output and of rnn1's input gates side by side (with biases), of rnn2's
    input gates (with bias), of fc1 and of fc2 (with biases). The loop works in place on
    them.
    """

    i_gates1: torch.Tensor
    gates2: torch.Tensor
    fc1: torch.Tensor
    fc2: torch.Tensor


Precision = Literal["float32", "bfloat16"]
PRECISIONS: tuple[Precision, ...] = ("float32", "bfloat16")


def onednn_linear_available() -> bool:
    """Whether PyTorch has oneDNN's prepacked linear (its CPU kernel for inference graphs)."""
    ops = torch.ops.mkldnn
    return (
        torch.backends.mkldnn.is_available()
        and hasattr(ops, "_reorder_linear_weight")
        and hasattr(ops, "_linear_pointwise")
    )


class StepProduct:
    """x -> x @ weight.T + bias (+ per-row terms): one of the step's matrix products.

    On the CPU the weight is prepacked for oneDNN when PyTorch has it: with the small
    batches of the sample loop that runs about 1.3-1.6x faster than the BLAS product
    (`addmm`) at the same float32 precision, only the summation order differs. With
    precision "bfloat16" (opt-in; it changes the results) the product runs on bfloat16
    copies of the weight and input and is accumulated back into float32.
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        batch: int,
        *,
        onednn: bool,
        precision: Precision = "float32",
    ) -> None:
        self.bias = bias.contiguous() if bias is not None else None
        self.half = precision == "bfloat16"
        dtype = torch.bfloat16 if self.half else weight.dtype
        self.onednn = onednn
        if onednn:
            self.weight = torch.ops.mkldnn._reorder_linear_weight(
                weight.detach().to(dtype).contiguous(), batch
            )
        else:
            self.weight = weight.detach().to(dtype).t().contiguous()

    def __call__(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, in) @ weight.T + bias, plus `rows` (B, out) when given; a new tensor."""
        if self.half:
            x = x.to(torch.bfloat16)
            if self.onednn:
                y = torch.ops.mkldnn._linear_pointwise(x, self.weight, None, "none", [], "")
            else:
                y = torch.mm(x, self.weight)
            y = y.float()
            if self.bias is not None:
                y.add_(self.bias)
            return y if rows is None else y.add_(rows)
        if self.onednn:
            y = torch.ops.mkldnn._linear_pointwise(x, self.weight, self.bias, "none", [], "")
            return y if rows is None else y.add_(rows)
        if rows is None:
            if self.bias is None:
                return torch.mm(x, self.weight)
            return torch.addmm(self.bias, x, self.weight)
        y = torch.addmm(rows, x, self.weight)
        return y if self.bias is None else y.add_(self.bias)


def gru_update(
    input_gates: torch.Tensor, hidden_gates: torch.Tensor, hidden: torch.Tensor
) -> torch.Tensor:
    """One GRU cell update (PyTorch's gate layout r, z, n) from both sets of gate inputs.

    Overwrites `input_gates` and `hidden_gates` (scratch rows of the step); returns the new
    hidden state n + z * (h - n), with n = tanh(i_n + r * h_n).
    """
    width = hidden.size(1)
    reset_update = input_gates[:, : 2 * width].add_(hidden_gates[:, : 2 * width]).sigmoid_()
    new = hidden_gates[:, 2 * width :].mul_(reset_update[:, :width])
    new = new.add_(input_gates[:, 2 * width :]).tanh_()
    return torch.lerp(new, hidden, reset_update[:, width:])


def sample_classes(logits: torch.Tensor, uniforms: torch.Tensor, out: torch.Tensor) -> None:
    """Draw one class per row from softmax(logits) by inverting its CDF; into `out`.

    logits (B, C), overwritten; uniforms (B, 1) in [0, 1); out (B,) int64. Row b gets the
    first class whose cumulative (unnormalised) probability exceeds uniforms[b] times the
    total: class k with probability softmax(logits)[b, k], exactly as `torch.multinomial`
    would draw it, but with a handful of cheap ops and the random numbers drawn in advance.
    """
    weights = logits.sub_(logits.amax(dim=1, keepdim=True)).exp_()
    cdf = weights.cumsum_(dim=1)
    thresholds = uniforms * cdf[:, -1:]
    torch.searchsorted(cdf, thresholds, right=True, out=out.view(-1, 1))
    # A threshold rounded up to the total would fall past the last class.
    out.clamp_(max=logits.size(1) - 1)


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

    def conditioning(self, mels: torch.Tensor, aux: torch.Tensor) -> Conditioning:
        """The step's terms that depend only on the conditioning, for every sample at once.

        mels (N, L, feat), aux (N, L, 4 * aux_dims); see `Conditioning` for the parts. The
        input order of every layer that sees an auxiliary part is [state, aux part]; I's is
        [previous sample, mel, aux part 1].
        """
        mels, aux = mels.transpose(0, 1), aux.transpose(0, 1)
        a1, a2, a3, a4 = aux.chunk(4, dim=2)
        rnn, fc_dims = self.config.rnn_dims, self.config.fc_dims
        w_i, b_i = self.I.weight[:, 1:], self.I.bias
        # rnn1's input is I's output, so both come from one product: its gates' share goes
        # through the composed weight W_ih1 @ W_I (112 inputs instead of 512).
        w_gates1 = self.rnn1.weight_ih_l0 @ w_i
        b_gates1 = F.linear(b_i, self.rnn1.weight_ih_l0, self.rnn1.bias_ih_l0)
        i_gates1 = F.linear(
            torch.cat([mels, a1], dim=2),
            torch.cat([w_i, w_gates1]),
            torch.cat([b_i, b_gates1]),
        )
        return Conditioning(
            i_gates1,
            F.linear(a2, self.rnn2.weight_ih_l0[:, rnn:], self.rnn2.bias_ih_l0),
            F.linear(a3, self.fc1.weight[:, rnn:], self.fc1.bias),
            F.linear(a4, self.fc2.weight[:, fc_dims:], self.fc2.bias),
        )

    def step_products(
        self, batch: int, device: torch.device, precision: Precision, onednn: bool | None
    ) -> dict[str, StepProduct]:
        """The matrix products of the sample loop: hidden-to-hidden of both GRUs, rnn2's
        input from the state, fc1, fc2, fc3 (their conditioning shares are precomputed)."""
        if onednn is None:
            # For a single row BLAS's matrix-vector product is faster (measured: 0.56 against
            # 1.2 ms a step at full size); from two rows on oneDNN's is.
            onednn = device.type == "cpu" and batch > 1 and onednn_linear_available()
        rnn, fc_dims = self.config.rnn_dims, self.config.fc_dims
        parts = {
            "hh1": (self.rnn1.weight_hh_l0, self.rnn1.bias_hh_l0),
            "ih2": (self.rnn2.weight_ih_l0[:, :rnn], None),
            "hh2": (self.rnn2.weight_hh_l0, self.rnn2.bias_hh_l0),
            "fc1": (self.fc1.weight[:, :rnn], None),
            "fc2": (self.fc2.weight[:, :fc_dims], None),
            "fc3": (self.fc3.weight, self.fc3.bias),
        }
        products: dict[str, StepProduct] = {}
        for name, (weight, bias) in parts.items():
            try:
                products[name] = StepProduct(
                    weight, bias, batch, onednn=onednn, precision=precision
                )
            except RuntimeError as error:  # a oneDNN build that refuses this weight
                if not onednn:
                    raise
                log.debug("oneDNN linear unusable (%s): BLAS products instead", error)
                return self.step_products(batch, device, precision, onednn=False)
        return products

    def sample_sequence(
        self,
        mels: torch.Tensor,
        aux: torch.Tensor,
        deterministic: bool,
        *,
        precision: Precision = "float32",
        onednn: bool | None = None,
    ) -> torch.Tensor:
        """Autoregressive sampling: (N, L) samples in [-1, 1] on the mu-law scale.

        Nothing in the loop reads back from the device: the uniforms for sampling are
        drawn a chunk at a time, classes are drawn on the device (`sample_classes`) into a
        preallocated output, and the step works in place on its rows of the conditioning.
        onednn: use oneDNN's prepacked CPU linear (default: on the CPU when available and
        the batch has more than one row).
        """
        c = self.config
        batch, length, _ = mels.shape
        rnn = c.rnn_dims
        products = self.step_products(batch, mels.device, precision, onednn)
        hh1, ih2, hh2 = products["hh1"], products["ih2"], products["hh2"]
        fc1, fc2, fc3 = products["fc1"], products["fc2"], products["fc3"]
        # The previous sample's share of I's output and (through I) of rnn1's input gates.
        w_prev = self.I.weight[:, 0]
        w_prev = torch.cat([w_prev, F.linear(w_prev, self.rnn1.weight_ih_l0)])
        # The sample value of each class: what the next step sees as the previous sample.
        levels = torch.arange(c.n_classes, device=mels.device).to(mels.dtype)
        levels = levels * (2.0 / (c.n_classes - 1)) - 1.0

        labels = torch.empty(length, batch, dtype=torch.long, device=mels.device)
        h1 = mels.new_zeros(batch, rnn)
        h2 = mels.new_zeros(batch, rnn)
        previous = mels.new_zeros(batch, 1)
        chunk = max(1, c.max_precomputed_samples // batch)
        for start in range(0, length, chunk):
            cond = self.conditioning(mels[:, start : start + chunk], aux[:, start : start + chunk])
            steps = cond.gates2.size(0)
            uniforms = None if deterministic else torch.rand(steps, batch, 1, device=mels.device)
            for t in range(steps):
                i_gates1 = cond.i_gates1[t].addcmul_(previous, w_prev)
                x = i_gates1[:, :rnn]
                h1 = gru_update(i_gates1[:, rnn:], hh1(h1), h1)
                x = x.add_(h1)
                h2 = gru_update(ih2(x, cond.gates2[t]), hh2(h2), h2)
                x = x.add_(h2)
                x = fc1(x, cond.fc1[t]).relu_()
                x = fc2(x, cond.fc2[t]).relu_()
                logits = fc3(x)
                label = labels[start + t]
                if uniforms is None:
                    torch.argmax(logits, dim=1, out=label)
                else:
                    sample_classes(logits, uniforms[t], label)
                previous = levels.index_select(0, label).unsqueeze(1)
        return levels[labels.t()]

    def finish_waveform(self, y: np.ndarray, samples: int) -> np.ndarray:
        """Mu-law decode, de-emphasis, cut to `samples` and fade out the end; float32."""
        c = self.config
        wav = decode_mu_law(y.astype(np.float64), c.n_classes)
        if c.preemphasis:
            wav = lfilter([1.0], [1.0, -c.preemphasis], wav)
        wav = wav[:samples]
        fade = min(len(wav), c.fade_out_hops * c.hop_length)
        if fade:
            wav[len(wav) - fade :] *= np.linspace(1.0, 0.0, c.fade_out_hops * c.hop_length)[-fade:]
        return wav.astype(np.float32)

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
    ) -> list[np.ndarray]:
        """Waveforms for a batch of mel spectrograms, one float32 array each.

        mels: (B, feat_dims, frames), the synthesizer's mels already divided by 4 (so in
            [-1, 1]), on the model's device. lengths: valid frames of each (default: all).
            Waveform b has (lengths[b] - 1) * hop_length samples at config.sample_rate.
        batched: fold each sequence into segments of `target` samples with `overlap` on
            each side, all run as one batch, then cross-faded together (much faster;
            faint seams). Unbatched runs every sequence in one piece.
        deterministic: take the most likely class instead of sampling (conformance tests).
        precision: "bfloat16" runs the sample loop's matrix products on bfloat16 weights
            (opt-in: about twice as fast on CPUs with AVX512-BF16, but not the reference's
            numbers).
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
        output = self.sample_sequence(upsampled, aux, deterministic, precision=precision)
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
