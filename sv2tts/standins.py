"""Stand-ins for the real weights, for tests and benchmarks only: random full-size models.

The published checkpoints are large and not always at hand (offline machines, CI). These
build networks of the official shapes (`state_dicts.json` of the conformance vectors, or the
networks' own defaults) filled with random weights and loaded strictly, so that timing and
shape checks run on the real architecture. Random weights say nothing about speech: their
stop tokens are noise, so `random_pipeline` can force the decoder to a realistic length.
Nothing in production imports this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from sv2tts.devices import choose_device
from sv2tts.embedding import EMBEDDING_SIZE, l2_normalize
from sv2tts.encoder.model import SpeakerEncoder
from sv2tts.encoder.voices import VoiceEncoder
from sv2tts.pipeline import Pipeline
from sv2tts.synthesizer.model import Synthesis, SynthesizerConfig, Tacotron
from sv2tts.text import default_text_frontend
from sv2tts.vocoder.model import VocoderConfig, WaveRNN
from sv2tts.weights.checkpoint import load_strict


def default_shapes_path() -> Path | None:
    """`state_dicts.json` of the conformance vectors beside this checkout, if present."""
    candidate = (
        Path(__file__).resolve().parent.parent.parent
        / "shared"
        / "sv2tts-reference"
        / "state_dicts.json"
    )
    return candidate if candidate.is_file() else None


def read_reference_shapes(path: Path | str, component: str) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the official `component` checkpoint, from a `state_dicts.json`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key: tuple(shape) for key, shape in data[component].items()}


def random_model_state(
    shapes: Mapping[str, Sequence[int]], seed: int = 0, *, reduction_factor: int = 2
) -> dict[str, torch.Tensor]:
    """A state dict with every key and shape of a real one and random weights.

    For timing full-size networks when the real weights are absent: weights are drawn
    uniformly within ±1/sqrt(fan_in) (PyTorch's default initialisation, so activations stay
    in range), batch-norm statistics are the identity, and the synthesizer's buffers get
    their published values (step 0, stop threshold -3.4, decoder.r).
    """
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, shape in shapes.items():
        shape = tuple(shape)
        leaf = key.rsplit(".", 1)[-1]
        if leaf in ("num_batches_tracked", "step"):
            state[key] = torch.zeros(shape, dtype=torch.int64)
        elif key == "decoder.r":
            state[key] = torch.full(shape, reduction_factor, dtype=torch.int32)
        elif key == "stop_threshold":
            state[key] = torch.full(shape, -3.4)
        elif leaf == "running_var":
            state[key] = torch.ones(shape)
        elif leaf == "running_mean":
            state[key] = torch.zeros(shape)
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else max(1, shape[0] if shape else 1)
            bound = 1.0 / math.sqrt(fan_in)
            state[key] = (torch.rand(shape, generator=generator) * 2 - 1) * bound
    return state


def _own_shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


class ForcedLengthTacotron(Tacotron):
    """A Tacotron whose decoder runs `frames_per_symbol` frames per input symbol of the
    batch's longest sequence, whatever its stop tokens say (random ones mean nothing)."""

    def __init__(self, config: SynthesizerConfig | None, frames_per_symbol: float) -> None:
        super().__init__(config)
        self.frames_per_symbol = frames_per_symbol

    def generate(
        self,
        chars: torch.Tensor,
        speaker_embeddings: torch.Tensor,
        *,
        max_steps: int | None = None,
        force_steps: int | None = None,
        deterministic: bool = False,
    ) -> Synthesis:
        if force_steps is None:
            symbols = int((chars != 0).sum(dim=1).max())
            frames = self.frames_per_symbol * symbols
            force_steps = max(1, math.ceil(frames / self.reduction_factor))
        return super().generate(
            chars,
            speaker_embeddings,
            max_steps=max_steps,
            force_steps=force_steps,
            deterministic=deterministic,
        )


def random_synthesizer(
    shapes: Mapping[str, Sequence[int]] | None = None,
    *,
    config: SynthesizerConfig | None = None,
    seed: int = 0,
    frames_per_symbol: float | None = None,
) -> Tacotron:
    """A Tacotron with random weights, loaded strictly from a state dict of `shapes` (the
    official checkpoint's, e.g. from state_dicts.json; default: the network's own).
    `frames_per_symbol`: a `ForcedLengthTacotron` decoding that many frames per symbol."""
    config = config or SynthesizerConfig()
    model = (
        Tacotron(config)
        if frames_per_symbol is None
        else ForcedLengthTacotron(config, frames_per_symbol)
    )
    state = random_model_state(shapes or _own_shapes(model), seed, reduction_factor=config.r)
    load_strict(model, state, "random synthesizer")
    return model.eval()


def random_vocoder(
    shapes: Mapping[str, Sequence[int]] | None = None,
    *,
    config: VocoderConfig | None = None,
    seed: int = 0,
    logit_scale: float = 1.0,
) -> WaveRNN:
    """A WaveRNN with random weights, loaded strictly (see `random_synthesizer`).

    `logit_scale` multiplies the output layer: at 1 the predicted distribution over the
    classes is almost uniform, larger values make it as peaked as a trained model's.
    """
    model = WaveRNN(config or VocoderConfig())
    state = random_model_state(shapes or _own_shapes(model), seed)
    state["fc3.weight"] = state["fc3.weight"] * logit_scale
    state["fc3.bias"] = state["fc3.bias"] * logit_scale
    load_strict(model, state, "random vocoder")
    return model.eval()


def random_voice_encoder(device: str = "cpu", *, seed: int = 0) -> VoiceEncoder:
    """The speaker encoder of the official shapes (its own) with random weights."""
    model = SpeakerEncoder()
    load_strict(model, random_model_state(_own_shapes(model), seed), "random encoder")
    return VoiceEncoder(
        model.eval(),
        device=choose_device(device),
        encoder_id=f"random-{seed}",
        weights={"files": {"encoder": {"random": True}}},
    )


def random_pipeline(
    device: str = "cpu",
    *,
    shapes_path: Path | str | None = None,
    seed: int = 0,
    frames_per_symbol: float | None = None,
) -> Pipeline:
    """A Pipeline of full-size networks with random weights (see `random_synthesizer`)."""
    synth_shapes = voc_shapes = None
    if shapes_path is not None:
        synth_shapes = read_reference_shapes(shapes_path, "synthesizer")
        voc_shapes = read_reference_shapes(shapes_path, "vocoder")
    return Pipeline(
        voices=random_voice_encoder(device, seed=seed),
        synthesizer=random_synthesizer(
            synth_shapes, seed=seed, frames_per_symbol=frames_per_symbol
        ),
        frontend=default_text_frontend(),
        device=choose_device(device),
        wavernn=random_vocoder(voc_shapes, seed=seed),
        weights={
            "files": {
                "encoder": {"random": True},
                "synthesizer": {"random": True},
                "vocoder": {"random": True},
            }
        },
    )


def random_speaker(seed: int = 0) -> np.ndarray:
    """A unit vector shaped like the encoder's (non-negative: it ends in a ReLU)."""
    return l2_normalize(np.abs(np.random.default_rng(seed).standard_normal(EMBEDDING_SIZE)))
