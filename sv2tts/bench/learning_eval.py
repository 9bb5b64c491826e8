"""How the learning benchmark measures a synthesizer on held-out sentences
(`sv2tts.bench.learning`): diagonality of the attention, its focus, and the mel distance
of the free-running output to the reference speech after dynamic time warping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sv2tts.synthesizer.model import Tacotron
from sv2tts.synthesizer.train import SynthesizerDataset, SynthesizerItem, collate

# Half-width of the band around the straight text path, as a share of the characters.
BAND_SHARE = 0.1


# --- measures -------------------------------------------------------------------------------


def diagonal_band_mass(alignment: np.ndarray, steps: int, chars: int) -> tuple[float, float]:
    """(attention mass within the band around the straight path, the band's share of the
    characters: the score of attention spread evenly) for one sentence's alignment
    (decoder steps, characters), of which the first `steps` and `chars` are real."""
    weights = np.asarray(alignment, dtype=np.float64)[:steps, :chars]
    half_width = max(1.0, BAND_SHARE * chars)
    centre = (np.arange(steps) + 0.5) / steps * chars - 0.5
    distance = np.abs(np.arange(chars)[None, :] - centre[:, None])
    band = distance <= half_width
    mass = float((weights * band).sum() / max(weights.sum(), 1e-12))
    return mass, float(band.mean())


def focus(alignment: np.ndarray, steps: int, chars: int) -> float:
    """Mean over the first `steps` decoder steps of the largest attention weight."""
    return float(np.asarray(alignment)[:steps, :chars].max(axis=1).mean())


def dtw_mel_distance(generated: np.ndarray, truth: np.ndarray) -> float:
    """Mean |difference| per band over the DTW path (L1 frame cost) of two (n_mels, T) mels."""
    import librosa

    if generated.shape[1] == 0:
        return float("nan")
    _, path = librosa.sequence.dtw(X=generated, Y=truth, metric="cityblock")
    a, b = path[:, 0], path[:, 1]
    return float(np.abs(generated[:, a] - truth[:, b]).mean())


@dataclass
class HeldOut:
    """The held-out sentences, as one padded batch and their true lengths."""

    chars: torch.Tensor
    embeds: torch.Tensor
    mels: list[np.ndarray]
    n_chars: list[int]
    texts: list[str]


def read_held_out(training_set: Path) -> HeldOut:
    dataset = SynthesizerDataset(training_set)
    items = [dataset[i] for i in range(len(dataset))]
    longest = max(len(item.chars) for item in items)
    chars = torch.zeros(len(items), longest, dtype=torch.int64)
    for row, item in enumerate(items):
        chars[row, : len(item.chars)] = torch.from_numpy(item.chars)
    texts = [line.split("|")[5] for line in (training_set / "train.txt").read_text().splitlines()]
    return HeldOut(
        chars=chars,
        embeds=torch.from_numpy(np.stack([item.embed for item in items])),
        mels=[item.mel for item in items],
        n_chars=[len(item.chars) for item in items],
        texts=texts,
    )


@torch.no_grad()
def evaluate(model: Tacotron, held: HeldOut, r: int, mean_frame: np.ndarray) -> dict[str, float]:
    """The measures of the module docstring on the held-out sentences (no dropout), each
    sentence synthesised on its own (batch of one, as `say` does)."""
    was_training = model.training
    model.eval()
    model.decoder.r.fill_(r)
    free_mass: list[float] = []
    forced_mass: list[float] = []
    chance: list[float] = []
    free_focus: list[float] = []
    distances: list[float] = []
    baselines: list[float] = []
    ratios: list[float] = []
    forced_mae: list[float] = []
    # One sentence at a time, as `say` runs it: no padding for the attention to wander to.
    for i, truth in enumerate(held.mels):
        n_chars, n_frames = held.n_chars[i], truth.shape[1]
        chars, embed = held.chars[i : i + 1, :n_chars], held.embeds[i : i + 1]
        # Free-running, as at inference; at most 1.5 times the true length.
        synthesis = model.generate(
            chars, embed, max_steps=math.ceil(1.5 * n_frames / r), deterministic=True
        )
        # Teacher-forced: fed the true frames.
        batch = collate([SynthesizerItem(chars[0].numpy(), truth, embed[0].numpy())], r=r)
        forced = model(batch.chars, batch.mels, batch.embeds, dropout=False, zoneout=0.0)

        length = int(synthesis.lengths[0])
        steps = max(1, math.ceil(length / r))
        alignment = synthesis.alignments[0].cpu().numpy()
        mass, share = diagonal_band_mass(alignment, steps, n_chars)
        free_mass.append(mass)
        chance.append(share)
        free_focus.append(focus(alignment, steps, n_chars))
        true_steps = math.ceil(n_frames / r)
        forced_mass.append(
            diagonal_band_mass(forced.alignments[0].cpu().numpy(), true_steps, n_chars)[0]
        )
        generated = synthesis.mels[0, :, :length].cpu().numpy()
        distances.append(dtw_mel_distance(generated, truth))
        baselines.append(float(np.abs(truth - mean_frame[:, None]).mean()))
        ratios.append(length / n_frames)
        forced_mae.append(float(np.abs(forced.mels[0, :, :n_frames].cpu().numpy() - truth).mean()))
    model.train(was_training)
    return {
        "diagonality_free": float(np.mean(free_mass)),
        "diagonality_forced": float(np.mean(forced_mass)),
        "diagonality_chance": float(np.mean(chance)),
        "focus_free": float(np.mean(free_focus)),
        "mel_distance_dtw": float(np.nanmean(distances)),
        "mel_distance_baseline": float(np.mean(baselines)),
        "mel_mae_forced": float(np.mean(forced_mae)),
        "frames_ratio": float(np.mean(ratios)),
    }


# --- the run --------------------------------------------------------------------------------
