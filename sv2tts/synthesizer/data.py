"""Reading a synthesizer training set and building its batches as the reference does.

The format is described in `sv2tts.synthesizer.train`'s docstring (what `preprocess
synthesizer` writes). `SynthesizerDataset` reads it; `collate` pads a batch exactly as the
reference's loader does; `ShardedShuffledBatches` draws shuffled global batches and gives
each process its share, padded as the whole batch (so that N processes take one step).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from sv2tts.text.frontend import DEFAULT_CLEANERS, frontend_from_config
from sv2tts.text.symbols import DEFAULT_SYMBOLS
from sv2tts.train.loop import Shard

log = logging.getLogger(__name__)

# The training set's file names and the field order of train.txt.
DATASET_JSON = "dataset.json"
METADATA_TXT = "train.txt"
AUDIO_DIR = "audio"
MELS_DIR = "mels"
EMBEDS_DIR = "embeds"
METADATA_FIELDS = ("audio", "mel", "embed", "n_samples", "n_frames", "text", "ids")


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


def collate(
    items: Sequence[SynthesizerItem],
    r: int,
    pad_value: float = -4.0,
    longest: tuple[int, int] | None = None,
) -> SynthesizerBatch:
    """The reference's synthesizer batch: texts right-padded with 0 to the longest; mels
    right-padded with `pad_value` (the silence floor) to the longest + 1 frames, rounded up
    to a multiple of r; stop targets 1 from each item's last real frame on.

    longest: (symbols, frames) of the longest text and mel of the whole global batch when
    this is one process's share of it, so that every share is padded as the whole batch
    would be (padding takes part in the loss and the batch statistics).
    """
    frames = [item.mel.shape[1] for item in items]
    longest_text = max(len(item.chars) for item in items)
    longest_mel = max(frames)
    if longest is not None:
        longest_text, longest_mel = max(longest_text, longest[0]), max(longest_mel, longest[1])
    padded = longest_mel + 1
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


class ShareItem(NamedTuple):
    """An item of a process's share, with the longest (symbols, frames) of its global batch."""

    item: SynthesizerItem
    longest: tuple[int, int]


class _ShareOfBatch(Dataset[ShareItem]):
    """Reads (index, longest) keys from `ShardedShuffledBatches`."""

    def __init__(self, dataset: SynthesizerDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, tuple[int, int]]) -> ShareItem:  # type: ignore[override]
        index, longest = key
        return ShareItem(self.dataset[index], longest)


def collate_share(items: Sequence[ShareItem], r: int, pad_value: float) -> SynthesizerBatch:
    return collate([i.item for i in items], r, pad_value, items[0].longest)


class ShardedShuffledBatches(Sampler[list[tuple[int, tuple[int, int]]]]):
    """Endless global batches, shuffled per epoch; this process's share of each.

    Each epoch is a fresh permutation (seeded by seed and epoch); an epoch's incomplete last
    batch is dropped so that every process always gets its full share. Each key is (item
    index, (longest symbols, longest frames) of the global batch).
    """

    def __init__(
        self,
        lengths: Sequence[tuple[int, int]],
        batch_size: int,
        shard: Shard,
        seed: int,
    ) -> None:
        self.lengths = list(lengths)
        self.size = len(self.lengths)
        self.batch_size = min(batch_size, self.size)
        if self.batch_size < shard.world_size:
            raise ValueError(
                f"a batch of {self.batch_size} cannot be shared by {shard.world_size} processes"
            )
        self.shard = shard
        self.seed = seed

    def __iter__(self) -> Iterator[list[tuple[int, tuple[int, int]]]]:
        epoch = 0
        while True:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
            for start in range(0, self.size - self.batch_size + 1, self.batch_size):
                batch = order[start : start + self.batch_size]
                longest = (
                    max(self.lengths[i][0] for i in batch),
                    max(self.lengths[i][1] for i in batch),
                )
                yield [(i, longest) for i in batch[self.shard.rank :: self.shard.world_size]]
            epoch += 1
