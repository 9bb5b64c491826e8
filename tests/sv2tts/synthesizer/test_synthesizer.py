"""The Tacotron synthesizer: conformance with the reference, config parsing, decoding guards."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.synthesizer.model import (
    SynthesizerConfig,
    Tacotron,
    load_synthesizer,
    trimmed_lengths,
)
from tests.sv2tts.conftest import DEVICES

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def tiny_config(reference_dir: Path) -> SynthesizerConfig:
    return SynthesizerConfig.from_dict(
        json.loads((reference_dir / "synthesizer_tiny.json").read_text())
    )


@pytest.fixture(scope="module")
def tiny(reference_dir: Path, tiny_config: SynthesizerConfig) -> Tacotron:
    return load_synthesizer(reference_dir / "synthesizer_tiny.pt", tiny_config)


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, np.ndarray]:
    with np.load(reference_dir / "synthesizer_reference.npz") as data:
        return dict(data)


def with_stop_weights(model: Tacotron, weight: torch.Tensor, bias: float) -> Tacotron:
    """A copy of `model` whose stop projection is replaced."""
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.decoder.stop_proj.weight.copy_(weight)
        changed.decoder.stop_proj.bias.fill_(bias)
    return changed


def short_batch(symbols: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded chars of the given lengths (each ending with 1) and random unit embeddings."""
    longest = max(symbols)
    chars = torch.zeros(len(symbols), longest, dtype=torch.long)
    for row, n in enumerate(symbols):
        chars[row, : n - 1] = torch.arange(n - 1) % 60 + 2
        chars[row, n - 1] = 1
    embeds = torch.nn.functional.normalize(torch.randn(len(symbols), 256), dim=1)
    return chars, embeds


@pytest.mark.parametrize("device", DEVICES)
def test_tiny_checkpoint_reproduces_reference_outputs(
    tiny: Tacotron, reference: dict[str, np.ndarray], device: str
) -> None:
    model = copy.deepcopy(tiny).to(device)
    chars = torch.from_numpy(reference["chars"]).to(device)
    embeds = torch.from_numpy(reference["embeds"]).to(device)
    steps = reference["attention"].shape[1]

    out = model.generate(chars, embeds, force_steps=steps, deterministic=True)

    got = {"decoder_mels": out.decoder_mels, "postnet_mels": out.mels, "attention": out.alignments}
    for name, tensor in got.items():
        assert tensor.device.type == device
        assert tuple(tensor.shape) == reference[name].shape, name
        diff = np.abs(tensor.cpu().numpy() - reference[name]).max()
        assert diff <= 1e-4, f"{name}: max abs diff {diff}"
    assert out.lengths.tolist() == [steps * model.reduction_factor] * len(chars)


def test_reduction_factor_comes_from_the_checkpoint(tiny: Tacotron) -> None:
    # The tiny checkpoint was saved with r=1 although the config's default is 2.
    assert tiny.config.r == 2
    assert tiny.reduction_factor == 1
    assert float(tiny.stop_threshold) == pytest.approx(-3.4)


def test_config_defaults_are_the_full_size_dims() -> None:
    config = SynthesizerConfig()
    assert (config.embed_dims, config.encoder_dims, config.decoder_dims) == (512, 256, 128)
    assert (config.lstm_dims, config.postnet_dims, config.num_chars) == (1024, 512, 66)
    assert (config.encoder_K, config.postnet_K, config.num_highways, config.r) == (5, 5, 4, 2)
    assert (config.dropout, config.stop_threshold, config.speaker_embedding_size) == (
        0.5,
        -3.4,
        256,
    )


def test_config_ignores_text_front_end_keys(reference_dir: Path) -> None:
    data = json.loads((reference_dir / "synthesizer_tiny.json").read_text())
    data["symbols"] = list("_~abc")
    data["cleaners"] = "english_cleaners"
    config = SynthesizerConfig.from_dict(data)
    assert config.embed_dims == 32
    assert config.lstm_dims == 48


def test_config_refuses_unknown_keys_by_name() -> None:
    with pytest.raises(ValueError, match="'lstm_dim'"):
        SynthesizerConfig.from_dict({"lstm_dim": 48})


def test_prenet_dropout_is_on_by_default_and_off_when_deterministic(tiny: Tacotron) -> None:
    chars, embeds = short_batch([12, 7])

    first = tiny.generate(chars, embeds, force_steps=6)
    second = tiny.generate(chars, embeds, force_steps=6)
    assert not torch.equal(first.decoder_mels, second.decoder_mels)

    first = tiny.generate(chars, embeds, force_steps=6, deterministic=True)
    second = tiny.generate(chars, embeds, force_steps=6, deterministic=True)
    assert torch.equal(first.decoder_mels, second.decoder_mels)


def test_decoding_without_stop_is_limited_in_proportion_to_each_input(tiny: Tacotron) -> None:
    never_stops = with_stop_weights(tiny, torch.zeros_like(tiny.decoder.stop_proj.weight), -50.0)
    symbols = [3, 5]
    chars, embeds = short_batch(symbols)

    out = never_stops.generate(chars, embeds, deterministic=True)

    r = never_stops.reduction_factor
    per_char = never_stops.config.max_frames_per_char
    limits = [math.ceil(n * per_char / r) * r for n in symbols]
    assert out.mels.shape[-1] == max(limits)
    assert out.alignments.shape[1] == max(limits) // r
    assert all(0 <= n <= limit for n, limit in zip(out.lengths.tolist(), limits, strict=True))


def test_max_steps_caps_decoding(tiny: Tacotron) -> None:
    never_stops = with_stop_weights(tiny, torch.zeros_like(tiny.decoder.stop_proj.weight), -50.0)
    chars, embeds = short_batch([20])
    out = never_stops.generate(chars, embeds, max_steps=9, deterministic=True)
    assert out.alignments.shape[1] == 9
    assert out.mels.shape[-1] == 9 * never_stops.reduction_factor


def test_decoding_ends_soon_after_every_stop_token_fires(tiny: Tacotron) -> None:
    always_stops = with_stop_weights(tiny, torch.zeros_like(tiny.decoder.stop_proj.weight), 50.0)
    chars, embeds = short_batch([30, 25])

    out = always_stops.generate(chars, embeds, deterministic=True)

    r = always_stops.reduction_factor
    first_allowed = math.ceil(always_stops.config.min_frames_before_stop / r)
    assert out.alignments.shape[1] == first_allowed + 1
    assert (out.stop_tokens[:, first_allowed] > 0.5).all()
    assert (out.lengths <= (first_allowed + 1) * r).all()


def test_a_sequence_that_stops_early_gets_a_short_length(tiny: Tacotron) -> None:
    # The stop token sees the context vector, whose speaker part is the embedding itself:
    # weight one embedding component so that only the first sequence ever stops.
    config = tiny.config
    weight = torch.zeros_like(tiny.decoder.stop_proj.weight)
    weight[0, config.lstm_dims + config.encoder_dims] = 100.0
    model = with_stop_weights(tiny, weight, 0.0)
    chars, embeds = short_batch([6, 6])
    embeds[0, 0], embeds[1, 0] = 0.5, -0.5

    out = model.generate(chars, embeds, deterministic=True)

    r = model.reduction_factor
    first_allowed = math.ceil(config.min_frames_before_stop / r)
    limit = math.ceil(6 * config.max_frames_per_char / r)
    assert out.alignments.shape[1] == limit
    assert out.lengths[0] <= (first_allowed + 1) * r
    assert (out.stop_tokens[1] < 0.5).all()


def test_trimmed_lengths_drop_trailing_frames_below_threshold_per_sequence() -> None:
    mels = torch.full((3, 80, 10), -4.0)
    mels[0, :, :7] = 0.0  # audible up to frame 7
    mels[1, 5, :3] = -3.0  # one band above the threshold up to frame 3
    mels[1, :, 5] = -3.5  # below the threshold: trailing, dropped
    mels[2] = 1.0  # audible to the end, but only 4 frames valid
    lengths = trimmed_lengths(mels, -3.4, torch.tensor([10, 10, 4]))
    assert lengths.tolist() == [7, 3, 4]
    assert lengths.dtype == torch.int64
    assert trimmed_lengths(mels, -3.4).tolist() == [7, 3, 10]


def test_generated_mels_are_trimmed_to_the_returned_lengths(tiny: Tacotron) -> None:
    # Make every mel band fall below the stop threshold: everything is trimmed.
    silent = copy.deepcopy(tiny)
    with torch.no_grad():
        silent.post_proj.weight.zero_()
        silent.stop_threshold.fill_(0.5)
    chars, embeds = short_batch([4])
    out = silent.generate(chars, embeds, max_steps=5, deterministic=True)
    assert out.lengths.tolist() == [0]
