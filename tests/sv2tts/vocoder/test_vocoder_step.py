"""One vocoder training step reproduces the reference's (`voc__*` in training_reference.npz):
the dataset item, the window sampling, the training forward, the loss, every gradient and the
weights after one Adam step, with the tolerances of the vectors' README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch

from sv2tts.vocoder.model import VocoderConfig, WaveRNN, load_vocoder
from sv2tts.vocoder.train import (
    VocoderBatch,
    VocoderRecipe,
    VocoderTrainConfig,
    collate_windows,
    gradient_norm,
    make_optimizer,
    prepare_item,
    raw_loss,
    training_logits,
)


def assert_close_to_max(got: np.ndarray, want: np.ndarray, rel: float, what: str) -> None:
    scale = float(np.abs(want).max())
    err = float(np.abs(np.asarray(got, dtype=np.float64) - want).max())
    assert err <= rel * scale, f"{what}: max |diff| {err:.3g} > {rel} x {scale:.3g}"


class Step(NamedTuple):
    model: WaveRNN
    start: dict[str, torch.Tensor]
    batch: VocoderBatch
    logits: torch.Tensor
    loss: float
    grads: dict[str, np.ndarray]
    grad_norm: float
    after: dict[str, torch.Tensor]
    optimizer: torch.optim.Adam


@pytest.fixture(scope="module")
def vectors(reference_dir: Path) -> dict[str, Any]:
    with np.load(reference_dir / "training_reference.npz") as data:
        arrays = {k: data[k] for k in data.files if k.startswith("voc__")}
    info = json.loads((reference_dir / "training_reference.json").read_text())["vocoder"]
    return {"arrays": arrays, "info": info}


@pytest.fixture(scope="module")
def config(reference_dir: Path) -> VocoderTrainConfig:
    model = VocoderConfig.from_dict(json.loads((reference_dir / "vocoder_tiny.json").read_text()))
    return VocoderTrainConfig(model=model, batch_size=3, seq_len=1000, lr=1e-4)


@pytest.fixture(scope="module")
def item(vectors: dict[str, Any], config: VocoderTrainConfig) -> tuple[np.ndarray, np.ndarray]:
    a = vectors["arrays"]
    return prepare_item(a["voc__mel"], a["voc__wav"], config)


@pytest.fixture(scope="module")
def step(
    reference_dir: Path,
    vectors: dict[str, Any],
    config: VocoderTrainConfig,
    item: tuple[np.ndarray, np.ndarray],
) -> Step:
    torch.set_num_threads(1)
    model = load_vocoder(reference_dir / "vocoder_tiny.pt", config.model)
    model.train()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    batch = collate_windows([item] * 3, np.random.RandomState(1234), config)
    optimizer = make_optimizer(model, config)
    logits = training_logits(model, batch)
    loss = raw_loss(logits, batch.y)
    loss.backward()
    grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    norm = gradient_norm(model)
    optimizer.step()
    after = {k: v.clone() for k, v in model.state_dict().items()}
    return Step(
        model, start, batch, logits.detach(), float(loss.detach()), grads, norm, after, optimizer
    )


def test_item_divides_the_mel_and_quantises_preemphasised_audio_like_the_reference(
    vectors: dict[str, Any], item: tuple[np.ndarray, np.ndarray]
) -> None:
    mel, labels = item
    a = vectors["arrays"]
    np.testing.assert_array_equal(mel, a["voc__item_mel"])
    np.testing.assert_array_equal(labels, a["voc__quant"].astype(np.int64))


def test_collate_draws_the_reference_offsets_windows_inputs_and_targets(
    vectors: dict[str, Any], step: Step
) -> None:
    a, info = vectors["arrays"], vectors["info"]
    batch = step.batch
    np.testing.assert_array_equal(batch.mel_offsets, a["voc__mel_offsets"])
    np.testing.assert_array_equal(batch.sig_offsets, a["voc__sig_offsets"])
    assert batch.mel_offsets.tolist() == info["mel_offsets"]
    np.testing.assert_array_equal(batch.mels.numpy(), a["voc__mels"])
    np.testing.assert_array_equal(batch.x.numpy(), a["voc__x"])
    np.testing.assert_array_equal(batch.y.numpy(), a["voc__y"].astype(np.int64))
    assert batch.y.dtype == torch.int64


def test_training_forward_matches_reference_conditioning_and_logits(
    reference_dir: Path, vectors: dict[str, Any], config: VocoderTrainConfig, step: Step
) -> None:
    a = vectors["arrays"]
    # The upsample network alone, from the starting weights in training mode.
    model = load_vocoder(reference_dir / "vocoder_tiny.pt", config.model).train()
    with torch.no_grad():
        mels_up, aux = model.upsample(step.batch.mels)
    assert_close_to_max(mels_up.numpy(), a["voc__upsampled_mels"], 1e-5, "upsampled mels")
    assert_close_to_max(aux.numpy(), a["voc__aux"], 1e-5, "aux")
    logits = step.logits.numpy()
    assert logits.shape == tuple(vectors["info"]["y_hat_shape"])
    assert_close_to_max(logits[:, :16], a["voc__y_hat_first16"], 1e-5, "first 16 logits")
    sums = logits.astype(np.float64).sum(axis=2)
    assert_close_to_max(sums, a["voc__y_hat_sum_over_classes"], 1e-5, "sum over classes")
    ce = torch.nn.functional.cross_entropy(
        step.logits.transpose(1, 2), step.batch.y, reduction="none"
    )
    assert_close_to_max(ce.numpy(), a["voc__ce_per_sample"], 1e-5, "per-sample CE")


def test_loss_is_the_reference_raw_cross_entropy(vectors: dict[str, Any], step: Step) -> None:
    assert step.loss == pytest.approx(vectors["info"]["loss"], rel=1e-5)


def test_recipe_loss_counts_a_step_and_names_its_component(
    reference_dir: Path, config: VocoderTrainConfig, step: Step
) -> None:
    model = load_vocoder(reference_dir / "vocoder_tiny.pt", config.model).train()
    result = VocoderRecipe(config).loss(model, step.batch)
    assert float(result.loss.detach()) == pytest.approx(step.loss, rel=1e-6)
    assert result.scalars == {"loss": pytest.approx(step.loss, rel=1e-6)}
    assert int(model.step) == 1


def test_every_gradient_matches_the_reference(vectors: dict[str, Any], step: Step) -> None:
    a, info = vectors["arrays"], vectors["info"]
    stored = {k[len("voc__grad__") :] for k in a if k.startswith("voc__grad__")}
    assert stored == set(step.grads), "the model's parameters are not the reference's"
    for name, grad in step.grads.items():
        assert_close_to_max(grad, a[f"voc__grad__{name}"], 1e-4, f"grad {name}")
        want_norm = info["per_tensor_grad_norm"][name]
        assert float(np.linalg.norm(grad)) == pytest.approx(want_norm, rel=1e-4), name
    assert step.grad_norm == pytest.approx(info["grad_norm"], rel=1e-5)
    assert info["parameters_without_grad"] == ["step"]


def _within_step_tolerance(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got.astype(np.float64) - want) <= 1e-6 + 2e-7 * np.abs(want)


def test_weights_and_buffers_after_one_adam_step_match_the_reference(
    vectors: dict[str, Any], step: Step
) -> None:
    a = vectors["arrays"]
    keys = {k[len("voc__after__") :] for k in a if k.startswith("voc__after__")}
    assert keys == set(step.after)
    for key, value in step.after.items():
        want = a[f"voc__after__{key}"]
        got = value.numpy()
        if not np.issubdtype(want.dtype, np.floating):
            np.testing.assert_array_equal(got.reshape(want.shape), want, err_msg=key)
            continue
        ok = _within_step_tolerance(got, want)
        if key == "upsample.resnet.conv_in.weight":
            # Bands 74-79 are constant in every window, so BatchNorm cancels them and the
            # reference's gradient there is rounding noise that Adam's first step amplifies.
            ok[:, 74:, :] = True
        assert ok.all(), f"{key}: {int((~ok).sum())} values off"
    assert int(step.after["step"]) == 1
    assert int(step.after["upsample.resnet.batch_norm.num_batches_tracked"]) == 1


def test_adam_on_the_reference_gradients_gives_the_reference_weights_everywhere(
    reference_dir: Path, vectors: dict[str, Any], config: VocoderTrainConfig
) -> None:
    a = vectors["arrays"]
    model = load_vocoder(reference_dir / "vocoder_tiny.pt", config.model)
    optimizer = make_optimizer(model, config)
    for name, param in model.named_parameters():
        param.grad = torch.from_numpy(a[f"voc__grad__{name}"].copy())
    optimizer.step()
    for name, param in model.named_parameters():
        ok = _within_step_tolerance(param.detach().numpy(), a[f"voc__after__{name}"])
        assert ok.all(), f"{name}: {int((~ok).sum())} values off"


def test_optimizer_state_counts_step_first_as_the_official_checkpoints_do(
    step: Step,
) -> None:
    state = step.optimizer.state_dict()
    n_params = len(list(step.model.parameters()))
    assert state["param_groups"][0]["params"] == list(range(n_params + 1))
    # The reference's optimizer over its 37 parameters (`step` first, without gradient).
    reference = [torch.nn.Parameter(torch.zeros(1), requires_grad=False)]
    reference += [torch.nn.Parameter(p.detach().clone()) for p in step.model.parameters()]
    assert set(state["state"]) == set(range(1, n_params + 1))
    reloaded = torch.optim.Adam(reference, lr=1e-4)
    reloaded.load_state_dict(state)
    assert reloaded.state[reference[0]] == {}
    moment = reloaded.state[reference[-1]]["exp_avg"]
    torch.testing.assert_close(moment, step.optimizer.state[step.model.fc3.bias]["exp_avg"])
