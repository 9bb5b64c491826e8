"""Measure: int8 WaveRNN on a CPU whose kernel saturates, emulated, against float32.

    .venv/bin/python tests/sv2tts/bench/int8_saturation.py [recording]

The bench's full-size stand-in (random weights, output layer scaled to peaked predictions)
on 30 frames of a recording's mel (default: ../shared/audio/p240_00000.mp3). Prints the
log-spectral distance to float32 drawn with the same random numbers, for PyTorch's int8
kernel on this CPU and for the pair-saturating kernel of CPUs without VNNI
(`test_bench_cpu.PairSaturatingProduct`), each with 8- and 7-bit inputs. Minutes, not
seconds: the emulation is plain integer arithmetic.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_bench_cpu import PairSaturatingProduct

from sv2tts.audio import dsp
from sv2tts.audio.codec import decode_audio
from sv2tts.bench.cpu import PEAKED_LOGIT_SCALE, log_spectral_distance
from sv2tts.cpuinfo import cpu_info
from sv2tts.standins import random_vocoder
from sv2tts.vocoder import fast as vocoder_fast

DEFAULT = Path(__file__).resolve().parents[4] / "shared" / "audio" / "p240_00000.mp3"


def main() -> None:
    recording = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    warnings.simplefilter("ignore", UserWarning)
    print(cpu_info().describe(), f"{torch.get_num_threads()} threads", flush=True)
    model = random_vocoder(logit_scale=PEAKED_LOGIT_SCALE).eval()
    mel = torch.from_numpy(dsp.melspectrogram(decode_audio(recording))[:, 100:130] / 4.0)

    def run(precision: vocoder_fast.Precision, seed: int = 0) -> tuple[object, float]:
        torch.manual_seed(seed)
        start = time.perf_counter()
        wav = model.generate(mel, target=2000, overlap=200, precision=precision)
        return wav, time.perf_counter() - start

    reference, _ = run("float32")
    other, _ = run("float32", seed=1)
    print(f"float32, other random numbers: {log_spectral_distance(reference, other):.2f} dB")
    real = vocoder_fast.Int8StepProduct
    kernels = {"this CPU's kernel": real, "emulated saturating kernel": PairSaturatingProduct}
    try:
        for name, kernel in kernels.items():
            for reduce_range in (False, True):
                vocoder_fast.Int8StepProduct = (  # type: ignore[misc]
                    lambda w, b, _, k=kernel, r=reduce_range: k(w, b, r)
                )
                wav, seconds = run("int8")
                bits = 7 if reduce_range else 8
                lsd = log_spectral_distance(reference, wav)
                print(f"int8, {name}, {bits}-bit inputs: {lsd:.2f} dB ({seconds:.1f} s)")
    finally:
        vocoder_fast.Int8StepProduct = real  # type: ignore[misc]


if __name__ == "__main__":
    main()
