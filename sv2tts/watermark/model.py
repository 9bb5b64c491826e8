"""An inaudible watermark on the speech this project makes, and its detector.

The network is PerthNet ("PERceptual THreshold"), Resemble AI's implicit neural watermarker,
with the trained weights that the `resemble-perth` wheel (MIT) ships inside itself
(`perth/perth_net/pretrained/implicit/`: hyper-parameters and a 37 MB checkpoint), so it
works offline. It works on the magnitude spectrogram at 32 kHz: an encoder adds a learned
residual to the band under 2 kHz (where speech carries its energy, so lossy codecs keep it);
a decoder reads a single number from a spectrogram, about 1 for marked audio and about 0 for
any other. There is no payload: the mark says "made by this network", which is what `/check`
asks.

Why the network is rebuilt here and not imported: the package's inference module imports
`torchaudio` (for an STFT and its inverse) and `pkg_resources`. PyPI's torchaudio is a CUDA
build (it fails to load without libc10_cuda.so next to our CPU torch), and `pkg_resources`
is gone from setuptools 81 on, so `perth.PerthImplicitWatermarker` is None here. What we take
from the package is what cannot be rebuilt, the trained weights; the code around them is
short and follows `perth_net_implicit` line for line (its encoder, multi-scale decoder, the
dB normalisation of magnitudes), with torch.stft/istft in place of torchaudio's Spectrogram
and InverseSpectrogram (which are those calls with the same arguments). The checkpoint is
loaded strictly: a key or shape that does not match stops the load.

    marker = load_watermarker()                 # once per worker process
    marked = marker.apply(wav, 16000)           # same length, inaudible difference
    marker.confidence(marked, 16000)            # ~1.0; unmarked audio ~0.0

The finishing ladder (sv2tts/finish.py) puts it on every voice note the worker sends and on
what `python -m sv2tts say` writes (unless `--no-watermark`); the worker's `/check` reads it.

`python -m sv2tts.bench.watermark` prints its cost per second of audio on this CPU and how
well it is found after re-encoding to Opus and MP3 (README, "Watermark").
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn
from torch.nn import functional as F

from sv2tts.audio import dsp
from sv2tts.choices import WatermarkVerdict

log = logging.getLogger(__name__)

PACKAGE = "perth"  # the import name of the resemble-perth wheel
RUN = "implicit"
CHECKPOINT = "perth_net_250000.pth.tar"
# The decoder's output is clipped into [0, 1]; perth rounds it, so 0.5 is its own boundary.
# `/check` answers in three words, not two: marked audio scores 0.97-1.0 and unmarked
# 0.00-0.07 even after Opus and MP3 (README, "Watermark"), so what falls between is a trace
# that is neither, and the user is told that rather than a coin toss.
DETECTION_THRESHOLD = 0.5
FOUND_AT = 0.8
ABSENT_BELOW = 0.2

# What `/check` says about a recording (the worker's contract names the same three words).


class WatermarkUnavailable(RuntimeError):
    """The resemble-perth wheel (the trained weights) is not installed or is incomplete."""


@dataclass(frozen=True, slots=True)
class PerthConfig:
    """The hyper-parameters in the wheel's `hparams.yaml` that inference depends on."""

    sample_rate: int = 32000
    n_fft: int = 2048
    hop_size: int = 320
    window_size: int = 2048
    stft_magnitude_min: float = 1e-9
    max_wmark_freq: float = 2000.0
    hidden_size: int = 256
    window_fn: str = "hann"

    @property
    def subband(self) -> int:
        """Frequency bins the watermark lives in: those under `max_wmark_freq`."""
        bins = self.n_fft // 2 + 1
        return round(bins * self.max_wmark_freq / (self.sample_rate / 2))


# --- the network, as perth_net_implicit/model defines it -------------------------------------


class Conv(nn.Module):
    """A 'same' 1-D convolution over time, LeakyReLU after it unless `act` is false."""

    def __init__(self, i: int, o: int, k: int, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv1d(i, o, k, padding=(k - 1) // 2)
        self.act = nn.LeakyReLU() if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.act(x) if self.act is not None else x


def conv_stack(i: int, hidden: int, o: int) -> nn.Sequential:
    return nn.Sequential(
        Conv(i, hidden, 1), *[Conv(hidden, hidden, 7) for _ in range(5)], Conv(hidden, o, 1, False)
    )


def loud_frames(magspec: torch.Tensor, share: float = 0.05) -> torch.Tensor:
    """(B, T) 1.0 where a frame's summed magnitude exceeds `share` of the loudest frame's:
    the frames that carry (and are read for) the mark; silence is left alone."""
    energy = magspec.sum(dim=1)
    return (energy > energy.max(dim=1).values[:, None] * share).float()


class Encoder(nn.Module):
    """Adds the watermark to a normalised magnitude spectrogram, as a learned residual."""

    def __init__(self, hidden: int, subband: int) -> None:
        super().__init__()
        self.subband = subband
        self.layers = conv_stack(subband, hidden, subband)

    def forward(self, magspec: torch.Tensor) -> torch.Tensor:
        marked = magspec.clone()
        mask = loud_frames(magspec)[:, None]
        marked[:, : self.subband] += self.layers(magspec[:, : self.subband]) * mask
        return marked


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum(dim=2) / mask.sum(dim=2)


class Decoder(nn.Module):
    """One confidence per spectrogram, read at three time scales (the spectrogram stretched
    by 1.25, as is, squeezed by 0.75: robust to a changed tempo) and combined by attention."""

    SCALES = (("slow_layers", 1.25), ("normal_layers", 1.0), ("fast_layers", 0.75))

    def __init__(self, hidden: int, subband: int) -> None:
        super().__init__()
        self.subband = subband
        self.slow_layers = conv_stack(subband, hidden, 2)
        self.normal_layers = conv_stack(subband, hidden, 2)
        self.fast_layers = conv_stack(subband, hidden, 2)

    def forward(self, magspec: torch.Tensor) -> torch.Tensor:
        mask = loud_frames(magspec)[:, None]
        band = magspec[:, : self.subband]
        frames = band.shape[2]
        attentions, marks = [], []
        for name, scale in self.SCALES:
            scaled = band
            if scale != 1.0:
                scaled = F.interpolate(
                    band, size=int(frames * scale), mode="linear", align_corners=True
                )
            out = getattr(self, name)(scaled)  # (B, 2, T'): attention logit, mark
            scaled_mask = F.interpolate(mask, size=out.shape[2], mode="nearest")
            attentions.append(_masked_mean(out[:, :1], scaled_mask))
            marks.append(_masked_mean(out[:, 1:], scaled_mask))
        weights = F.softmax(torch.cat(attentions, dim=1), dim=1)
        return (torch.cat(marks, dim=1) * weights).sum(dim=1)


class PerthNet(nn.Module):
    def __init__(self, hp: PerthConfig) -> None:
        super().__init__()
        self.hp = hp
        self.encoder = Encoder(hp.hidden_size, hp.subband)
        self.decoder = Decoder(hp.hidden_size, hp.subband)


# --- signals to normalised magnitudes and back (perth_net_implicit/utils.py) ------------------

HEADROOM_DB = 15.0


class Spectra:
    """STFT magnitude (dB, normalised to about [0, 1]) and phase, and back, at hp's sizes."""

    def __init__(self, hp: PerthConfig) -> None:
        if hp.window_fn != "hann":
            raise WatermarkUnavailable(f"window {hp.window_fn!r} is not supported")
        self.hp = hp
        self.window = torch.hann_window(hp.window_size)
        self.floor_db = 20.0 * float(np.log10(hp.stft_magnitude_min))

    def magphase(self, signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = torch.stft(
            signal,
            n_fft=self.hp.n_fft,
            hop_length=self.hp.hop_size,
            win_length=self.hp.window_size,
            window=self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        db = 20.0 * torch.log10(spec.abs().clip(self.hp.stft_magnitude_min))
        return (db - self.floor_db) / (HEADROOM_DB - self.floor_db), torch.angle(spec)

    def signal(self, magspec: torch.Tensor, phase: torch.Tensor, length: int) -> torch.Tensor:
        db = magspec * (HEADROOM_DB - self.floor_db) + self.floor_db
        magnitude = 10.0 ** (db / 20.0).clip(max=10.0)
        return torch.istft(
            magnitude * torch.exp(1j * phase),
            n_fft=self.hp.n_fft,
            hop_length=self.hp.hop_size,
            win_length=self.hp.window_size,
            window=self.window,
            center=True,
            normalized=False,
            onesided=True,
            length=length,
        )


# --- the watermarker -------------------------------------------------------------------------


class Watermarker:
    """PerthNet on the CPU: `apply` marks a waveform, `confidence` reads the mark."""

    def __init__(self, net: PerthNet) -> None:
        self.net = net.eval()
        self.hp = net.hp
        self.spectra = Spectra(net.hp)

    def apply(self, wav: np.ndarray, sample_rate: int) -> np.ndarray:
        """`wav` (float32 mono) with the watermark, at the same rate and length."""
        samples = np.asarray(wav, dtype=np.float32).reshape(-1)
        if samples.size < self.hp.n_fft:  # too short to carry (or need) a mark
            return samples.copy()
        upsampled = dsp.resample(samples, sample_rate, self.hp.sample_rate)
        with torch.inference_mode():
            signal = torch.from_numpy(np.ascontiguousarray(upsampled))
            magspec, phase = self.spectra.magphase(signal)
            marked = self.net.encoder(magspec[None])[0]
            out = self.spectra.signal(marked, phase, signal.shape[0]).numpy()
        back = dsp.resample(out.astype(np.float32), self.hp.sample_rate, sample_rate)
        result = np.zeros_like(samples)
        result[: min(back.size, samples.size)] = back[: samples.size]
        return result

    def confidence(self, wav: np.ndarray, sample_rate: int) -> float:
        """How sure the decoder is that `wav` carries the mark, 0..1 (0.5 is the boundary)."""
        samples = np.asarray(wav, dtype=np.float32).reshape(-1)
        if samples.size < self.hp.n_fft or not np.any(samples):
            return 0.0
        upsampled = dsp.resample(samples, sample_rate, self.hp.sample_rate)
        with torch.inference_mode():
            magspec, _ = self.spectra.magphase(torch.from_numpy(np.ascontiguousarray(upsampled)))
            found = self.net.decoder(magspec[None])[0]
        return float(found.clip(0.0, 1.0))

    def is_marked(self, wav: np.ndarray, sample_rate: int) -> bool:
        return self.confidence(wav, sample_rate) >= DETECTION_THRESHOLD


def verdict(confidence: float) -> WatermarkVerdict:
    """What `/check` says about a confidence: found, absent, or unclear in between."""
    if confidence >= FOUND_AT:
        return "found"
    if confidence < ABSENT_BELOW:
        return "absent"
    return "unclear"


def weights_dir() -> Path:
    """The folder of the trained network inside the installed wheel (found without importing
    the package: its `__init__` would try the imports that fail here)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WatermarkUnavailable(
            "the resemble-perth package is not installed: pip install -e '.[engine]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "perth_net" / "pretrained" / RUN


def read_config(folder: Path) -> PerthConfig:
    raw = yaml.safe_load((folder / "hparams.yaml").read_text())
    names = PerthConfig.__dataclass_fields__
    return PerthConfig(**{k: raw[k] for k in names if k in raw})


def load_watermarker(folder: Path | None = None) -> Watermarker:
    """The trained PerthNet from the resemble-perth wheel (WatermarkUnavailable if absent)."""
    folder = folder or weights_dir()
    checkpoint = folder / CHECKPOINT
    if not checkpoint.is_file() or not (folder / "hparams.yaml").is_file():
        raise WatermarkUnavailable(f"no trained watermark network in {folder}")
    hp = read_config(folder)
    net = PerthNet(hp)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model"]
    # The audio processor's buffers (STFT windows, a phase advance for time stretching) are
    # torchaudio's; Spectra makes the same Hann window itself.
    network = {k: v for k, v in state.items() if not k.startswith("ap.")}
    net.load_state_dict(network, strict=True)
    saved_window = state.get("ap.spectrogram.window")
    if saved_window is not None and not torch.allclose(saved_window, Spectra(hp).window):
        raise WatermarkUnavailable("the checkpoint's STFT window is not a Hann window")
    log.info("watermark network loaded from %s", checkpoint)
    return Watermarker(net)


@functools.cache
def resident_watermarker() -> Watermarker:
    """The process's watermarker, loaded on first use (0.1 s, 37 MB) and kept."""
    return load_watermarker()
