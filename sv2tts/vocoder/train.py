"""Training the WaveRNN vocoder (RAW mode), step for step as the SV2TTS reference does.

Training set (what `python -m sv2tts preprocess vocoder DATASET OUT` writes; the contract
with the preprocessing side):

    OUT/train.txt        one line per utterance: `ID|n_samples|n_frames`
    OUT/mels/ID.npy      (80, n_frames) float32: the synthesizer's mel as
                         `sv2tts.audio.dsp.melspectrogram` makes it, in [-4, 4], NOT divided
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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from sv2tts.train.loop import Phase, Shard, StepResult, clip_gradients, unwrap
from sv2tts.train.plots import write_wav
from sv2tts.vocoder.model import VocoderConfig, WaveRNN

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
    labels = mu_law_labels(x, config.model.bits)  # the engine decodes mu-law: always mu-law
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

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(mel as written, audio as written) of utterance `index`, checked against the index."""
        entry = self.entries[index]
        mel = np.load(self.root / "mels" / f"{entry.item_id}.npy", allow_pickle=False)
        wav = np.load(self.root / "audio" / f"{entry.item_id}.npy", allow_pickle=False)
        if mel.ndim != 2 or mel.shape[1] != entry.n_frames or len(wav) != entry.n_samples:
            raise ValueError(
                f"{self.root}: {entry.item_id} has a mel {mel.shape} and {len(wav)} samples, "
                f"train.txt says {entry.n_frames} frames and {entry.n_samples} samples"
            )
        return mel, wav

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return prepare_item(*self.raw(index), self.config)


class VocoderBatch(NamedTuple):
    mels: torch.Tensor  # (B, feat, mel_window) float32
    x: torch.Tensor  # (B, seq_len) float32 in [-1, 1]: the previous samples
    y: torch.Tensor  # (B, seq_len) int64 labels: the samples to predict
    mel_offsets: np.ndarray  # (B,)
    sig_offsets: np.ndarray  # (B,)


def draw_offsets(
    frame_counts: Sequence[int], rng: np.random.RandomState, config: VocoderTrainConfig
) -> np.ndarray:
    """Mel offsets (int64) of one window per utterance, drawn in order from `rng`:
    uniform on [0, n_frames - 2 - (window + 2 pad)), upper bound excluded."""
    window, pad = config.mel_window, config.model.pad
    return np.array([rng.randint(0, n - 2 - (window + 2 * pad)) for n in frame_counts], np.int64)


def cut_windows(
    items: Sequence[tuple[np.ndarray, np.ndarray]],
    mel_offsets: np.ndarray,
    config: VocoderTrainConfig,
) -> VocoderBatch:
    """The batch of the windows at `mel_offsets` (one per item): the mel window, and the
    seq_len + 1 labels from (offset + pad) * hop split into inputs and targets."""
    pad, hop, window = config.model.pad, config.model.hop_length, config.mel_window
    mel_offsets = np.asarray(mel_offsets, dtype=np.int64)
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


def collate_windows(
    items: Sequence[tuple[np.ndarray, np.ndarray]],
    rng: np.random.RandomState,
    config: VocoderTrainConfig,
) -> VocoderBatch:
    """One random training window per item, offsets drawn in item order from `rng`, as the
    reference's collate does with numpy's global generator."""
    offsets = draw_offsets([mel.shape[-1] for mel, _ in items], rng, config)
    return cut_windows(items, offsets, config)


def training_logits(model: nn.Module, batch: VocoderBatch) -> torch.Tensor:
    """Logits (B, seq_len, classes) of a batch's windows, counting one step in the
    network's `step` (as the reference's forward does). `model` is the WaveRNN or a DDP
    wrapper around it; in training mode BatchNorm uses the batch's statistics."""
    network = unwrap(model)
    with torch.no_grad():
        network.step += 1
    logits: torch.Tensor = model(batch.x, batch.mels, padded=True)
    return logits


def raw_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """RAW mode's loss: cross-entropy of the labels, averaged over every sample."""
    return F.cross_entropy(logits.transpose(1, 2), targets)


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
    return clip_gradients(model.parameters(), None)


def sidecar(config: VocoderTrainConfig) -> dict[str, Any]:
    """The json the engine reads beside a vocoder checkpoint (`VocoderConfig.from_dict`)."""
    model = asdict(config.model)
    model["upsample_factors"] = list(model["upsample_factors"])
    return model


def write_sidecar(checkpoint: Path, config: VocoderTrainConfig) -> Path:
    path = checkpoint.with_suffix(".json")
    path.write_text(json.dumps(sidecar(config), indent=1) + "\n", encoding="utf-8")
    return path


def endless_order(size: int, rng: np.random.RandomState) -> Iterator[int]:
    """Item indices, epoch after epoch, each epoch a fresh permutation (the reference's
    shuffling loader; a batch may span two epochs instead of ending one short)."""
    while True:
        yield from rng.permutation(size).tolist()


def plot_sample(path: Path, mel: np.ndarray, generated: np.ndarray, target: np.ndarray) -> None:
    """PNG: the held mel (/ 4), and the generated waveform over the recorded one."""
    from matplotlib.figure import Figure  # a Figure draws with Agg, no display needed

    figure = Figure(figsize=(10, 6))
    top, bottom = figure.subplots(2, 1)
    top.imshow(mel, origin="lower", aspect="auto", vmin=-1, vmax=1)
    top.set_title("held-out mel / 4")
    bottom.plot(target, linewidth=0.5, label="recorded")
    bottom.plot(generated, linewidth=0.5, alpha=0.8, label="generated")
    bottom.set_ylim(-1, 1)
    bottom.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


class VocoderRecipe:
    """The vocoder for `sv2tts.train.loop.Trainer`: WaveRNN, RAW loss, no clipping."""

    name = "vocoder"

    def __init__(self, config: VocoderTrainConfig | None = None) -> None:
        self.config = config or VocoderTrainConfig()
        # The first utterance of the training set, generated at every sample step.
        self.held: tuple[np.ndarray, np.ndarray] | None = None

    def build_model(self) -> WaveRNN:
        return WaveRNN(self.config.model)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        network = unwrap(model)
        if not isinstance(network, WaveRNN):
            raise TypeError(f"expected a WaveRNN, got {type(network).__name__}")
        return make_optimizer(network, self.config)

    def phase(self, step: int) -> Phase:
        return Phase(lr=self.config.lr, batch_size=self.config.batch_size)

    def dataset(self, training_set: Path) -> VocoderDataset:
        dataset = VocoderDataset(training_set, self.config)
        mel, wav = dataset.raw(0)
        frames = min(mel.shape[1], self.config.sample_frames)
        hop = self.config.model.hop_length
        self.held = (mel[:, :frames] / np.float32(self.config.mel_divisor), wav[: frames * hop])
        return dataset

    def batches(
        self, dataset: Dataset[Any], phase: Phase, shard: Shard, seed: int
    ) -> Iterator[VocoderBatch]:
        if not isinstance(dataset, VocoderDataset):
            raise TypeError(f"expected a VocoderDataset, got {type(dataset).__name__}")
        # Every process draws the whole global batch (order and offsets), then builds its
        # share: n processes see exactly the windows one process would with n times the batch.
        if phase.batch_size % shard.world_size:
            # DDP averages the processes' mean losses: equal shares keep it the batch mean.
            raise ValueError(
                f"a batch of {phase.batch_size} does not split evenly over "
                f"{shard.world_size} processes"
            )
        rng = np.random.RandomState(seed)
        order = endless_order(len(dataset), rng)
        mine = slice(shard.rank, None, shard.world_size)
        while True:
            indices = [next(order) for _ in range(phase.batch_size)]
            frames = [dataset.entries[i].n_frames for i in indices]
            offsets = draw_offsets(frames, rng, self.config)
            items = [dataset[i] for i in indices[mine]]
            yield cut_windows(items, offsets[mine], self.config)

    def loss(self, model: nn.Module, batch: VocoderBatch) -> StepResult:
        loss = raw_loss(training_logits(model, batch), batch.y)
        return StepResult(loss, {"loss": float(loss.detach())})

    def clip(self, model: nn.Module) -> float:
        return gradient_norm(unwrap(model))

    def write_sample(
        self, model: nn.Module, batch: VocoderBatch, result: StepResult, folder: Path
    ) -> None:
        if self.held is None:
            log.warning("no held-out utterance (dataset() was not called): no vocoder sample")
            return
        network = unwrap(model)
        mel, target = self.held
        device = next(network.parameters()).device
        was_training = network.training
        c = self.config
        generated = network.generate(
            torch.from_numpy(mel).to(device), target=c.sample_target, overlap=c.sample_overlap
        )
        network.train(was_training)
        write_wav(folder / "generated.wav", generated, c.model.sample_rate)
        write_wav(folder / "recorded.wav", target, c.model.sample_rate)
        plot_sample(folder / "sample.png", mel, generated, target)

    def sidecar(self) -> dict[str, Any]:
        return sidecar(self.config)


def make_recipe(training_set: Path, overrides: Mapping[str, Any]) -> VocoderRecipe:
    """The recipe for `python -m sv2tts train vocoder`: the reference's settings overridden
    by `overrides` (the --config json: training keys, the network's under "model")."""
    return VocoderRecipe(VocoderTrainConfig.from_dict(overrides))
