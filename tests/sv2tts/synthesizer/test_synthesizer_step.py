"""One synthesizer training step, exactly as the reference performs it (`syn__*` vectors).

From the stored mels and symbol ids: the collate, the teacher-forced training forward (prenet
dropout and zoneout off, BatchNorm in training mode), the loss components, every gradient
before clipping, the clipping, and the whole state dict after one Adam step; tolerances from
"Training step vectors" in ../shared/sv2tts-reference/README.md.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sv2tts.audio import dsp
from sv2tts.synthesizer.model import SynthesizerConfig, load_synthesizer
from sv2tts.synthesizer.train import (
    SynthesizerItem,
    SynthesizerRecipe,
    SynthesizerTrainConfig,
    TrainingSetInfo,
    collate,
)
from sv2tts.text.symbols import DEFAULT_SYMBOLS

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def ref(reference_dir: Path) -> dict[str, np.ndarray]:
    with np.load(reference_dir / "training_reference.npz") as data:
        return {k[len("syn__") :]: data[k] for k in data.files if k.startswith("syn__")}


@pytest.fixture(scope="module")
def facts(reference_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reference_dir / "training_reference.json").read_text())
    return data["synthesizer"]


@pytest.fixture(scope="module")
def recipe(facts: dict[str, Any]) -> SynthesizerRecipe:
    config = SynthesizerTrainConfig(
        model=SynthesizerConfig.from_dict(facts["config"]),
        schedule=((facts["r"], facts["lr"], 10, 2),),
        clip_grad_norm=facts["clip_grad_norm"],
        # Randomness switched off, as in the vectors: dropout calls and zoneout are identities.
        prenet_dropout=False,
        zoneout=0.0,
        loader_workers=0,
    )
    info = TrainingSetInfo(DEFAULT_SYMBOLS.symbols, ("english_cleaners",), "en", {})
    return SynthesizerRecipe(config, info)


def items(ref: dict[str, np.ndarray]) -> list[SynthesizerItem]:
    return [
        SynthesizerItem(ref[f"text_ids_{i}"], ref[f"mel_{i}"], ref["embeds"][i]) for i in (0, 1)
    ]


class Step:
    """The tiny checkpoint before and after one training step, and what the step produced."""

    def __init__(self, reference_dir: Path, recipe: SynthesizerRecipe, ref: dict[str, np.ndarray]):
        self.model = load_synthesizer(reference_dir / "synthesizer_tiny.pt", recipe.config.model)
        self.before = copy.deepcopy(self.model.state_dict())
        self.model.train()
        optimizer = recipe.build_optimizer(self.model)
        self.batch = collate(items(ref), r=2)
        self.result = recipe.loss(self.model, self.batch)
        optimizer.zero_grad()
        self.result.loss.backward()
        self.grads = {
            name: p.grad.detach().clone()
            for name, p in self.model.named_parameters()
            if p.grad is not None
        }
        self.norm = recipe.clip(self.model)
        optimizer.step()
        self.after = self.model.state_dict()


@pytest.fixture(scope="module")
def step(reference_dir: Path, recipe: SynthesizerRecipe, ref: dict[str, np.ndarray]) -> Step:
    return Step(reference_dir, recipe, ref)


def close_to_scale(ours: torch.Tensor, theirs: np.ndarray, rel: float) -> float:
    """max |difference| / max |reference value|."""
    diff = np.abs(ours.detach().numpy() - theirs).max()
    return float(diff / max(np.abs(theirs).max(), 1e-30))


def test_collate_pads_texts_and_mels_and_marks_stop_from_the_last_real_frame(
    ref: dict[str, np.ndarray],
) -> None:
    batch = collate(items(ref), r=2)
    np.testing.assert_array_equal(batch.chars.numpy(), ref["chars"])
    np.testing.assert_array_equal(batch.mels.numpy(), ref["mels"])
    np.testing.assert_array_equal(batch.stop_target.numpy(), ref["stop_target"])
    np.testing.assert_array_equal(batch.embeds.numpy(), ref["embeds"])
    assert batch.frames.tolist() == [80, 63]


def test_training_mels_are_the_mels_of_the_signal_path(ref: dict[str, np.ndarray]) -> None:
    for i in (0, 1):
        mel = dsp.melspectrogram(ref[f"wav_{i}"])
        assert mel.shape == ref[f"mel_{i}"].shape
        assert np.abs(mel - ref[f"mel_{i}"]).max() < 1e-3


def test_teacher_forced_forward_matches_the_reference(
    step: Step, ref: dict[str, np.ndarray]
) -> None:
    outputs = step.result.outputs
    assert close_to_scale(outputs.decoder_mels, ref["m1_hat"], 1e-5) <= 1e-5
    assert close_to_scale(outputs.mels, ref["m2_hat"], 1e-5) <= 1e-5
    assert close_to_scale(outputs.alignments, ref["attention"], 1e-5) <= 1e-5
    assert close_to_scale(outputs.stop_tokens, ref["stop_pred"], 1e-5) <= 1e-5


def test_loss_components_match_the_reference(step: Step, facts: dict[str, Any]) -> None:
    expected = facts["loss"]
    for ours, theirs in [
        ("m1_mse", "m1_mse"),
        ("m1_l1", "m1_l1"),
        ("m2_mse", "m2_mse"),
        ("stop_bce", "stop_bce"),
        ("loss", "total"),
    ]:
        assert step.result.scalars[ours] == pytest.approx(expected[theirs], rel=1e-5), ours


def test_every_gradient_before_clipping_matches_the_reference(
    step: Step, ref: dict[str, np.ndarray], facts: dict[str, Any]
) -> None:
    names = {k[len("grad__") :] for k in ref if k.startswith("grad__")}
    assert set(step.grads) == names  # every parameter gets a gradient, as in the reference
    assert len(names) == 97
    for name in sorted(names):
        assert close_to_scale(step.grads[name], ref[f"grad__{name}"], 1e-4) <= 1e-4, name
        assert float(step.grads[name].norm()) == pytest.approx(
            facts["per_tensor_grad_norm"][name], rel=1e-5
        ), name
    # Only the first r slots of the mel projection's (80 x max_r) outputs get gradient.
    mel_grad = step.grads["decoder.mel_proj.weight"].view(80, 20, -1)
    assert mel_grad[:, 2:].abs().max() == 0 and mel_grad[:, :2].abs().max() > 0


def test_clipping_reports_the_pre_clip_norm_and_scales_to_one(
    step: Step, facts: dict[str, Any]
) -> None:
    assert step.norm == pytest.approx(facts["grad_norm_before_clip"], rel=1e-5)
    clipped = torch.linalg.vector_norm(
        torch.stack([p.grad.norm() for p in step.model.parameters() if p.grad is not None])
    )
    assert float(clipped) == pytest.approx(facts["grad_norm_after_clip"], rel=1e-5)


def after_bound(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Where |difference| exceeds the README's bound 1e-6 + 2e-7 |value|."""
    return np.abs(ours - theirs) > 1e-6 + 2e-7 * np.abs(theirs)


def test_state_after_one_adam_step_matches_the_reference(
    step: Step, ref: dict[str, np.ndarray], facts: dict[str, Any]
) -> None:
    keys = {k[len("after__") :] for k in ref if k.startswith("after__")}
    assert set(step.after) == keys and len(keys) == 130
    outside = 0
    for key in sorted(keys):
        ours = step.after[key].numpy().astype(np.float64)
        theirs = ref[f"after__{key}"].astype(np.float64)
        assert ours.shape == theirs.shape, key
        bad = after_bound(ours, theirs)
        if bad.any():
            # Only where the gradient is tiny (|g| < 1e-6, far below the gradient tolerance
            # of its tensor) may Adam's first step, lr * g / (|g| + 1e-8), turn the float
            # noise of g into a visible move (README: 14 such values, up to 2.3e-5).
            grad = ref.get(f"grad__{key}")
            assert grad is not None, key
            assert np.abs(grad[bad]).max() < 1e-6, key
            assert np.abs(ours - theirs)[bad].max() < 5e-5, key
            outside += int(bad.sum())
        assert ours.sum() == pytest.approx(facts["per_tensor_sum_after"][key], rel=1e-4, abs=1e-3)
    assert outside <= 14
    assert int(step.after["step"]) == 1
    assert int(step.after["decoder.r"]) == 2
    assert int(step.after["encoder.cbhg.conv1d_bank.0.bnorm.num_batches_tracked"]) == 1


def test_adam_alone_from_the_stored_gradients_is_within_bound_everywhere(
    reference_dir: Path,
    recipe: SynthesizerRecipe,
    ref: dict[str, np.ndarray],
    facts: dict[str, Any],
) -> None:
    model = load_synthesizer(reference_dir / "synthesizer_tiny.pt", recipe.config.model)
    optimizer = recipe.build_optimizer(model)
    coefficient = facts["clip_coefficient_applied"]
    for name, parameter in model.named_parameters():
        parameter.grad = torch.from_numpy(ref[f"grad__{name}"] * np.float32(coefficient))
    optimizer.step()
    for name, parameter in model.named_parameters():
        theirs = ref[f"after__{name}"].astype(np.float64)
        assert not after_bound(parameter.detach().numpy().astype(np.float64), theirs).any(), name


def test_inference_is_unchanged_by_a_training_step_counter(step: Step) -> None:
    # The training forward counts steps in the buffer the checkpoint carries; eval does not.
    model = copy.deepcopy(step.model).eval()
    before = int(model.step)
    with torch.no_grad():
        model(step.batch.chars, step.batch.mels, step.batch.embeds, dropout=False)
    assert int(model.step) == before
