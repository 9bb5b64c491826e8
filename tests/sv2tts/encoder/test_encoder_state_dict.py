"""The speaker encoder's layout is the published checkpoint's, and loading it is strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sv2tts.encoder.model import SpeakerEncoder, load_encoder
from sv2tts.weights.checkpoint import CheckpointError


@pytest.fixture(scope="module")
def encoder_shapes(reference_dir: Path) -> dict[str, tuple[int, ...]]:
    data = json.loads((reference_dir / "state_dicts.json").read_text())
    return {key: tuple(shape) for key, shape in data["encoder"].items()}


def random_state(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {key: torch.randn(shape, generator=generator) for key, shape in shapes.items()}


def save_official(path: Path, state: dict[str, torch.Tensor]) -> None:
    """A file in the layout of the published encoder.pt."""
    torch.save({"step": 1564501, "model_state": state, "optimizer_state": {}}, path)


def test_network_has_exactly_the_checkpoint_keys_and_shapes(
    encoder_shapes: dict[str, tuple[int, ...]],
) -> None:
    got = {key: tuple(value.shape) for key, value in SpeakerEncoder().state_dict().items()}
    assert got == encoder_shapes
    assert len(got) == 16


def test_random_full_size_checkpoint_loads_strictly(
    encoder_shapes: dict[str, tuple[int, ...]], tmp_path: Path
) -> None:
    state = random_state(encoder_shapes)
    save_official(tmp_path / "encoder.pt", state)

    encoder = load_encoder(tmp_path / "encoder.pt")

    assert not encoder.training
    loaded = encoder.state_dict()
    for key, tensor in state.items():
        assert torch.equal(loaded[key], tensor), key
    assert all(p.device.type == "cpu" for p in encoder.parameters())


def test_wrong_shape_is_refused_naming_the_key(
    encoder_shapes: dict[str, tuple[int, ...]], tmp_path: Path
) -> None:
    state = random_state(encoder_shapes)
    state["linear.weight"] = torch.zeros(256, 128)
    save_official(tmp_path / "encoder.pt", state)

    with pytest.raises(CheckpointError, match=r"linear\.weight.*\[256, 128\]"):
        load_encoder(tmp_path / "encoder.pt")


def test_missing_key_is_refused_naming_it(
    encoder_shapes: dict[str, tuple[int, ...]], tmp_path: Path
) -> None:
    state = random_state(encoder_shapes)
    del state["lstm.weight_hh_l2"]
    save_official(tmp_path / "encoder.pt", state)

    with pytest.raises(CheckpointError, match=r"missing key 'lstm\.weight_hh_l2'"):
        load_encoder(tmp_path / "encoder.pt")


def test_missing_similarity_parameters_are_refused(
    encoder_shapes: dict[str, tuple[int, ...]], tmp_path: Path
) -> None:
    state = random_state(encoder_shapes)
    del state["similarity_bias"]
    save_official(tmp_path / "encoder.pt", state)

    with pytest.raises(CheckpointError, match="similarity_bias"):
        load_encoder(tmp_path / "encoder.pt")


def test_unexpected_key_is_refused_naming_it(
    encoder_shapes: dict[str, tuple[int, ...]], tmp_path: Path
) -> None:
    state = random_state(encoder_shapes)
    state["lstm.weight_ih_l3"] = torch.zeros(1024, 256)
    save_official(tmp_path / "encoder.pt", state)

    with pytest.raises(CheckpointError, match=r"unexpected key 'lstm\.weight_ih_l3'"):
        load_encoder(tmp_path / "encoder.pt")


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "encoder.pt"
    path.write_bytes(b"not a checkpoint")

    with pytest.raises(CheckpointError, match=r"encoder\.pt"):
        load_encoder(path)
