"""WaveRNN on the CPU: how far its sample loop runs from the machine's limit, per precision.

For each precision of the sample loop's matrix products (float32, bfloat16, int8) on the
same mel spectrogram: seconds, real-time factor, the floating-point rate achieved, and how
far the output is from float32's.

- The rate counts the multiply-adds of the loop's matrix products and of the conditioning
  products computed per chunk (2 FLOP each; the element-wise gate arithmetic, the sampling
  and the upsample network, together under 1 % of it, are left out), over the wall time of
  `WaveRNN.generate`. It is set against the theoretical peak (`sv2tts.cpuinfo`) and against
  a measured large float32 matrix product on the same threads (`gemm_gflops`), the
  practical ceiling. For bfloat16 and int8 it is the float32 work they stand in for: a
  rate above float32's ceiling is what the narrower arithmetic buys.
- The distance is the log-spectral distance (`log_spectral_distance`, dB) to the float32
  output drawn with the same random numbers, next to the distance between two float32
  runs with different random numbers (what sampling alone changes).

Random full-size weights predict an almost uniform distribution over the 512 classes
(entropy 9 bits), where any rounding of the products changes nothing audible. So, when the
real weights are absent, the stand-in's output layer is scaled (`standins.random_vocoder`,
`logit_scale`) until the predicted distribution is about as peaked as a trained vocoder's
(about 3 bits), which makes the logits, and their quantization errors, as large.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import librosa
import numpy as np
import torch
import torch.nn.functional as F

from sv2tts.choices import Precision
from sv2tts.cpuinfo import CpuInfo, peak_gflops
from sv2tts.vocoder.fast import StepProduct, onednn_linear_available
from sv2tts.vocoder.model import VocoderConfig, WaveRNN

# Scale of the stand-in's output layer that gives a predicted entropy of about 3 bits.
PEAKED_LOGIT_SCALE = 300.0


def wavernn_step_flops(config: VocoderConfig) -> int:
    """FLOP per sample and fold row of the sample loop's products (see the module doc)."""
    rnn, fc, aux = config.rnn_dims, config.fc_dims, config.aux_dims
    loop = 3 * (3 * rnn * rnn) + fc * rnn + fc * fc + config.n_classes * fc
    conditioning = 4 * rnn * (config.feat_dims + aux) + 3 * rnn * aux + 2 * fc * aux
    return 2 * (loop + conditioning)


def fold_rows_and_steps(samples: int, target: int, overlap: int) -> tuple[int, int]:
    """(folds, steps per fold) of batched generation over `samples` samples."""
    folds = max(1, -(-(samples - overlap) // (target + overlap)))
    return folds, target + 2 * overlap


def gemm_gflops(size: int = 1024, seconds: float = 2.0) -> float:
    """float32 GFLOP/s of a large square matrix product on torch's current threads: the
    faster of BLAS's (`torch.mm`) and oneDNN's prepacked linear, the kernel the sample loop
    uses (on AMD CPUs the BLAS that PyTorch ships takes a slower path)."""
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator)
    b = torch.rand(size, size, generator=generator)
    out = torch.empty(size, size)
    candidates = [lambda: torch.mm(a, b, out=out)]
    if onednn_linear_available():
        product = StepProduct(b, None, size, onednn=True)
        candidates.append(lambda: product(a))
    rates = []
    for run in candidates:
        run()
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / len(candidates):
            run()
            runs += 1
        rates.append(2 * size**3 * runs / (time.perf_counter() - start) / 1e9)
    return max(rates)


def log_spectral_distance(a: np.ndarray, b: np.ndarray, n_fft: int = 800, hop: int = 200) -> float:
    """Mean over frames of the RMS difference of the two power spectra, in dB."""
    n = min(len(a), len(b))
    spectra = [
        np.abs(librosa.stft(np.asarray(w[:n], dtype=np.float32), n_fft=n_fft, hop_length=hop)) ** 2
        + 1e-10
        for w in (a, b)
    ]
    difference = 10 * np.log10(spectra[0]) - 10 * np.log10(spectra[1])
    return float(np.mean(np.sqrt(np.mean(difference**2, axis=0))))


def predicted_entropy_bits(vocoder: WaveRNN, mel: torch.Tensor, frames: int = 10) -> float:
    """Mean entropy of the predicted class distribution, teacher-forced on its own plain
    samples over the first `frames` frames of `mel` (feat, frames)."""
    mel = mel[:, :frames].unsqueeze(0)
    pad = vocoder.config.pad
    with torch.inference_mode():
        up, aux = vocoder.upsample(F.pad(mel, (pad, pad)))
        samples = vocoder.sample_plain(up, aux, deterministic=False)
        probabilities = vocoder(F.pad(samples[:, :-1], (1, 0)), mel).softmax(dim=-1)
        entropy = -(probabilities * probabilities.clamp_min(1e-12).log2()).sum(dim=-1)
    return float(entropy.mean())


@dataclass(frozen=True, slots=True)
class RateRow:
    precision: Precision
    seconds: float
    audio_seconds: float
    gflops: float
    lsd_db: float  # to float32's output with the same random numbers


def run_wavernn_rate(
    vocoder: WaveRNN,
    mel: torch.Tensor,
    precisions: Sequence[Precision] = ("float32", "bfloat16", "int8"),
    *,
    target: int = 2000,
    overlap: int = 200,
    repeat: int = 1,
    seed: int = 0,
) -> tuple[list[RateRow], float]:
    """One row per precision (fastest of `repeat`), and the float32 run-to-run distance.

    mel: (feat, frames), already divided by 4. Every run draws the same random numbers. The
    precisions take turns within each repeat, so that a machine busy for a while slows them
    alike.
    """

    def generate(precision: Precision, run_seed: int) -> tuple[float, np.ndarray]:
        torch.manual_seed(run_seed)
        start = time.perf_counter()
        wav = vocoder.generate(mel, target=target, overlap=overlap, precision=precision)
        return time.perf_counter() - start, wav

    flops_per = wavernn_step_flops(vocoder.config)
    outputs: dict[Precision, np.ndarray] = {}
    best: dict[Precision, float] = {}
    order: list[Precision] = ["float32", *[p for p in precisions if p != "float32"]]
    for precision in order:
        generate(precision, seed)  # first-call allocations, prepacking
    for _ in range(max(1, repeat)):
        for precision in order:
            seconds, outputs[precision] = generate(precision, seed)
            best[precision] = min(best.get(precision, seconds), seconds)
    _, other_draws = generate("float32", seed + 1)
    reference = outputs["float32"]
    # The folds cover the upsampled mel: one hop of samples per frame.
    rows, steps = fold_rows_and_steps(mel.size(1) * vocoder.config.hop_length, target, overlap)
    table = [
        RateRow(
            precision=p,
            seconds=best[p],
            audio_seconds=len(outputs[p]) / vocoder.config.sample_rate,
            gflops=rows * steps * flops_per / best[p] / 1e9,
            lsd_db=log_spectral_distance(reference, outputs[p]),
        )
        for p in outputs
        if p in precisions
    ]
    return table, log_spectral_distance(reference, other_draws)


def format_rate_table(
    rows: Sequence[RateRow],
    sampling_lsd: float,
    info: CpuInfo,
    threads: int,
    ceiling: float,
) -> str:
    """Markdown: the rate against the peak and the measured ceiling, and the distances."""
    peak = peak_gflops(info, threads)
    peak_text = f"{peak:.0f}" if peak else "unknown"
    lines = [
        f"WaveRNN sample loop on {threads} thread(s); float32 peak {peak_text} GFLOP/s "
        f"(reported clock x FLOP/cycle, sv2tts.cpuinfo), measured matrix product "
        f"{ceiling:.0f} GFLOP/s",
        "",
        "| precision | audio s | vocoder s (RTF) | GFLOP/s | of peak | of matrix product "
        "| LSD to float32, dB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        of_peak = f"{row.gflops / peak:.1%}" if peak else "-"
        lines.append(
            f"| {row.precision} | {row.audio_seconds:.2f} "
            f"| {row.seconds:.2f} ({row.seconds / row.audio_seconds:.2f}) | {row.gflops:.1f} "
            f"| {of_peak} | {row.gflops / ceiling:.1%} | {row.lsd_db:.2f} |"
        )
    lines.append(
        f"\nLSD between two float32 runs with different random numbers: {sampling_lsd:.2f} dB"
    )
    return "\n".join(lines)
