"""The full-size synthesizer and vocoder have exactly the official checkpoints' state dicts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from sv2tts.synthesizer.model import Tacotron, load_synthesizer
from sv2tts.vocoder.model import WaveRNN, load_vocoder
from sv2tts.weights.checkpoint import CheckpointError, load_strict

NETWORKS: dict[str, Callable[[], nn.Module]] = {"synthesizer": Tacotron, "vocoder": WaveRNN}


@pytest.fixture(scope="module")
def official_shapes(reference_dir: Path) -> dict[str, dict[str, list[int]]]:
    shapes: dict[str, dict[str, list[int]]] = json.loads(
        (reference_dir / "state_dicts.json").read_text()
    )
    return shapes


def random_state(shapes: dict[str, list[int]], like: nn.Module) -> dict[str, torch.Tensor]:
    """Random tensors of every key and shape, with the dtypes of the network's own."""
    dtypes = {k: v.dtype for k, v in like.state_dict().items()}
    state = {}
    for key, shape in shapes.items():
        dtype = dtypes.get(key, torch.float32)
        if dtype.is_floating_point:
            state[key] = torch.randn(shape, dtype=dtype)
        else:
            state[key] = torch.randint(1, 5, shape, dtype=dtype)
    return state


@pytest.mark.parametrize("name", NETWORKS)
def test_full_size_network_has_every_official_key_and_shape(
    official_shapes: dict[str, dict[str, list[int]]], name: str
) -> None:
    network = NETWORKS[name]()
    ours = {k: list(v.shape) for k, v in network.state_dict().items()}
    assert ours == official_shapes[name]


@pytest.mark.parametrize("name", NETWORKS)
def test_random_official_state_loads_strictly(
    official_shapes: dict[str, dict[str, list[int]]], name: str
) -> None:
    network = NETWORKS[name]()
    state = random_state(official_shapes[name], network)
    load_strict(network, state, name)
    loaded = network.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)


@pytest.mark.parametrize(
    ("name", "key"),
    [("synthesizer", "decoder.attn_net.conv.weight"), ("vocoder", "upsample.up_layers.5.weight")],
)
def test_wrong_shape_is_refused_by_name(
    official_shapes: dict[str, dict[str, list[int]]], name: str, key: str
) -> None:
    network = NETWORKS[name]()
    state = random_state(official_shapes[name], network)
    state[key] = torch.zeros(*state[key].shape[:-1], state[key].shape[-1] + 1)
    with pytest.raises(CheckpointError, match=re.escape(key)):
        load_strict(network, state, name)


@pytest.mark.parametrize(("name", "key"), [("synthesizer", "decoder.r"), ("vocoder", "fc3.bias")])
def test_missing_key_is_refused_by_name(
    official_shapes: dict[str, dict[str, list[int]]], name: str, key: str
) -> None:
    network = NETWORKS[name]()
    state = random_state(official_shapes[name], network)
    del state[key]
    with pytest.raises(CheckpointError, match=re.escape(f"missing key '{key}'")):
        load_strict(network, state, name)


@pytest.mark.parametrize("name", NETWORKS)
def test_extra_key_is_refused_by_name(
    official_shapes: dict[str, dict[str, list[int]]], name: str
) -> None:
    network = NETWORKS[name]()
    state = random_state(official_shapes[name], network)
    state["decoder.zoneout_mask"] = torch.zeros(3)
    with pytest.raises(CheckpointError, match=re.escape("unexpected key 'decoder.zoneout_mask'")):
        load_strict(network, state, name)


def test_loaders_read_official_format_files_into_eval_models(
    official_shapes: dict[str, dict[str, list[int]]], tmp_path: Path
) -> None:
    vocoder_state = random_state(official_shapes["vocoder"], WaveRNN())
    path = tmp_path / "vocoder.pt"
    torch.save({"model_state": vocoder_state, "optimizer_state": {"lr": 1e-4}}, path)
    vocoder = load_vocoder(path)
    assert not vocoder.training
    assert torch.equal(vocoder.fc3.weight, vocoder_state["fc3.weight"])

    synthesizer_state = random_state(official_shapes["synthesizer"], Tacotron())
    synthesizer_state["decoder.r"] = torch.tensor(2, dtype=torch.int32)
    path = tmp_path / "synthesizer.pt"
    torch.save({"model_state": synthesizer_state, "optimizer_state": {}}, path)
    synthesizer = load_synthesizer(path)
    assert not synthesizer.training
    assert synthesizer.reduction_factor == 2
    assert torch.equal(synthesizer.post_proj.weight, synthesizer_state["post_proj.weight"])
