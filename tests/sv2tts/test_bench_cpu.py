"""The CPU benchmark's arithmetic: the peak from /proc/cpuinfo, FLOP counts, distances, int8."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.bench_cpu import (
    fold_rows_and_steps,
    log_spectral_distance,
    run_wavernn_rate,
    wavernn_step_flops,
)
from sv2tts.cpuinfo import cpu_info, flops_per_cycle, peak_gflops
from sv2tts.vocoder import VocoderConfig, WaveRNN, load_vocoder
from sv2tts.vocoder_fast import Int8StepProduct, StepProduct, int8_linear_available

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
def test_int8_product_stays_within_a_few_percent_of_float32() -> None:
    generator = torch.Generator().manual_seed(1)
    weight = torch.randn(1536, 512, generator=generator) / 512**0.5
    bias = torch.randn(1536, generator=generator)
    x = torch.randn(16, 512, generator=generator)
    rows = torch.randn(16, 1536, generator=generator)
    exact = StepProduct(weight, bias, 16, onednn=False)(x, rows.clone())
    quantized = Int8StepProduct(weight, bias)(x, rows.clone())
    error = (quantized - exact).norm() / (exact - rows).norm()
    assert 0.0 < float(error) < 0.03


@pytest.fixture(scope="module")
def tiny(reference_dir: Path) -> WaveRNN:
    config = VocoderConfig.from_dict(json.loads((reference_dir / "vocoder_tiny.json").read_text()))
    return load_vocoder(reference_dir / "vocoder_tiny.pt", config)


@needs_int8
def test_int8_generation_stays_close_to_float32(tiny: WaveRNN) -> None:
    torch.manual_seed(5)
    mel = torch.rand(80, 20) * 2 - 1
    options = {"target": 1000, "overlap": 100, "deterministic": True}
    exact = tiny.generate(mel, **options)
    quantized = tiny.generate(mel, precision="int8", **options)
    assert quantized.shape == exact.shape
    assert np.corrcoef(quantized, exact)[0, 1] > 0.9


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
