"""The synthesizer's training recipe, and the training-set format `preprocess` writes for it.

Training set (what `python -m sv2tts preprocess synthesizer DATASET OUT` writes, and what
`python -m sv2tts train synthesizer OUT RUN_DIR` reads):

    OUT/dataset.json   {"symbols": [...], "cleaners": [...], "language": "en",
                        "signal": {SynthSignal fields: sample_rate, n_fft, hop_length, ...}}
    OUT/train.txt      one utterance a line, fields separated by "|":
                       audio-ID.npy|mel-ID.npy|embed-ID.npy|n_samples|n_frames|text|ids
    OUT/audio/audio-ID.npy   float32 (n_samples,) the 16 kHz waveform the mel was made from
                             (peak 0.9, long silences trimmed)
    OUT/mels/mel-ID.npy      float32 (n_mels, n_frames), `sv2tts.audio.dsp.melspectrogram` of it,
                             in [-4, 4]; n_frames = 1 + n_samples // hop_length
    OUT/embeds/embed-ID.npy  float32 (256,) the speaker encoder's utterance embedding
                             (L2-normalised) of that audio

`ID` is any name without "|" or "/" (unique in the set). `text` is the transcript as read
(for plots and samples; "|" and newlines replaced by spaces). `ids` are the symbol indices
in `dataset.json`'s symbol table, comma-separated, cleaned with its cleaners and ending with
the end symbol 1, exactly what the engine's text front end produces for that text
(`TextFrontend.encode`). Lines are UTF-8; a line starting with "#" is a comment. The order
of the lines does not matter (the loader shuffles). The reader and the batches are in
`sv2tts.synthesizer.data`; the names above are re-exported here.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from sv2tts.synthesizer.data import (
    AUDIO_DIR,
    DATASET_JSON,
    EMBEDS_DIR,
    MELS_DIR,
    METADATA_FIELDS,
    METADATA_TXT,
    ShardedShuffledBatches,
    SynthesizerBatch,
    SynthesizerDataset,
    SynthesizerItem,
    TrainingSetInfo,
    _ShareOfBatch,
    collate,
    collate_share,
)
from sv2tts.synthesizer.model import SynthesizerConfig, Tacotron, TrainingOutputs
from sv2tts.train.loop import (
    Phase,
    Shard,
    StepResult,
    clip_gradients,
    ignore_sigint,
    unwrap,
)

log = logging.getLogger(__name__)


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
    zoneout probability; adam_*: Adam's settings; loader_workers: batch-building processes;
    guided_attention: the weight of the diagonal guided-attention loss (Tachibana et al.
    2017, `guided_attention_loss`) added to the reference's loss, 0 (the default, the
    reference's objective) for none; guided_attention_g: its width g.
    """

    model: SynthesizerConfig = field(default_factory=SynthesizerConfig)
    schedule: tuple[tuple[int, float, int, int], ...] = REFERENCE_SCHEDULE
    clip_grad_norm: float | None = 1.0
    prenet_dropout: bool = True
    zoneout: float = 0.1
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    loader_workers: int = 2
    guided_attention: float = 0.0
    guided_attention_g: float = 0.2

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


def losses(outputs: TrainingOutputs, batch: SynthesizerBatch) -> dict[str, torch.Tensor]:
    """The reference's loss components, means over the full padded tensors (no masking):
    decoder mels MSE + L1, post-net mels MSE only, stop-token binary cross-entropy."""
    # binary_cross_entropy is refused under autocast: the losses run in float32, outside it.
    with torch.autocast(outputs.mels.device.type, enabled=False):
        decoder_mels = outputs.decoder_mels.float()
        mels = outputs.mels.float()
        parts = {
            "m1_mse": F.mse_loss(decoder_mels, batch.mels),
            "m1_l1": F.l1_loss(decoder_mels, batch.mels),
            "m2_mse": F.mse_loss(mels, batch.mels),
            "stop_bce": F.binary_cross_entropy(outputs.stop_tokens.float(), batch.stop_target),
        }
        parts["loss"] = parts["m1_mse"] + parts["m1_l1"] + parts["m2_mse"] + parts["stop_bce"]
    return parts


def guided_attention_loss(
    alignments: torch.Tensor, chars: torch.Tensor, frames: torch.Tensor, r: int, g: float = 0.2
) -> torch.Tensor:
    """Diagonal guided attention (Tachibana et al. 2017, "Efficiently trainable
    text-to-speech system based on deep convolutional networks with guided attention"): the
    attention weight A[t, n] of decoder step t on character n is penalised by
    W[n, t] = 1 - exp(-(n/N - t/T)^2 / (2 g^2)), N the sentence's characters (chars padded
    with 0), T its real decoder steps (ceil(frames / r)); the mean of W * A over the real
    (unpadded) positions of the batch. This network's attention does not mask the padding
    (its energies are zeroed, as the reference's are), so the attention that real decoder
    steps put on padding characters is added to the sum with W = 1: a character that is not
    there is off the path. alignments: (B, steps, chars)."""
    steps, length = alignments.shape[1], alignments.shape[2]
    device = alignments.device
    n_chars = (chars != 0).sum(dim=1).to(device)
    n_steps = torch.div(frames + r - 1, r, rounding_mode="floor").to(device)
    n = torch.arange(length, device=device)[None, :] / n_chars.clamp(min=1)[:, None]
    t = torch.arange(steps, device=device)[None, :] / n_steps.clamp(min=1)[:, None]
    weights = 1.0 - torch.exp(-((n[:, None, :] - t[:, :, None]) ** 2) / (2 * g * g))
    real_steps = (torch.arange(steps, device=device)[None, :] < n_steps[:, None])[:, :, None]
    real_chars = (torch.arange(length, device=device)[None, :] < n_chars[:, None])[:, None, :]
    real = (real_steps & real_chars).float()
    on_padding = (real_steps & ~real_chars).float()
    attention = alignments.float()
    penalty = (weights * attention * real).sum() + (attention * on_padding).sum()
    return penalty / real.sum().clamp(min=1)


def attention_sharpness(alignments: torch.Tensor, frames: torch.Tensor, r: int) -> float:
    """Mean over the decoder steps that produce real frames of the largest attention weight:
    near 1 for a sharp alignment, 1/T for a uniform one."""
    steps = torch.div(frames + r - 1, r, rounding_mode="floor").to(alignments.device)
    real = torch.arange(alignments.size(1), device=alignments.device)[None, :] < steps[:, None]
    peaks = alignments.detach().amax(dim=2)
    return float((peaks * real).sum() / real.sum().clamp(min=1))


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
        if not isinstance(dataset, SynthesizerDataset):
            raise TypeError("the synthesizer recipe reads a SynthesizerDataset")
        r = int(phase.settings["r"])
        lengths = [(len(ids), frames) for _, _, ids, frames in dataset.entries]
        sampler = ShardedShuffledBatches(lengths, phase.batch_size, shard, seed)
        workers = self.config.loader_workers
        loader = DataLoader(
            _ShareOfBatch(dataset),
            batch_sampler=sampler,
            collate_fn=functools.partial(collate_share, r=r, pad_value=-self._max_abs_value()),
            num_workers=workers,
            worker_init_fn=ignore_sigint,
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
        if self.config.guided_attention > 0:  # off by default: the reference has none
            guided = guided_attention_loss(
                outputs.alignments,
                batch.chars,
                batch.frames,
                batch.r,
                self.config.guided_attention_g,
            )
            parts["guided_attention"] = guided
            parts["loss"] = parts["loss"] + self.config.guided_attention * guided
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


__all__ = [
    "AUDIO_DIR",
    "DATASET_JSON",
    "EMBEDS_DIR",
    "MELS_DIR",
    "METADATA_FIELDS",
    "METADATA_TXT",
    "REFERENCE_SCHEDULE",
    "SynthesizerBatch",
    "SynthesizerDataset",
    "SynthesizerItem",
    "SynthesizerRecipe",
    "SynthesizerTrainConfig",
    "TrainingSetInfo",
    "collate",
    "guided_attention_loss",
    "make_recipe",
]
