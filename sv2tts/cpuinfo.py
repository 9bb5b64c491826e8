"""What CPU a benchmark runs on, and the most floating-point work it could do per second.

`cpu_info()` reads /proc/cpuinfo (Linux; elsewhere only what `platform` knows), so that
every benchmark can print the model it ran on: figures from different machines differ by
two or three times for the same code, and are only comparable as ratios within one run.

`peak_gflops(info, threads)` is the theoretical float32 peak: threads x clock x FLOP per
cycle per core. The FLOP per cycle assume two fused multiply-add units per core (2 FLOP
each per lane), as wide as the widest vector extension in the flags (AVX-512: 16 float32
lanes, AVX2 with FMA: 8, else 4), corrected where the datapath is known to be narrower
than the instructions: AMD's first Zen generations (family 17h, models below 30h) run
256-bit operations on 128-bit units, Zen 4 (family 19h with AVX-512) runs 512-bit ones on
256-bit units. The clock is the one /proc/cpuinfo reports, which in a virtual machine is the
nominal clock: a core that boosts above it can beat this "peak", which is why benchmarks
also measure a large matrix product (`sv2tts.bench.cpu.gemm_gflops`) as a practical
ceiling.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True, slots=True)
class CpuInfo:
    model: str
    vendor: str
    family: int | None
    model_number: int | None
    flags: frozenset[str]
    cores: int  # logical CPUs this process may run on
    mhz: float | None  # as /proc/cpuinfo reports it

    def describe(self) -> str:
        clock = f", {self.mhz / 1000:.2f} GHz reported" if self.mhz else ""
        family = f" (family {self.family:#x}, model {self.model_number:#x})" if self.family else ""
        return f"{self.model}{family}, {self.cores} CPUs{clock}, {vector_extension(self)}"


def cpu_info(path: Path = CPUINFO) -> CpuInfo:
    """The CPU this process runs on (the first processor entry of /proc/cpuinfo)."""
    fields: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return CpuInfo(
        model=fields.get("model name") or platform.processor() or platform.machine(),
        vendor=fields.get("vendor_id", ""),
        family=_int(fields.get("cpu family")),
        model_number=_int(fields.get("model")),
        flags=frozenset(fields.get("flags", "").split()),
        cores=cores,
        mhz=_float(fields.get("cpu MHz")),
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def vector_extension(info: CpuInfo) -> str:
    if "avx512f" in info.flags:
        return "AVX-512"
    if "avx2" in info.flags and "fma" in info.flags:
        return "AVX2+FMA"
    if "avx" in info.flags:
        return "AVX"
    return "SSE" if "sse2" in info.flags else "unknown vector unit"


def float32_lanes(info: CpuInfo) -> int:
    """float32 lanes of one FMA unit, as wide as the datapath really is."""
    extension = vector_extension(info)
    lanes = {"AVX-512": 16, "AVX2+FMA": 8, "AVX": 8}.get(extension, 4)
    amd = info.vendor == "AuthenticAMD"
    if amd and info.family == 0x17 and (info.model_number or 0) < 0x30:
        lanes = min(lanes, 4)  # Zen, Zen+: 128-bit units
    if amd and info.family == 0x19 and extension == "AVX-512":
        lanes = 8  # Zen 4: AVX-512 on 256-bit units
    return lanes


def flops_per_cycle(info: CpuInfo) -> int:
    """Peak float32 FLOP per cycle per core: 2 FMA units x lanes x 2 (multiply and add);
    without FMA, one multiply and one add unit."""
    lanes = float32_lanes(info)
    has_fma = "fma" in info.flags or "avx512f" in info.flags
    return 2 * lanes * 2 if has_fma else 2 * lanes


def peak_gflops(info: CpuInfo, threads: int) -> float | None:
    """Theoretical float32 GFLOP/s of `threads` cores at the reported clock (None: no clock)."""
    if not info.mhz:
        return None
    return min(threads, info.cores) * info.mhz / 1000 * flops_per_cycle(info)
