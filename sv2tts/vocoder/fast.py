"""WaveRNN's sample loop, made fast: the same recurrence as `WaveRNN.step_logits`, rearranged.

`sample_sequence(model, mels, aux, deterministic)` gives what `WaveRNN.sample_plain` gives
(a test pins the two together) with far less work per step:

- Every term of the step that depends only on the conditioning (the mel and auxiliary
  features), not on the previous sample, is computed for a whole chunk of samples at once
  (`conditioning`), time-major so that a step reads contiguous rows, and the loop works on
  those rows in place.
- rnn1's input is I's output, so both come from one product: rnn1's input gates go through
  the composed weight W_ih1 @ W_I (112 inputs at full size instead of 512), and the previous
  sample's share of both is one multiply-add.
- The remaining products (`StepProduct`) are prepacked for oneDNN on the CPU when PyTorch
  has it, which beats the BLAS product at the loop's small batches; only the summation order
  differs. Opt-in "bfloat16" runs them on bfloat16 copies (faster on CPUs with AVX512-BF16),
  opt-in "int8" on int8 weights with the inputs quantized per call (`Int8StepProduct`,
  CPU only): both faster, neither the reference's numbers (README, "Speed", measures both).
- Classes are drawn on the device by inverting the softmax's CDF with uniforms drawn a chunk
  ahead (`sample_classes`), so nothing in the loop reads back from the device.

The model is duck-typed (`WaveRNN` from sv2tts.vocoder.model): this module imports only torch,
the names in `sv2tts.choices` and the CPU's flags (`sv2tts.cpuinfo`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

import torch
import torch.nn.functional as F

from sv2tts.choices import PRECISIONS, Precision
from sv2tts.cpuinfo import CpuInfo, cpu_info

if TYPE_CHECKING:
    from sv2tts.vocoder.model import WaveRNN

log = logging.getLogger(__name__)


class Product(Protocol):
    def __call__(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor: ...


class Conditioning(NamedTuple):
    """Per-sample terms of the recurrent step that do not depend on the previous sample.

    Each (L, N, width), time-major: the conditioning's share of I's output and of rnn1's
    input gates side by side (with biases), of rnn2's input gates (with bias), of fc1 and
    of fc2 (with biases). The loop works in place on them.
    """

    i_gates1: torch.Tensor
    gates2: torch.Tensor
    fc1: torch.Tensor
    fc2: torch.Tensor


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

    On the CPU the weight may be prepacked for oneDNN (`onednn`); with precision "bfloat16"
    the product runs on bfloat16 copies of the weight and input and is accumulated back into
    float32.
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


def int8_linear_available() -> bool:
    """Whether PyTorch has its dynamically quantized CPU linear (fbgemm/x86 kernels)."""
    ops = torch.ops.quantized
    return (
        any(e in torch.backends.quantized.supported_engines for e in ("x86", "fbgemm"))
        and hasattr(ops, "linear_prepack")
        and hasattr(ops, "linear_dynamic")
    )


def int8_pairs_saturate(info: CpuInfo | None = None) -> bool:
    """Whether PyTorch's int8 kernels (fbgemm) would add the products of 8-bit inputs in
    pairs into 16-bit sums that saturate, on this CPU (or `info`'s).

    Without AVX512-VNNI, fbgemm multiplies the unsigned 8-bit inputs by the signed 8-bit
    weights with AVX2's (or AVX-512's) vpmaddubsw, which adds each two neighbouring products
    into a saturating 16-bit integer: 255 x 127 twice is 64770, past 32767. With the inputs
    quantized to 7 bits (0..127) no pair can pass it (2 x 127 x 127 = 32258). VNNI's
    vpdpbusd adds into 32 bits, where 8 bits are safe. Outside Linux the flags are unknown,
    and the answer is the safe one (yes).
    """
    info = info or cpu_info()
    return "avx512_vnni" not in info.flags


class Int8StepProduct:
    """The same product with the weight in int8 (one scale per output row) and the input
    quantized on the fly, per call (PyTorch's dynamic quantization kernels): to 8 bits where
    the CPU's kernel adds into 32 bits, to 7 (`reduce_range`) where it would saturate 16-bit
    pair sums (`int8_pairs_saturate` tells which).

    CPU only. PyTorch marks its quantized tensors deprecated (torchao is to take over), but
    the kernels are those of torch 2.13, which the project pins.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, reduce_range: bool) -> None:
        w = weight.detach().float().contiguous()
        scales = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        zero_points = torch.zeros(w.size(0), dtype=torch.long)
        self.reduce_range = reduce_range
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the deprecation notice, each time
            quantized = torch.quantize_per_channel(w, scales, zero_points, 0, torch.qint8)
            self.packed = torch.ops.quantized.linear_prepack(
                quantized, None if bias is None else bias.detach().float().contiguous()
            )

    def __call__(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        y = torch.ops.quantized.linear_dynamic(x, self.packed, self.reduce_range)
        return y if rows is None else y.add_(rows)


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


def conditioning(model: WaveRNN, mels: torch.Tensor, aux: torch.Tensor) -> Conditioning:
    """The step's terms that depend only on the conditioning, for every sample at once.

    mels (N, L, feat), aux (N, L, 4 * aux_dims); see `Conditioning` for the parts. The
    input order of every layer that sees an auxiliary part is [state, aux part]; I's is
    [previous sample, mel, aux part 1].
    """
    mels, aux = mels.transpose(0, 1), aux.transpose(0, 1)
    a1, a2, a3, a4 = aux.chunk(4, dim=2)
    rnn, fc_dims = model.config.rnn_dims, model.config.fc_dims
    w_i, b_i = model.I.weight[:, 1:], model.I.bias
    w_gates1 = model.rnn1.weight_ih_l0 @ w_i
    b_gates1 = F.linear(b_i, model.rnn1.weight_ih_l0, model.rnn1.bias_ih_l0)
    i_gates1 = F.linear(
        torch.cat([mels, a1], dim=2),
        torch.cat([w_i, w_gates1]),
        torch.cat([b_i, b_gates1]),
    )
    return Conditioning(
        i_gates1,
        F.linear(a2, model.rnn2.weight_ih_l0[:, rnn:], model.rnn2.bias_ih_l0),
        F.linear(a3, model.fc1.weight[:, rnn:], model.fc1.bias),
        F.linear(a4, model.fc2.weight[:, fc_dims:], model.fc2.bias),
    )


def step_products(
    model: WaveRNN, batch: int, device: torch.device, precision: Precision, onednn: bool | None
) -> dict[str, Product]:
    """The matrix products of the sample loop: hidden-to-hidden of both GRUs, rnn2's input
    from the state, fc1, fc2, fc3 (their conditioning shares are precomputed)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "int8" and (device.type != "cpu" or not int8_linear_available()):
        raise ValueError("precision 'int8' needs the CPU and PyTorch's quantized kernels")
    if onednn is None:
        # For a single row BLAS's matrix-vector product is the faster; from two rows on
        # oneDNN's prepacked one is.
        onednn = device.type == "cpu" and batch > 1 and onednn_linear_available()
    rnn, fc_dims = model.config.rnn_dims, model.config.fc_dims
    parts = {
        "hh1": (model.rnn1.weight_hh_l0, model.rnn1.bias_hh_l0),
        "ih2": (model.rnn2.weight_ih_l0[:, :rnn], None),
        "hh2": (model.rnn2.weight_hh_l0, model.rnn2.bias_hh_l0),
        "fc1": (model.fc1.weight[:, :rnn], None),
        "fc2": (model.fc2.weight[:, :fc_dims], None),
        "fc3": (model.fc3.weight, model.fc3.bias),
    }
    if precision == "int8":
        reduce_range = int8_pairs_saturate()
        return {
            name: Int8StepProduct(weight, bias, reduce_range)
            for name, (weight, bias) in parts.items()
        }
    products: dict[str, Product] = {}
    for name, (weight, bias) in parts.items():
        try:
            products[name] = StepProduct(weight, bias, batch, onednn=onednn, precision=precision)
        except RuntimeError as error:  # a oneDNN build that refuses this weight
            if not onednn:
                raise
            log.debug("oneDNN linear unusable (%s): BLAS products instead", error)
            return step_products(model, batch, device, precision, onednn=False)
    return products


def sample_sequence(
    model: WaveRNN,
    mels: torch.Tensor,
    aux: torch.Tensor,
    deterministic: bool,
    *,
    precision: Precision = "float32",
    onednn: bool | None = None,
    forced: torch.Tensor | None = None,
    progress: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """Autoregressive sampling: (N, L) samples in [-1, 1] on the mu-law scale.

    mels (N, L, feat) and aux (N, L, res_out): the upsample network's per-sample outputs.
    deterministic: the most likely class at each step instead of a draw. onednn: use
    oneDNN's prepacked CPU linear (default: on the CPU when available and the batch has more
    than one row). forced: (N, L) class labels fed back in place of the chosen ones (teacher
    forcing): every step then chooses from the same history, so that two precisions can be
    compared step by step, without one early difference changing all that follows. The
    samples returned are still the chosen ones. progress: told the share of the steps done
    after each chunk of precomputed conditioning (a few dozen calls a run, not one a step).
    """
    c = model.config
    batch, length, _ = mels.shape
    rnn = c.rnn_dims
    if forced is not None and forced.shape != (batch, length):
        raise ValueError(f"forced labels {tuple(forced.shape)} do not fit {batch} x {length}")
    products = step_products(model, batch, mels.device, precision, onednn)
    hh1, ih2, hh2 = products["hh1"], products["ih2"], products["hh2"]
    fc1, fc2, fc3 = products["fc1"], products["fc2"], products["fc3"]
    # The previous sample's share of I's output and (through I) of rnn1's input gates.
    w_prev = model.I.weight[:, 0]
    w_prev = torch.cat([w_prev, F.linear(w_prev, model.rnn1.weight_ih_l0)])
    levels = model.class_levels(mels.device, mels.dtype)

    labels = torch.empty(length, batch, dtype=torch.long, device=mels.device)
    h1 = mels.new_zeros(batch, rnn)
    h2 = mels.new_zeros(batch, rnn)
    previous = mels.new_zeros(batch, 1)
    chunk = max(1, c.max_precomputed_samples // batch)
    for start in range(0, length, chunk):
        cond = conditioning(model, mels[:, start : start + chunk], aux[:, start : start + chunk])
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
            fed = label if forced is None else forced[:, start + t]
            previous = levels.index_select(0, fed).unsqueeze(1)
        if progress is not None:
            progress((start + steps) / length)
    return levels[labels.t()]
