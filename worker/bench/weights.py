"""The weights the bench runs: the tiny reference models, or full-size random ones."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def full_size_random_weights(dest: Path) -> Path:
    """Full-size synthesizer and vocoder with random weights, marked as a custom model."""
    import torch

    from sv2tts.standins import random_model_state
    from sv2tts.synthesizer.model import SynthesizerConfig, Tacotron
    from sv2tts.vocoder.model import VocoderConfig, WaveRNN

    dest.mkdir(parents=True, exist_ok=True)
    models = {"synthesizer": Tacotron(SynthesizerConfig()), "vocoder": WaveRNN(VocoderConfig())}
    for component, model in models.items():
        shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
        torch.save({"model_state": random_model_state(shapes, seed=1)}, dest / f"{component}.pt")
        (dest / f"{component}.json").write_text("{}")  # the default (published) dims
    return dest


def tiny_weights(dest: Path, reference: Path) -> Path:
    """The tiny reference synthesizer and vocoder with their configs (a custom model); the
    encoder is the one the resemblyzer package ships."""
    if not reference.is_dir():
        raise SystemExit(f"the tiny checkpoints are in {reference}, which is absent")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("synthesizer", "vocoder"):
        shutil.copyfile(reference / f"{name}_tiny.pt", dest / f"{name}.pt")
        shutil.copyfile(reference / f"{name}_tiny.json", dest / f"{name}.json")
    return dest


def weights_for(args: argparse.Namespace, scratch: Path) -> Path:
    if args.weights_dir:
        return Path(args.weights_dir)
    if args.full_size:
        return full_size_random_weights(scratch / "weights")
    return tiny_weights(scratch / "weights", Path(args.reference_dir))
