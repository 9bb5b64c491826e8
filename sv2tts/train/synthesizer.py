"""The synthesizer's training recipe, and the training-set format `preprocess` writes for it.

Training set (what `python -m sv2tts preprocess synthesizer DATASET OUT` writes, and what
`python -m sv2tts train synthesizer OUT RUN_DIR` reads):

    OUT/dataset.json   {"symbols": [...], "cleaners": [...], "language": "en",
                        "signal": {SynthSignal fields: sample_rate, n_fft, hop_length, ...}}
    OUT/train.txt      one utterance a line, fields separated by "|":
                       audio-ID.npy|mel-ID.npy|embed-ID.npy|n_samples|n_frames|text|ids
    OUT/audio/audio-ID.npy   float32 (n_samples,) the 16 kHz waveform the mel was made from
                             (peak 0.9, long silences trimmed)
    OUT/mels/mel-ID.npy      float32 (n_mels, n_frames), `sv2tts.dsp.melspectrogram` of it,
                             in [-4, 4]; n_frames = 1 + n_samples // hop_length
    OUT/embeds/embed-ID.npy  float32 (256,) the speaker encoder's utterance embedding
                             (L2-normalised) of that audio

`ID` is any name without "|" or "/" (unique in the set). `text` is the transcript as read
(for plots and samples; "|" and newlines replaced by spaces). `ids` are the symbol indices
in `dataset.json`'s symbol table, comma-separated, cleaned with its cleaners and ending with
the end symbol 1, exactly what the engine's text front end produces for that text
(`TextFrontend.encode`). Lines are UTF-8; a line starting with "#" is a comment. The order
of the lines does not matter (the loader shuffles).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from sv2tts.synthesizer import SynthesizerConfig, Tacotron, TrainingOutputs
from sv2tts.text.frontend import DEFAULT_CLEANERS, frontend_from_config
from sv2tts.text.symbols import DEFAULT_SYMBOLS
from sv2tts.train.loop import Phase, Shard, StepResult, unwrap

log = logging.getLogger(__name__)

# The training set's file names and the field order of train.txt.
DATASET_JSON = "dataset.json"
METADATA_TXT = "train.txt"
AUDIO_DIR = "audio"
MELS_DIR = "mels"
EMBEDS_DIR = "embeds"
METADATA_FIELDS = ("audio", "mel", "embed", "n_samples", "n_frames", "text", "ids")

# The reference's progressive schedule: (r, learning rate, until step, batch size).
REFERENCE_SCHEDULE: tuple[tuple[int, float, int, int], ...] = (
    (2, 1e-3, 20_000, 12),
    (2, 5e-4, 40_000, 12),
    (2, 2e-4, 80_000, 12),
    (2, 1e-4, 160_000, 12),
    (2, 3e-5, 320_000, 12),
    (2, 1e-5, 640_000, 12),
)


@dataclass(frozen=True)
class SynthesizerTrainConfig:
    """How the synthesizer trains; every default is the reference's.

    model: the network's dims (`num_chars` follows the training set's symbol table);
    schedule: (r, lr, until step, batch size) phases, in order; clip_grad_norm: the global
    gradient norm is clipped to this (None: no clipping); prenet_dropout: dropout (p =
    model.dropout) in both pre-nets, which Tacotron keeps on; zoneout: the decoder LSTMs'
    zoneout probability; adam_*: Adam's settings; loader_workers: batch-building processes.
    """

    model: SynthesizerConfig = field(default_factory=SynthesizerConfig)
    schedule: tuple[tuple[int, float, int, int], ...] = REFERENCE_SCHEDULE
    clip_grad_norm: float | None = 1.0
    prenet_dropout: bool = True
    zoneout: float = 0.1
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    loader_workers: int = 2

    def __post_init__(self) -> None:
        if not self.schedule:
            raise ValueError("the schedule needs at least one phase")
        previous = 0
        for r, lr, until, batch_size in self.schedule:
            if not (1 <= r <= self.model.max_r and lr > 0 and until > previous and batch_size > 0):
                raise ValueError(
                    f"bad schedule phase {(r, lr, until, batch_size)}: r in 1..{self.model.max_r},"
                    " lr > 0, increasing steps, batch size > 0"
                )
            previous = until

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SynthesizerTrainConfig:
        """The defaults overridden by a config file's json object (unknown keys refused);
        "model" holds `SynthesizerConfig` fields, "schedule" a list of [r, lr, step, batch]."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"synthesizer training config: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = dict(data)
        if "model" in values:
            values["model"] = SynthesizerConfig.from_dict(
                {**dataclasses.asdict(SynthesizerConfig()), **values["model"]}
            )
        if "schedule" in values:
            values["schedule"] = tuple(
                (int(r), float(lr), int(until), int(batch))
                for r, lr, until, batch in values["schedule"]
            )
        if "adam_betas" in values:
            values["adam_betas"] = tuple(values["adam_betas"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """A json-able dict that `from_dict` reads back to an equal config."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


class SynthesizerItem(NamedTuple):
    """One utterance: symbol ids (T,) int64, mel (n_mels, frames) float32, embedding (256,)."""

    chars: np.ndarray
    mel: np.ndarray
    embed: np.ndarray


class SynthesizerBatch(NamedTuple):
    """A collated batch: chars (B, T) int64 padded with 0; mels (B, n_mels, F) padded with
    -4; embeds (B, 256); stop_target (B, F) 0 before the last real frame, 1 from it on;
    frames (B,) int64 real frame counts; r the reduction factor it was padded for."""

    chars: torch.Tensor
    mels: torch.Tensor
    embeds: torch.Tensor
    stop_target: torch.Tensor
    frames: torch.Tensor
    r: int


@dataclass(frozen=True)
class TrainingSetInfo:
    """dataset.json of a synthesizer training set."""

    symbols: tuple[str, ...]
    cleaners: tuple[str, ...]
    language: str | None
    signal: Mapping[str, Any]

    @classmethod
    def read(cls, training_set: Path) -> TrainingSetInfo:
        path = Path(training_set) / DATASET_JSON
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{path} not found: is {training_set} what `python -m sv2tts preprocess "
                "synthesizer` wrote?"
            ) from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object")
        symbols = tuple(data.get("symbols") or DEFAULT_SYMBOLS.symbols)
        cleaners = tuple(data.get("cleaners") or DEFAULT_CLEANERS)
        # The engine must be able to read what the checkpoint will declare.
        frontend_from_config({"symbols": list(symbols), "cleaners": list(cleaners)})
        return cls(symbols, cleaners, data.get("language"), data.get("signal") or {})


class SynthesizerDataset(Dataset[SynthesizerItem]):
    """The utterances of a training set (module docstring), read from disk per item."""

    def __init__(self, training_set: Path) -> None:
        self.root = Path(training_set)
        self.info = TrainingSetInfo.read(self.root)
        self.entries: list[tuple[str, str, list[int], int]] = []
        metadata = self.root / METADATA_TXT
        for number, line in enumerate(metadata.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("|")
            if len(fields) != len(METADATA_FIELDS):
                raise ValueError(
                    f"{metadata}:{number}: expected {len(METADATA_FIELDS)} fields "
                    f"({'|'.join(METADATA_FIELDS)}), got {len(fields)}"
                )
            ids = [int(i) for i in fields[6].split(",")]
            if not ids or ids[-1] != 1 or max(ids) >= len(self.info.symbols) or min(ids) < 0:
                raise ValueError(f"{metadata}:{number}: symbol ids must end with 1 and be known")
            self.entries.append((fields[1], fields[2], ids, int(fields[4])))
        if not self.entries:
            raise ValueError(f"{metadata}: no utterances")
        log.info("%s: %d utterances", metadata, len(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> SynthesizerItem:
        mel_name, embed_name, ids, _ = self.entries[index]
        mel = np.load(self.root / MELS_DIR / mel_name).astype(np.float32)
        embed = np.load(self.root / EMBEDS_DIR / embed_name).astype(np.float32)
        return SynthesizerItem(np.asarray(ids, dtype=np.int64), mel, embed)


def collate(items: Sequence[SynthesizerItem], r: int, pad_value: float = -4.0) -> SynthesizerBatch:
    """The reference's synthesizer batch: texts right-padded with 0 to the longest; mels
    right-padded with `pad_value` (the silence floor) to the longest + 1 frames, rounded up
    to a multiple of r; stop targets 1 from each item's last real frame on."""
    longest_text = max(len(item.chars) for item in items)
    frames = [item.mel.shape[1] for item in items]
    padded = max(frames) + 1
    padded += (-padded) % r
    n_mels = items[0].mel.shape[0]
    chars = torch.zeros(len(items), longest_text, dtype=torch.int64)
    mels = torch.full((len(items), n_mels, padded), pad_value, dtype=torch.float32)
    stop = torch.ones(len(items), padded, dtype=torch.float32)
    for row, item in enumerate(items):
        chars[row, : len(item.chars)] = torch.from_numpy(item.chars)
        mels[row, :, : frames[row]] = torch.from_numpy(item.mel)
        stop[row, : frames[row] - 1] = 0.0
    embeds = torch.from_numpy(np.stack([item.embed for item in items]).astype(np.float32))
    return SynthesizerBatch(chars, mels, embeds, stop, torch.tensor(frames), r)


class ShardedShuffledBatches(Sampler[list[int]]):
    """Endless global batches of indices, shuffled per epoch; this process's share of each.

    Each epoch is a fresh permutation (seeded by seed and epoch); an epoch's incomplete last
    batch is dropped so that every process always gets its full share.
    """

    def __init__(self, size: int, batch_size: int, shard: Shard, seed: int) -> None:
        self.size = size
        self.batch_size = min(batch_size, size)
        if self.batch_size < shard.world_size:
            raise ValueError(
                f"a batch of {self.batch_size} cannot be shared by {shard.world_size} processes"
            )
        self.shard = shard
        self.seed = seed

    def __iter__(self) -> Iterator[list[int]]:
        epoch = 0
        while True:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
            for start in range(0, self.size - self.batch_size + 1, self.batch_size):
                batch = order[start : start + self.batch_size]
                yield batch[self.shard.rank :: self.shard.world_size]
            epoch += 1


def losses(outputs: TrainingOutputs, batch: SynthesizerBatch) -> dict[str, torch.Tensor]:
    """The reference's loss components, means over the full padded tensors (no masking):
    decoder mels MSE + L1, post-net mels MSE only, stop-token binary cross-entropy."""
    # binary_cross_entropy is refused under autocast: the losses run in float32.
    decoder_mels = outputs.decoder_mels.float()
    mels = outputs.mels.float()
    parts = {
        "m1_mse": F.mse_loss(decoder_mels, batch.mels),
        "m1_l1": F.l1_loss(decoder_mels, batch.mels),
        "m2_mse": F.mse_loss(mels, batch.mels),
        "stop_bce": F.binary_cross_entropy(outputs.stop_tokens.float(), batch.stop_target),
    }
    parts["loss"] = (parts["m1_mse"] + parts["m1_l1"]) + parts["m2_mse"] + parts["stop_bce"]
    return parts


def attention_sharpness(alignments: torch.Tensor, frames: torch.Tensor, r: int) -> float:
    """Mean over the decoder steps that produce real frames of the largest attention weight:
    near 1 for a sharp alignment, 1/T for a uniform one."""
    steps = torch.div(frames + r - 1, r, rounding_mode="floor").to(alignments.device)
    real = torch.arange(alignments.size(1), device=alignments.device)[None, :] < steps[:, None]
    peaks = alignments.detach().amax(dim=2)
    return float((peaks * real).sum() / real.sum().clamp(min=1))


def clip_gradients(parameters: Sequence[nn.Parameter], max_norm: float | None) -> float:
    """Clip the global gradient norm to `max_norm` (scale by max_norm / (norm + 1e-6) when
    that is below 1, as torch's clip_grad_norm_ does); the pre-clip norm."""
    grads = [p for p in parameters if p.grad is not None]
    if max_norm is None:
        return float(torch.nn.utils.get_total_norm([p.grad for p in grads]))
    return float(torch.nn.utils.clip_grad_norm_(grads, max_norm))


class SynthesizerRecipe:
    """The `Recipe` of the Tacotron synthesizer (see `sv2tts.train.loop`)."""

    name = "synthesizer"

    def __init__(self, config: SynthesizerTrainConfig, info: TrainingSetInfo) -> None:
        if config.model.num_chars != len(info.symbols):
            config = dataclasses.replace(
                config, model=dataclasses.replace(config.model, num_chars=len(info.symbols))
            )
        self.config = config
        self.info = info

    def build_model(self) -> Tacotron:
        return Tacotron(self.config.model)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(
            model.parameters(),
            lr=self.config.schedule[0][1],
            betas=self.config.adam_betas,
            eps=self.config.adam_eps,
        )

    def phase(self, step: int) -> Phase:
        # Past the last phase, the last one (whose end_step the trainer sees as done).
        current = next((p for p in self.config.schedule if step < p[2]), self.config.schedule[-1])
        r, lr, until, batch_size = current
        return Phase(lr=lr, batch_size=batch_size, end_step=until, settings={"r": r})

    def dataset(self, training_set: Path) -> SynthesizerDataset:
        dataset = SynthesizerDataset(training_set)
        if dataset.info.symbols != self.info.symbols:
            raise ValueError(f"{training_set}: its symbol table is not the recipe's")
        return dataset

    def batches(
        self, dataset: Dataset[Any], phase: Phase, shard: Shard, seed: int
    ) -> Iterator[SynthesizerBatch]:
        r = int(phase.settings["r"])
        sampler = ShardedShuffledBatches(len(dataset), phase.batch_size, shard, seed)  # type: ignore[arg-type]
        workers = self.config.loader_workers
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=functools.partial(collate, r=r, pad_value=-self._max_abs_value()),
            num_workers=workers,
            persistent_workers=False,
            prefetch_factor=2 if workers else None,
        )
        return iter(loader)

    def _max_abs_value(self) -> float:
        return float(self.info.signal.get("max_abs_value", 4.0))

    def loss(self, model: nn.Module, batch: SynthesizerBatch) -> StepResult:
        tacotron = unwrap(model)
        assert isinstance(tacotron, Tacotron)
        tacotron.decoder.r.fill_(batch.r)
        outputs: TrainingOutputs = model(
            batch.chars,
            batch.mels,
            batch.embeds,
            dropout=self.config.prenet_dropout,
            zoneout=self.config.zoneout,
        )
        parts = losses(outputs, batch)
        scalars = {name: float(value.detach()) for name, value in parts.items()}
        scalars["attention_sharpness"] = attention_sharpness(
            outputs.alignments, batch.frames, batch.r
        )
        detached = TrainingOutputs(*(t.detach() for t in outputs))
        return StepResult(parts["loss"], scalars, detached)

    def clip(self, model: nn.Module) -> float:
        return clip_gradients(list(model.parameters()), self.config.clip_grad_norm)

    def write_sample(
        self, model: nn.Module, batch: SynthesizerBatch, result: StepResult, folder: Path
    ) -> None:
        from sv2tts.train.plots import write_synthesizer_sample

        write_synthesizer_sample(batch, result.outputs, self.info.symbols, folder)

    def sidecar(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self.config.model),
            "symbols": list(self.info.symbols),
            "cleaners": list(self.info.cleaners),
        }


def make_recipe(training_set: Path, overrides: Mapping[str, Any]) -> SynthesizerRecipe:
    """The recipe for `training_set`, its config the defaults overridden by `overrides`."""
    info = TrainingSetInfo.read(training_set)
    config = SynthesizerTrainConfig.from_dict(overrides)
    declared = overrides.get("model", {}).get("num_chars")
    if declared is not None and declared != len(info.symbols):
        raise ValueError(
            f"config num_chars {declared} but the training set has {len(info.symbols)} symbols"
        )
    return SynthesizerRecipe(config, info)
