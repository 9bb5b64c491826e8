"""Samples written during training: attention and mel plots (PNG), waveforms (wav).

matplotlib runs with the Agg backend (no display), imported only when a sample is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_alignment(alignment: np.ndarray, path: Path, title: str = "") -> None:
    """Attention weights (decoder steps, input symbols) as an image: a diagonal is learnt."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 5))
    image = axes.imshow(alignment.T, aspect="auto", origin="lower", interpolation="none")
    figure.colorbar(image, ax=axes)
    axes.set_xlabel("decoder step")
    axes.set_ylabel("input symbol")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_mels(mels: Sequence[tuple[str, np.ndarray]], path: Path, title: str = "") -> None:
    """Mel spectrograms (n_mels, frames), one panel each, labelled."""
    plt = _pyplot()
    figure, axes = plt.subplots(len(mels), 1, figsize=(10, 2.5 * len(mels)), squeeze=False)
    for ax, (label, mel) in zip(axes[:, 0], mels, strict=True):
        image = ax.imshow(mel, aspect="auto", origin="lower", interpolation="none")
        figure.colorbar(image, ax=ax)
        ax.set_title(label, fontsize=9)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_wav(path: Path, wav: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM wav."""
    import soundfile

    soundfile.write(path, np.clip(wav, -1.0, 1.0), sample_rate, subtype="PCM_16")


def write_synthesizer_sample(
    batch: Any, outputs: Any, symbols: Sequence[str], folder: Path, *, vocode: bool = True
) -> None:
    """The batch's first item: attention.png, mel.png (target, decoder, post-net) and
    sample.wav (the post-net mel by Griffin-Lim through the engine's signal path)."""
    from sv2tts.audio import dsp

    frames = int(batch.frames[0])
    steps = -(-frames // int(batch.r))
    length = int((batch.chars[0] != 0).sum())
    text = "".join(symbols[i] for i in batch.chars[0, :length].tolist())
    plot_alignment(
        outputs.alignments[0, :steps, :length].float().cpu().numpy(), folder / "attention.png", text
    )
    predicted = outputs.mels[0, :, :frames].float().cpu().numpy()
    plot_mels(
        [
            ("target", batch.mels[0, :, :frames].cpu().numpy()),
            ("decoder output", outputs.decoder_mels[0, :, :frames].float().cpu().numpy()),
            ("post-net output", predicted),
        ],
        folder / "mel.png",
        text,
    )
    (folder / "text.txt").write_text(text + "\n", encoding="utf-8")
    if vocode:
        signal = dsp.SynthSignal()
        write_wav(folder / "sample.wav", dsp.griffin_lim(predicted, signal), signal.sample_rate)
