"""Training the WaveRNN vocoder (RAW mode), step for step as the SV2TTS reference does.

Training set (what `python -m sv2tts preprocess vocoder DATASET OUT` writes; the contract
with the preprocessing side):

    OUT/train.txt        one line per utterance: `ID|n_samples|n_frames`
    OUT/mels/ID.npy      (80, n_frames) float32: the synthesizer's mel as
                         `sv2tts.dsp.melspectrogram` makes it, in [-4, 4], NOT divided
                         by 4 (the dataset divides); with `--gta` the synthesizer's
                         ground-truth-aligned output in its place
    OUT/audio/ID.npy     (n_samples,) float32 at 16 kHz: the same cut the mel was made from,
                         not pre-emphasised, not quantised (the dataset does both)
    OUT/dataset.json     free-form description (source, GTA or not, counts); not read here

IDs are file names without `.npy` (no `|`, no `/`). n_frames is 1 + n_samples // hop_length,
the centred STFT's frame count.

One item (`prepare_item`): the mel / 4, and the audio pre-emphasised (0.97), clipped to
[-1, 1], zero-padded on the right to (n // hop + 1) * hop (a full hop when n already is a
multiple), cut to n_frames * hop, mu-law quantised to 2**bits labels.

One batch (`collate_windows`): per item a window of seq_len / hop + 2 pad mel frames starting
at an offset drawn from [0, n_frames - 2 - (window + 2 pad)) with a numpy RandomState (so a
seed fixes the batch), and the seq_len + 1 labels starting at (offset + pad) * hop; the input
is the first seq_len labels mapped linearly to [-1, 1] (2 label / (2**bits - 1) - 1, not
mu-law decoded), the target the last seq_len labels. Loss: mean cross-entropy over every
sample; no gradient clipping; Adam at lr 1e-4.

Checkpoints are the official format (`model_state`, `optimizer_state`): the optimizer is
built over `step` first, then the parameters, because in the reference `step` is a parameter
without gradient and the official optimizer state counts it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from sv2tts.vocoder import VocoderConfig, WaveRNN

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VocoderTrainConfig:
    """The reference's vocoder training hyper-parameters (its `voc_*` settings)."""

    model: VocoderConfig = field(default_factory=VocoderConfig)
    batch_size: int = 100
    seq_len: int = 1000  # 5 hops of samples per window
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    mel_divisor: float = 4.0
    mu_law: bool = True
    # The sample written every N steps: this much of a held-out mel, generated batched.
    sample_frames: int = 200
    sample_target: int = 8000
    sample_overlap: int = 800

    def __post_init__(self) -> None:
        if self.seq_len % self.model.hop_length:
            raise ValueError(
                f"seq_len {self.seq_len} must be a multiple of the hop {self.model.hop_length}"
            )
        if self.batch_size < 1:
            raise ValueError("batch_size must be positive")

    @property
    def mel_window(self) -> int:
        """Mel frames cut per window: the samples' frames plus `pad` on each side."""
        return self.seq_len // self.model.hop_length + 2 * self.model.pad

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VocoderTrainConfig:
        """From a json object: training keys at the top, the network's under "model"."""
        data = dict(data)
        model = VocoderConfig.from_dict(data.pop("model", {}))
        known = {f for f in cls.__dataclass_fields__ if f != "model"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown vocoder training settings: {', '.join(sorted(unknown))}")
        if "betas" in data:
            data["betas"] = tuple(data["betas"])
        return cls(model=model, **data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mu_law_labels(wav: np.ndarray, bits: int) -> np.ndarray:
    """Labels 0 .. 2**bits - 1 (int64) of samples in [-1, 1] on the mu-law scale."""
    mu = 2**bits - 1
    x = np.asarray(wav, dtype=np.float64)
    companded = np.sign(x) * np.log1p(mu * np.abs(x)) / math.log1p(mu)
    return np.floor((companded + 1.0) / 2.0 * mu + 0.5).astype(np.int64)


def linear_labels(wav: np.ndarray, bits: int) -> np.ndarray:
    """Labels of samples in [-1, 1] on a linear scale (mu_law=False)."""
    levels = 2**bits - 1
    x = np.asarray(wav, dtype=np.float64)
    return np.clip(np.floor((x + 1.0) * levels / 2.0 + 0.5), 0, levels).astype(np.int64)


def labels_to_inputs(labels: torch.Tensor, bits: int) -> torch.Tensor:
    """Labels mapped linearly onto [-1, 1] as float32: what the network sees as the
    previous sample (the reference does not mu-law decode them)."""
    return 2.0 * labels.float() / (2**bits - 1.0) - 1.0


def prepare_item(
    mel: np.ndarray, wav: np.ndarray, config: VocoderTrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(mel / divisor float32 (feat, T), labels int64 (T * hop,)) of one utterance."""
    hop = config.model.hop_length
    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2 or mel.shape[0] != config.model.feat_dims:
        raise ValueError(f"expected a mel ({config.model.feat_dims}, T), got {mel.shape}")
    x = np.asarray(wav, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {x.shape}")
    if config.model.preemphasis:
        x = np.concatenate([x[:1], x[1:] - config.model.preemphasis * x[:-1]])
    x = np.clip(x, -1.0, 1.0)
    x = np.pad(x, (0, (len(x) // hop + 1) * hop - len(x)))
    frames = mel.shape[1]
    if len(x) < frames * hop:
        raise ValueError(f"{len(wav)} samples are too few for {frames} mel frames")
    x = x[: frames * hop]
    bits = config.model.bits
    labels = mu_law_labels(x, bits) if config.mu_law else linear_labels(x, bits)
    return (mel / np.float32(config.mel_divisor)).astype(np.float32), labels


class VocoderEntry(NamedTuple):
    item_id: str
    n_samples: int
    n_frames: int


def read_index(root: Path) -> list[VocoderEntry]:
    """The lines of `root/train.txt`; ValueError naming the line when one is malformed."""
    path = root / "train.txt"
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split("|")
        if len(parts) != 3 or not parts[0] or "/" in parts[0]:
            raise ValueError(f"{path}:{number}: expected ID|n_samples|n_frames, got {line!r}")
        try:
            entries.append(VocoderEntry(parts[0], int(parts[1]), int(parts[2])))
        except ValueError as error:
            raise ValueError(f"{path}:{number}: {error}") from error
    return entries


class VocoderDataset(Dataset[tuple[np.ndarray, np.ndarray]]):
    """Items (mel / 4, labels) of a vocoder training set written by `preprocess vocoder`.

    Utterances too short for one training window are left out (and counted in the log).
    """

    def __init__(self, root: Path | str, config: VocoderTrainConfig) -> None:
        self.root = Path(root)
        self.config = config
        entries = read_index(self.root)
        # A window needs window + 2 pad frames plus the 2 the offset bound excludes.
        needed = config.mel_window + 2 * config.model.pad + 3
        self.entries = [e for e in entries if e.n_frames >= needed]
        dropped = len(entries) - len(self.entries)
        if dropped:
            log.info("%s: %d utterances shorter than %d frames left out", root, dropped, needed)
        if not self.entries:
            raise ValueError(f"{self.root}: no utterance is long enough for a training window")

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        entry = self.entries[index]
        mel = np.load(self.root / "mels" / f"{entry.item_id}.npy", allow_pickle=False)
        wav = np.load(self.root / "audio" / f"{entry.item_id}.npy", allow_pickle=False)
        return prepare_item(mel, wav, self.config)


class VocoderBatch(NamedTuple):
    mels: torch.Tensor  # (B, feat, mel_window) float32
    x: torch.Tensor  # (B, seq_len) float32 in [-1, 1]: the previous samples
    y: torch.Tensor  # (B, seq_len) int64 labels: the samples to predict
    mel_offsets: np.ndarray  # (B,)
    sig_offsets: np.ndarray  # (B,)


def collate_windows(
    items: Sequence[tuple[np.ndarray, np.ndarray]],
    rng: np.random.RandomState,
    config: VocoderTrainConfig,
) -> VocoderBatch:
    """One random training window per item, offsets drawn in item order from `rng`."""
    pad, hop = config.model.pad, config.model.hop_length
    window = config.mel_window
    mel_offsets = np.array(
        [rng.randint(0, mel.shape[-1] - 2 - (window + 2 * pad)) for mel, _ in items],
        dtype=np.int64,
    )
    sig_offsets = (mel_offsets + pad) * hop
    mels = np.stack(
        [mel[:, o : o + window] for (mel, _), o in zip(items, mel_offsets, strict=True)]
    )
    labels = np.stack(
        [lab[o : o + config.seq_len + 1] for (_, lab), o in zip(items, sig_offsets, strict=True)]
    )
    labels_t = torch.from_numpy(labels.astype(np.int64))
    return VocoderBatch(
        mels=torch.from_numpy(mels.astype(np.float32)),
        x=labels_to_inputs(labels_t[:, :-1], config.model.bits),
        y=labels_t[:, 1:],
        mel_offsets=mel_offsets,
        sig_offsets=sig_offsets,
    )


def vocoder_loss(model: WaveRNN, batch: VocoderBatch) -> tuple[torch.Tensor, dict[str, float]]:
    """(mean cross-entropy, {"loss": value}) of a batch, in training mode (BatchNorm on
    batch statistics, `step` counted), on the batch's device."""
    logits = model.forward_training(batch.x, batch.mels)
    loss = F.cross_entropy(logits.transpose(1, 2), batch.y)
    return loss, {"loss": float(loss.detach())}


def optimizer_parameters(model: WaveRNN) -> list[torch.Tensor]:
    """`step` then the parameters: the reference's order, which the official optimizer
    state's indices follow (`step` never has a gradient, so Adam leaves it alone)."""
    return [model.step, *model.parameters()]


def make_optimizer(model: WaveRNN, config: VocoderTrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam(
        optimizer_parameters(model), lr=config.lr, betas=config.betas, eps=config.eps
    )


def gradient_norm(model: WaveRNN) -> float:
    """The global 2-norm of the gradients (reported; the vocoder is never clipped)."""
    grads = [p.grad.detach().flatten() for p in model.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.cat(grads).norm())


def sidecar(config: VocoderTrainConfig) -> dict[str, Any]:
    """The json the engine reads beside a vocoder checkpoint (`VocoderConfig.from_dict`)."""
    model = asdict(config.model)
    model["upsample_factors"] = list(model["upsample_factors"])
    return model


def write_sidecar(checkpoint: Path, config: VocoderTrainConfig) -> Path:
    path = checkpoint.with_suffix(".json")
    path.write_text(json.dumps(sidecar(config), indent=1) + "\n", encoding="utf-8")
    return path
