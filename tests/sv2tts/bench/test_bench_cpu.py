"""The CPU benchmark's arithmetic: the peak from /proc/cpuinfo, FLOP counts, distances, int8."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.bench.cpu import (
    fold_rows_and_steps,
    log_spectral_distance,
    run_wavernn_rate,
    wavernn_step_flops,
)
from sv2tts.cpuinfo import cpu_info, flops_per_cycle, peak_gflops
from sv2tts.vocoder import fast as vocoder_fast
from sv2tts.vocoder.fast import (
    Int8StepProduct,
    StepProduct,
    int8_linear_available,
    int8_pairs_saturate,
    sample_sequence,
)
from sv2tts.vocoder.model import VocoderConfig, WaveRNN, load_vocoder

pytestmark = pytest.mark.usefixtures("single_thread")

needs_int8 = pytest.mark.skipif(not int8_linear_available(), reason="no quantized CPU kernels")


def fake_cpuinfo(tmp_path: Path, vendor: str, family: int, model: int, flags: str) -> Path:
    path = tmp_path / f"cpuinfo-{family}-{model}"
    path.write_text(
        f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n"
        f"model name\t: Test CPU\ncpu MHz\t\t: 2000.000\nflags\t\t: {flags}\n\n"
        "processor\t: 1\nvendor_id\t: Other\n"
    )
    return path


@pytest.mark.parametrize(
    ("vendor", "family", "model", "flags", "per_cycle"),
    [
        ("AuthenticAMD", 0x17, 0x01, "sse2 avx avx2 fma", 16),  # Zen: 128-bit units
        ("AuthenticAMD", 0x17, 0x31, "sse2 avx avx2 fma", 32),  # Zen 2
        ("AuthenticAMD", 0x19, 0x11, "sse2 avx avx2 fma avx512f", 32),  # Zen 4: 2 x 256
        ("AuthenticAMD", 0x1A, 0x02, "sse2 avx avx2 fma avx512f", 64),  # Zen 5
        ("GenuineIntel", 6, 0x55, "sse2 avx avx2 fma avx512f", 64),
        ("GenuineIntel", 6, 0x3C, "sse2 avx avx2 fma", 32),
        ("GenuineIntel", 6, 0x17, "sse2", 8),
    ],
)
def test_peak_comes_from_the_flags_the_clock_and_the_threads(
    tmp_path: Path, vendor: str, family: int, model: int, flags: str, per_cycle: int
) -> None:
    info = cpu_info(fake_cpuinfo(tmp_path, vendor, family, model, flags))
    assert (info.vendor, info.family, info.model_number) == (vendor, family, model)
    assert info.model == "Test CPU" and info.mhz == 2000.0
    assert flops_per_cycle(info) == per_cycle
    threads = min(2, info.cores)
    assert peak_gflops(info, threads) == pytest.approx(threads * 2.0 * per_cycle)


def test_this_machine_is_described() -> None:
    info = cpu_info()
    assert info.cores >= 1 and info.describe()


def test_step_flops_count_every_product_of_the_full_size_loop() -> None:
    # Per row and sample: 3 GRU products of 1536 x 512, fc1..fc3 of 512 x 512; the
    # conditioning: I and rnn1's gates (2048 x 112), rnn2's (1536 x 32), fc1's and fc2's
    # (512 x 32 each); 2 FLOP per multiply-add.
    expected = 2 * (3 * 1536 * 512 + 3 * 512 * 512 + 2048 * 112 + 1536 * 32 + 2 * 512 * 32)
    assert wavernn_step_flops(VocoderConfig()) == expected
    assert fold_rows_and_steps(72000, 2000, 200) == (33, 2400)


def test_log_spectral_distance_is_zero_for_the_same_signal_and_grows_with_change() -> None:
    rng = np.random.default_rng(0)
    wav = rng.standard_normal(16000).astype(np.float32)
    assert log_spectral_distance(wav, wav) == 0.0
    slightly = log_spectral_distance(wav, wav + 0.01 * rng.standard_normal(16000))
    very = log_spectral_distance(wav, rng.standard_normal(16000))
    assert 0.0 < slightly < very


@needs_int8
@pytest.mark.parametrize("reduce_range", [False, True])
def test_int8_product_stays_within_a_few_percent_of_float32(reduce_range: bool) -> None:
    generator = torch.Generator().manual_seed(1)
    weight = torch.randn(1536, 512, generator=generator) / 512**0.5
    bias = torch.randn(1536, generator=generator)
    x = torch.randn(16, 512, generator=generator)
    rows = torch.randn(16, 1536, generator=generator)
    exact = StepProduct(weight, bias, 16, onednn=False)(x, rows.clone())
    quantized = Int8StepProduct(weight, bias, reduce_range)(x, rows.clone())
    error = (quantized - exact).norm() / (exact - rows).norm()
    assert 0.0 < float(error) < 0.03


@pytest.mark.parametrize(
    ("flags", "saturate"),
    [
        ("sse2 avx avx2 fma", True),  # AVX2 only: vpmaddubsw
        ("sse2 avx avx2 fma avx512f avx512bw", True),  # AVX-512 without VNNI: the same
        ("sse2 avx avx2 fma avx512f avx512bw avx512_vnni", False),  # vpdpbusd, 32-bit sums
        ("", True),  # unknown: the safe answer
    ],
)
def test_inputs_are_quantized_to_7_bits_where_the_kernel_would_saturate(
    tmp_path: Path, flags: str, saturate: bool
) -> None:
    info = cpu_info(fake_cpuinfo(tmp_path, "GenuineIntel", 6, 0x55, flags))
    assert int8_pairs_saturate(info) is saturate


class PairSaturatingProduct:
    """What fbgemm computes without VNNI, in integers: `Int8StepProduct`'s quantization,
    then each two neighbouring input x weight products added into a saturating int16.
    (Also used by tests/sv2tts/bench/int8_saturation.py, which measures it on the full size.)"""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, reduce_range: bool):
        w = weight.detach().double()
        self.scales = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12)
        q = torch.round(w / self.scales[:, None]).int()
        self.even, self.odd = q[:, 0::2].contiguous(), q[:, 1::2].contiguous()
        self.weight_sums = q.sum(1).double()
        self.bias = None if bias is None else bias.detach().double()
        self.top = 127 if reduce_range else 255

    def __call__(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        low, high = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
        scale = (high - low) / self.top or 1.0
        zero = round(-low / scale)
        q = torch.clamp(torch.round(x.double() / scale) + zero, 0, self.top).int()
        pairs = q[:, None, 0::2] * self.even[None] + q[:, None, 1::2] * self.odd[None]
        sums = pairs.clamp_(-32768, 32767).sum(-1, dtype=torch.int64).double()
        y = (sums - zero * self.weight_sums) * scale * self.scales
        y = (y if self.bias is None else y + self.bias).float()
        return y if rows is None else y.add_(rows)


@pytest.fixture(scope="module")
def tiny(reference_dir: Path) -> WaveRNN:
    config = VocoderConfig.from_dict(json.loads((reference_dir / "vocoder_tiny.json").read_text()))
    return load_vocoder(reference_dir / "vocoder_tiny.pt", config)


def _labels(model: WaveRNN, samples: torch.Tensor) -> torch.Tensor:
    """The class of each sample in [-1, 1] (the inverse of `class_levels`)."""
    return torch.round((samples + 1.0) * (model.config.n_classes - 1) / 2).long()


def _int8_agreement(model: WaveRNN) -> tuple[float, float]:
    """How often int8 steps choose float32's class, fed float32's own history (teacher
    forcing); and, as a floor, how often float32 does, fed a history not its own.

    Free-running, one argmax that flips on a near tie sends the recurrence elsewhere and
    every later sample with it; fed the same history, each step is compared on its own."""
    torch.manual_seed(5)
    mels = torch.rand(3, 80, 6) * 2 - 1
    pad = model.config.pad
    with torch.inference_mode():
        mels_up, aux = model.upsample(torch.nn.functional.pad(mels, (pad, pad)))
        exact = sample_sequence(model, mels_up, aux, True)
        labels = _labels(model, exact)
        # Forcing a loop with its own choices changes nothing ...
        assert torch.equal(sample_sequence(model, mels_up, aux, True, forced=labels), exact)
        quantized = sample_sequence(model, mels_up, aux, True, precision="int8", forced=labels)
        # ... and a history that is not the loop's own changes what it chooses.
        other = sample_sequence(model, mels_up, aux, True, forced=labels.roll(97, dims=1))
    assert len(torch.unique(labels)) >= 3  # a signal, not a constant
    agree = float((_labels(model, quantized) == labels).float().mean())
    return agree, float((_labels(model, other) == labels).float().mean())


@needs_int8
def test_int8_steps_choose_what_float32_chooses_from_the_same_history(tiny: WaveRNN) -> None:
    agree, floor = _int8_agreement(tiny)
    assert agree > 0.95 and agree > floor, (agree, floor)


@needs_int8
@pytest.mark.parametrize("reduce_range", [False, True])
def test_7_bit_inputs_keep_int8_close_on_a_kernel_that_saturates(
    tiny: WaveRNN, monkeypatch: pytest.MonkeyPatch, reduce_range: bool
) -> None:
    # A CPU without VNNI (CI's first-generation EPYC), emulated: with 8-bit inputs the
    # saturated pair sums made int8 choose float32's class at only 82 % of these steps.
    monkeypatch.setattr(
        vocoder_fast,
        "Int8StepProduct",
        lambda weight, bias, _: PairSaturatingProduct(weight, bias, reduce_range),
    )
    agree, floor = _int8_agreement(tiny)
    if reduce_range:
        assert agree > 0.95 and agree > floor, (agree, floor)
    else:
        assert agree < 0.9, agree


@needs_int8
def test_rate_rows_report_every_precision_against_float32(tiny: WaveRNN) -> None:
    mel = torch.rand(80, 12, generator=torch.Generator().manual_seed(2)) * 2 - 1
    rows, sampling = run_wavernn_rate(tiny, mel, ("float32", "int8"), target=600, overlap=100)
    assert [row.precision for row in rows] == ["float32", "int8"]
    assert rows[0].lsd_db == 0.0  # float32 against itself, the same random numbers
    assert sampling > 0.0  # other random numbers, another waveform
    for row in rows:
        assert row.seconds > 0 and row.gflops > 0
        assert row.audio_seconds == pytest.approx(11 * 200 / 16000)
