"""Training the speaker encoder with the GE2E loss, step for step as the SV2TTS reference does.

Training set: what `python -m sv2tts preprocess encoder DATASET OUT` writes, per speaker
the 40-band frames of each utterance, `OUT/<speaker>/frames-<utterance>.npy` (T, 40) float32
and `OUT/<speaker>/_sources.txt`; the format and the batch sampling are in
`sv2tts.encoder.data`.

The loss (`ge2e_loss`): embeddings normalised by (norm + 1e-5); per speaker an inclusive
centroid (mean of its utterances) and per utterance an exclusive one (mean of the speaker's
others), both divided by (norm + 1e-5); entry [s, u, k] the dot product of embedding (s, u)
with speaker k's inclusive centroid, or with its own exclusive one for k = s; times w plus b;
softmax cross-entropy of each row against its speaker. After backward the gradients of w and
b are multiplied by 0.01, then all are clipped to a global norm of 3. Adam, lr 1e-4. The EER
of the similarity matrix is reported.

Checkpoints are the official format (`step`, `model_state`, `optimizer_state`); the optimizer
runs over `model.parameters()`, whose order (w, b, LSTM, linear) is the official one, so
the released checkpoint's optimizer state loads as it is (`load_optimizer_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from sv2tts.encoder.data import (
    DeckSampler,
    EncoderBatch,
    EncoderDataset,
    cut_partials,
    partial_starts,
)
from sv2tts.encoder.model import EncoderConfig, SpeakerEncoder
from sv2tts.synthesizer.model import config_from_dict
from sv2tts.train.loop import Phase, Shard, StepResult, clip_gradients, unwrap

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncoderTrainConfig:
    """The reference's encoder training hyper-parameters."""

    model: EncoderConfig = field(default_factory=EncoderConfig)
    speakers_per_batch: int = 64
    utterances_per_speaker: int = 10
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    # GE2E: w and b learn at a hundredth of the rate their raw gradients would give them.
    similarity_grad_scale: float = 0.01
    clip_norm: float = 3.0
    # Added to every norm that normalises an embedding or a centroid.
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        if self.speakers_per_batch < 2:
            raise ValueError("GE2E needs at least two speakers per batch")
        if self.utterances_per_speaker < 2:
            raise ValueError("GE2E needs at least two utterances per speaker (exclusive centroids)")

    @property
    def partial_frames(self) -> int:
        return self.model.partial_frames

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EncoderTrainConfig:
        """From a json object: training keys at the top, the network's under "model"."""
        data = dict(data)
        model = config_from_dict(EncoderConfig, data.pop("model", {}), "encoder")
        known = {f for f in cls.__dataclass_fields__ if f != "model"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown encoder training settings: {', '.join(sorted(unknown))}")
        if "betas" in data:
            data["betas"] = tuple(data["betas"])
        return cls(model=model, **data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the loss ------------------------------------------------------------------------------


def training_embeddings(model: nn.Module, frames: torch.Tensor) -> torch.Tensor:
    """Embeddings (B, E) of partials (B, T, n_mels), normalised as GE2E training does
    (norm + 1e-5). `model` is the SpeakerEncoder or a DDP wrapper around it."""
    embeds: torch.Tensor = model(frames, ge2e_norm=True)
    return embeds


def similarity_matrix(
    embeds: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """GE2E's scaled similarities (S, U, S) of embeddings (S speakers, U utterances, E).

    Entry [s, u, k]: cosine-like similarity of utterance (s, u) to speaker k's centroid,
    the centroid of its own speaker leaving the utterance itself out (so that an utterance
    does not vote for itself); then weight * similarity + bias.
    """
    speakers, utterances = embeds.shape[:2]
    inclusive = embeds.mean(dim=1)
    inclusive = inclusive / (inclusive.norm(dim=1, keepdim=True) + eps)
    exclusive = (embeds.sum(dim=1, keepdim=True) - embeds) / (utterances - 1)
    exclusive = exclusive / (exclusive.norm(dim=2, keepdim=True) + eps)
    to_others = torch.einsum("sue,ke->suk", embeds, inclusive)
    to_own = (embeds * exclusive).sum(dim=2)
    own = torch.eye(speakers, dtype=torch.bool, device=embeds.device).unsqueeze(1)
    similarity = torch.where(own, to_own.unsqueeze(2), to_others)
    return similarity * weight + bias


def ge2e_loss(similarity: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy of each utterance's row (S, U, S) against its speaker."""
    speakers, utterances = similarity.shape[:2]
    targets = torch.arange(speakers, device=similarity.device).repeat_interleave(utterances)
    return F.cross_entropy(similarity.reshape(speakers * utterances, speakers), targets)


def equal_error_rate(scores: np.ndarray, labels: np.ndarray) -> float:
    """The EER of scores against binary labels: where the ROC curve (linearly interpolated
    between its points) meets false-positive rate = 1 - true-positive rate."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels, dtype=bool).ravel()
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("the EER needs both positive and negative labels")
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    # One ROC point per distinct threshold: everything scoring at least it is accepted.
    last_of_each = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tpr = np.r_[0.0, np.cumsum(labels)[last_of_each] / positives]
    fpr = np.r_[0.0, np.cumsum(~labels)[last_of_each] / negatives]
    gap = fpr + tpr - 1.0  # non-decreasing along the curve; the EER point has gap 0
    i = int(np.argmax(gap >= 0.0))
    if i == 0 or gap[i] == 0.0:
        return float(fpr[i])
    t = -gap[i - 1] / (gap[i] - gap[i - 1])
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def similarity_eer(similarity: torch.Tensor) -> float:
    """The EER of a GE2E similarity matrix (S, U, S) against its speakers."""
    speakers, utterances = similarity.shape[:2]
    labels = np.repeat(np.eye(speakers, dtype=bool), utterances, axis=0)
    scores = similarity.detach().float().cpu().numpy().reshape(speakers * utterances, speakers)
    return equal_error_rate(scores, labels)


class GE2EResult(NamedTuple):
    loss: torch.Tensor
    eer: float
    embeds: torch.Tensor  # (S, U, E)
    similarity: torch.Tensor  # (S, U, S)


def gathered(embeds: torch.Tensor) -> torch.Tensor:
    """Every process's embeddings, concatenated in rank order (this one's alone when not
    distributed).

    GE2E compares each utterance with every speaker of the batch, so under DDP each process
    computes the loss over the whole batch. The gather's backward sums, into each process's
    own embeddings, the gradients all processes computed for them (W times the loss's, as all
    compute the same loss), and DDP's averaging over W processes then yields exactly the
    gradient of one process with the whole batch; w and b get the loss's gradient everywhere.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return embeds
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(embeds), dim=0)


def ge2e_step(
    model: nn.Module, frames: torch.Tensor, speakers: int, config: EncoderTrainConfig
) -> GE2EResult:
    """The training forward and GE2E loss of a batch of partials (speakers * U, T, n_mels)
    ordered speaker-major; under DDP, over the speakers of all processes."""
    network = unwrap(model)
    embeds = gathered(training_embeddings(model, frames))
    embeds = embeds.view(-1, frames.size(0) // speakers, embeds.size(-1))
    # Under mixed precision the similarities (about 1e-3 apart in float16, then scaled by w)
    # and the loss stay in float32.
    with torch.autocast(embeds.device.type, enabled=False):
        embeds = embeds.float()
        similarity = similarity_matrix(
            embeds, network.similarity_weight, network.similarity_bias, config.norm_eps
        )
        loss = ge2e_loss(similarity)
    return GE2EResult(loss, similarity_eer(similarity), embeds, similarity)


def scale_and_clip(model: SpeakerEncoder, config: EncoderTrainConfig) -> float:
    """Scale the gradients of w and b, then clip all to the global norm; the norm before
    clipping (after the scaling)."""
    for parameter in (model.similarity_weight, model.similarity_bias):
        if parameter.grad is not None:
            parameter.grad.mul_(config.similarity_grad_scale)
    return clip_gradients(model.parameters(), config.clip_norm)


def make_optimizer(model: SpeakerEncoder, config: EncoderTrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps)


def load_optimizer_state(
    optimizer: torch.optim.Optimizer, state: Mapping[str, Any], lr: float | None = None
) -> None:
    """Load an optimizer state (the official checkpoint's too: its parameter ids are the
    old object ids and its steps plain ints, both of which torch maps or converts), then
    reset the learning rate to `lr` when given."""
    optimizer.load_state_dict(dict(state))
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr


# --- the recipe ----------------------------------------------------------------------------


def plot_projection(path: Path, embeds: np.ndarray, eer: float, step_loss: float) -> None:
    """PNG: the batch's embeddings (S, U, E) projected on their first two principal axes,
    one colour per speaker (a linear, dependency-free stand-in for the reference's UMAP)."""
    from matplotlib.figure import Figure  # a Figure draws with Agg, no display needed

    speakers, utterances, dims = embeds.shape
    flat = embeds.reshape(-1, dims).astype(np.float64)
    centred = flat - flat.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    points = centred @ axes[:2].T
    figure = Figure(figsize=(6, 6))
    ax = figure.subplots()
    colours = np.repeat(np.arange(speakers), utterances)
    ax.scatter(points[:, 0], points[:, 1], c=colours, cmap="hsv", s=12)
    ax.set_title(f"embeddings, PCA 2-D: {speakers} speakers, EER {eer:.4f}, loss {step_loss:.4f}")
    ax.set_xticks([])
    ax.set_yticks([])
    figure.tight_layout()
    figure.savefig(path, dpi=80)


class EncoderRecipe:
    """The speaker encoder for `sv2tts.train.loop.Trainer`: GE2E, w/b scaling, clip 3."""

    name = "encoder"

    def __init__(self, config: EncoderTrainConfig | None = None) -> None:
        self.config = config or EncoderTrainConfig()

    def build_model(self) -> SpeakerEncoder:
        return SpeakerEncoder(self.config.model)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        network = unwrap(model)
        if not isinstance(network, SpeakerEncoder):
            raise TypeError(f"expected a SpeakerEncoder, got {type(network).__name__}")
        return make_optimizer(network, self.config)

    def phase(self, step: int) -> Phase:
        return Phase(lr=self.config.lr, batch_size=self.config.speakers_per_batch)

    def dataset(self, training_set: Path) -> EncoderDataset:
        c = self.config
        return EncoderDataset(training_set, c.partial_frames, c.model.n_mels)

    def batches(
        self, dataset: Dataset[Any], phase: Phase, shard: Shard, seed: int
    ) -> Iterator[EncoderBatch]:
        """Batches of phase.batch_size speakers; with several processes each takes every
        world_size-th speaker of the same global draw (`ge2e_step` gathers them again)."""
        if not isinstance(dataset, EncoderDataset):
            raise TypeError(f"expected an EncoderDataset, got {type(dataset).__name__}")
        if phase.batch_size % shard.world_size:
            raise ValueError(
                f"{phase.batch_size} speakers per batch do not split evenly over "
                f"{shard.world_size} processes"
            )
        rng = np.random.RandomState(seed)
        speaker_deck = DeckSampler(len(dataset), rng)
        utterance_decks = [DeckSampler(len(s.utterances), rng) for s in dataset.speakers]
        per_speaker = self.config.utterances_per_speaker
        size = self.config.partial_frames
        while True:
            chosen = speaker_deck.deal(phase.batch_size)
            picks = [utterance_decks[s].deal(per_speaker) for s in chosen]
            counts = [
                [dataset.speakers[s].frame_counts[u] for u in row]
                for s, row in zip(chosen, picks, strict=True)
            ]
            starts = partial_starts(counts, size, rng)
            mine = list(range(shard.rank, len(chosen), shard.world_size))
            utterances = [[dataset.frames(chosen[i], u) for u in picks[i]] for i in mine]
            yield EncoderBatch(
                frames=torch.from_numpy(cut_partials(utterances, starts[mine], size)),
                speakers=len(mine),
                starts=starts[mine],
                names=tuple(dataset.speakers[chosen[i]].name for i in mine),
            )

    def loss(self, model: nn.Module, batch: EncoderBatch) -> StepResult:
        result = ge2e_step(model, batch.frames, batch.speakers, self.config)
        scalars = {"loss": float(result.loss.detach()), "eer": result.eer}
        return StepResult(result.loss, scalars, outputs=result.embeds.detach())

    def clip(self, model: nn.Module) -> float:
        network = unwrap(model)
        if not isinstance(network, SpeakerEncoder):
            raise TypeError(f"expected a SpeakerEncoder, got {type(network).__name__}")
        return scale_and_clip(network, self.config)

    def write_sample(
        self, model: nn.Module, batch: EncoderBatch, result: StepResult, folder: Path
    ) -> None:
        embeds = result.outputs
        if not isinstance(embeds, torch.Tensor):
            log.warning("no embeddings in this step's result: no encoder sample")
            return
        eer, loss = result.scalars["eer"], result.scalars["loss"]
        plot_projection(folder / "projection.png", embeds.float().cpu().numpy(), eer, loss)
        (folder / "eer.txt").write_text(f"{eer:.6f}\n", encoding="utf-8")

    def sidecar(self) -> dict[str, Any]:
        """The EncoderConfig the engine's `load_voice_encoder` reads beside the checkpoint."""
        return asdict(self.config.model)


def make_recipe(training_set: Path, overrides: Mapping[str, Any]) -> EncoderRecipe:
    """The recipe for `python -m sv2tts train encoder`: the reference's settings overridden
    by `overrides` (the --config json: training keys, the network's under "model")."""
    return EncoderRecipe(EncoderTrainConfig.from_dict(overrides))
