"""One GE2E training step of the real speaker encoder reproduces the reference's (`enc__*`,
`enc_init__*` in training_reference.npz): the batch, the embeddings, the similarity matrix,
the loss and EER, the w/b scaling and the clipping, every stored gradient, and one Adam step,
also from the released checkpoint's own optimizer state; tolerances from the vectors' README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch

from sv2tts.encoder.data import cut_partials, partial_starts
from sv2tts.encoder.model import SpeakerEncoder, load_encoder
from sv2tts.encoder.train import (
    EncoderTrainConfig,
    ge2e_step,
    load_optimizer_state,
    make_optimizer,
    scale_and_clip,
)
from sv2tts.weights.manifest import bundled_encoder_path

RECORDINGS = ["1320_00000", "3575_00000", "6829_00000", "8230_00000", "p240_00000", "p260_00000"]
STORED = [
    "similarity_weight",
    "similarity_bias",
    "lstm.weight_ih_l0",
    "lstm.bias_hh_l2",
    "linear.weight",
    "linear.bias",
]
CONFIG = EncoderTrainConfig(speakers_per_batch=6, utterances_per_speaker=4)


def assert_close_to_max(got: np.ndarray, want: np.ndarray, rel: float, what: str) -> None:
    scale = float(np.abs(want).max())
    err = float(np.abs(np.asarray(got, dtype=np.float64) - want).max())
    assert err <= rel * scale, f"{what}: max |diff| {err:.3g} > {rel} x {scale:.3g}"


def step_tolerance_ok(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(got, dtype=np.float64) - want) <= 1e-6 + 2e-7 * np.abs(want)


class Step(NamedTuple):
    embeds: np.ndarray
    similarity: np.ndarray
    loss: float
    eer: float
    raw_grads: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    norm: float
    after: dict[str, np.ndarray]


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    path = bundled_encoder_path()
    if path is None:
        pytest.skip("resemblyzer's encoder weights are absent (pip install --no-deps resemblyzer)")
    return path


@pytest.fixture(scope="module")
def vectors(reference_dir: Path) -> dict[str, Any]:
    with np.load(reference_dir / "training_reference.npz") as data:
        arrays = {k: data[k] for k in data.files if k.startswith("enc")}
    info = json.loads((reference_dir / "training_reference.json").read_text())
    with np.load(reference_dir / "encoder_reference.npz") as data:
        mels = [data[f"{name}__mel"] for name in RECORDINGS]
    return {
        "arrays": arrays,
        "enc": info["encoder"],
        "enc_init": info["encoder_init_similarity"],
        "mels": mels,
    }


def run_step(
    model: SpeakerEncoder, frames: np.ndarray, optimizer_state: dict[str, Any] | None = None
) -> Step:
    torch.set_num_threads(1)
    model.train()
    optimizer = make_optimizer(model, CONFIG)
    if optimizer_state is not None:
        load_optimizer_state(optimizer, optimizer_state, lr=CONFIG.lr)
    result = ge2e_step(model, torch.from_numpy(frames), 6, CONFIG)
    result.loss.backward()
    raw = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    norm = scale_and_clip(model, CONFIG)
    grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    optimizer.step()
    return Step(
        embeds=result.embeds.detach().reshape(24, -1).numpy(),
        similarity=result.similarity.detach().numpy(),
        loss=float(result.loss.detach()),
        eer=result.eer,
        raw_grads=raw,
        grads=grads,
        norm=norm,
        after={k: v.numpy().copy() for k, v in model.state_dict().items()},
    )


@pytest.fixture(scope="module")
def enc(checkpoint: Path, vectors: dict[str, Any]) -> Step:
    return run_step(load_encoder(checkpoint), vectors["arrays"]["enc__frames"])


@pytest.fixture(scope="module")
def enc_init(checkpoint: Path, vectors: dict[str, Any]) -> Step:
    model = load_encoder(checkpoint)
    with torch.no_grad():
        model.similarity_weight.fill_(10.0)
        model.similarity_bias.fill_(-5.0)
    return run_step(model, vectors["arrays"]["enc__frames"])


def test_partials_are_drawn_speaker_major_from_the_seeded_generator(
    vectors: dict[str, Any],
) -> None:
    a, mels = vectors["arrays"], vectors["mels"]
    starts = partial_starts([[len(m)] * 4 for m in mels], 160, np.random.RandomState(4321))
    np.testing.assert_array_equal(starts, a["enc__starts"])
    assert starts.tolist() == vectors["enc"]["starts"]
    frames = cut_partials([[m] * 4 for m in mels], starts, 160)
    np.testing.assert_array_equal(frames, a["enc__frames"])


def test_released_weights_give_the_reference_embeddings_similarities_and_loss(
    vectors: dict[str, Any], enc: Step
) -> None:
    a, info = vectors["arrays"], vectors["enc"]
    assert_close_to_max(enc.embeds, a["enc__embeds"], 1e-5, "embeddings")
    assert_close_to_max(enc.similarity, a["enc__sim_matrix"], 1e-5, "similarity matrix")
    assert abs(enc.loss - info["loss"]) <= 1e-8
    assert enc.eer == info["eer"] == 0.0


def test_released_weights_give_the_reference_gradients_within_rounding(
    vectors: dict[str, Any], enc: Step
) -> None:
    a, info = vectors["arrays"], vectors["enc"]
    assert enc.norm == pytest.approx(info["grad_norm_before_clip"], rel=1e-3)
    for name in STORED:
        if name == "similarity_bias":
            assert abs(float(enc.grads[name][0])) < 1e-8
            continue
        assert_close_to_max(enc.grads[name], a[f"enc__grad__{name}"], 5e-3, f"grad {name}")
    for name, norm in info["per_tensor_grad_norm_after_ops"].items():
        if name != "similarity_bias":
            assert float(np.linalg.norm(enc.grads[name])) == pytest.approx(norm, rel=1e-2), name


def test_released_weights_after_one_step_match_but_for_amplified_rounding_noise(
    vectors: dict[str, Any], enc: Step
) -> None:
    a = vectors["arrays"]
    keys = {k[len("enc__after__") :] for k in a if k.startswith("enc__after__")}
    assert keys == set(enc.after)
    off = total = 0
    for key, value in enc.after.items():
        want = a[f"enc__after__{key}"]
        ok = step_tolerance_ok(value, want)
        off += int((~ok).sum())
        total += ok.size
        # Adam's first step moves a weight by at most about lr, whatever its gradient.
        assert np.abs(value - want).max() <= 1.2e-4, key
    # The README: about 0.35 % of the values, where the gradient itself is rounding noise.
    assert off / total < 0.01, f"{off} of {total} values off"


def test_adam_on_the_reference_gradients_gives_the_reference_weights(
    checkpoint: Path, vectors: dict[str, Any]
) -> None:
    a = vectors["arrays"]
    model = load_encoder(checkpoint)
    named = dict(model.named_parameters())
    tensors = [torch.nn.Parameter(named[name].detach().clone()) for name in STORED]
    optimizer = torch.optim.Adam(tensors, lr=CONFIG.lr, betas=CONFIG.betas, eps=CONFIG.eps)
    for name, tensor in zip(STORED, tensors, strict=True):
        tensor.grad = torch.from_numpy(a[f"enc__grad__{name}"].copy())
    optimizer.step()
    for name, tensor in zip(STORED, tensors, strict=True):
        ok = step_tolerance_ok(tensor.detach().numpy(), a[f"enc__after__{name}"])
        assert ok.all(), f"{name}: {int((~ok).sum())} values off"


def test_resuming_from_the_released_optimizer_state_gives_the_reference_step(
    checkpoint: Path, vectors: dict[str, Any]
) -> None:
    a = vectors["arrays"]
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["optimizer_state"]
    resumed = run_step(load_encoder(checkpoint), a["enc__frames"], state)
    for name in STORED:
        ok = step_tolerance_ok(resumed.after[name], a[f"enc__resumed_after__{name}"])
        assert ok.all(), f"{name}: {int((~ok).sum())} values off"
    assert float(resumed.after["similarity_weight"][0]) == pytest.approx(
        vectors["enc"]["resumed_after_step"]["similarity_weight"], abs=1e-6
    )


def test_fresh_similarity_scale_gives_the_reference_loss_and_gradients_strictly(
    vectors: dict[str, Any], enc_init: Step
) -> None:
    a, info = vectors["arrays"], vectors["enc_init"]
    assert_close_to_max(enc_init.similarity, a["enc_init__sim_matrix"], 1e-5, "similarity")
    assert enc_init.loss == pytest.approx(info["loss"], rel=1e-5)
    assert enc_init.eer == info["eer"]
    raw_w = float(enc_init.raw_grads["similarity_weight"][0])
    assert raw_w == pytest.approx(float(a["enc_init__grad_raw__similarity_weight"][0]), rel=1e-4)
    # Zero in exact arithmetic (a common shift of the logits); float32 leaves noise.
    assert abs(float(enc_init.raw_grads["similarity_bias"][0])) < 1e-6
    raw_norm = float(
        np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in enc_init.raw_grads.values()))
    )
    assert raw_norm == pytest.approx(info["grad_norm_raw"], rel=1e-5)
    # The norm the clipping saw is that of the scaled gradients; clipping is active here.
    assert enc_init.norm == pytest.approx(info["grad_norm_before_clip"], rel=1e-5)
    coefficient = CONFIG.clip_norm / (enc_init.norm + 1e-6)
    assert coefficient == pytest.approx(info["clip_coefficient_applied"], rel=1e-5)
    for name in STORED:
        if name == "similarity_bias":
            assert abs(float(enc_init.grads[name][0])) < 1e-8
            continue
        want = a[f"enc_init__grad__{name}"]
        assert_close_to_max(enc_init.grads[name], want, 1e-4, f"grad {name}")
    for name, norm in info["per_tensor_grad_norm_after_ops"].items():
        if name != "similarity_bias":
            got = float(np.linalg.norm(enc_init.grads[name].astype(np.float64)))
            assert got == pytest.approx(norm, rel=1e-4), name


def test_fresh_similarity_scale_after_one_step_matches_the_reference(
    vectors: dict[str, Any], enc_init: Step
) -> None:
    a, info = vectors["arrays"], vectors["enc_init"]
    for name in STORED:
        ok = step_tolerance_ok(enc_init.after[name], a[f"enc_init__after__{name}"])
        assert ok.all(), f"{name}: {int((~ok).sum())} values off"
    for name, total in info["per_tensor_sum_after"].items():
        got = float(enc_init.after[name].astype(np.float64).sum())
        assert got == pytest.approx(total, rel=1e-6, abs=1e-4), name
