"""The WaveRNN vocoder: conformance with the reference, folding, batching, config parsing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from sv2tts.devices import configure_cpu_threads
from sv2tts.speech import WAVERNN_FOLDS, SynthesisOptions, wavernn_folds
from sv2tts.vocoder.fast import onednn_linear_available, sample_classes, sample_sequence
from sv2tts.vocoder.model import (
    VocoderConfig,
    WaveRNN,
    crossfade_and_unfold,
    fold_with_overlap,
    load_vocoder,
)
from tests.sv2tts.conftest import DEVICES

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def tiny_config(reference_dir: Path) -> VocoderConfig:
    return VocoderConfig.from_dict(json.loads((reference_dir / "vocoder_tiny.json").read_text()))


@pytest.fixture(scope="module")
def tiny(reference_dir: Path, tiny_config: VocoderConfig) -> WaveRNN:
    return load_vocoder(reference_dir / "vocoder_tiny.pt", tiny_config)


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, np.ndarray]:
    with np.load(reference_dir / "vocoder_reference.npz") as data:
        return dict(data)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_tiny_checkpoint_reproduces_reference_waveform(
    tiny: WaveRNN, reference: dict[str, np.ndarray], batched: bool, device: str
) -> None:
    model = copy.deepcopy(tiny).to(device)
    mel = torch.from_numpy(reference["mel"]).to(device)

    wav = model.generate(
        mel,
        batched=batched,
        target=int(reference["target"]),
        overlap=int(reference["overlap"]),
        deterministic=True,
    )

    expected = reference["batched" if batched else "unbatched"]
    assert wav.dtype == np.float32
    assert wav.shape == expected.shape
    assert np.abs(wav - expected).max() <= 1e-4


def test_config_defaults_are_the_full_size_dims() -> None:
    config = VocoderConfig()
    assert (config.rnn_dims, config.fc_dims, config.bits, config.pad) == (512, 512, 9, 2)
    assert config.upsample_factors == (5, 5, 8)
    assert (config.feat_dims, config.compute_dims, config.res_out_dims) == (80, 128, 128)
    assert (config.res_blocks, config.hop_length, config.sample_rate) == (10, 200, 16000)
    assert config.mode == "RAW"


def test_config_reads_the_tiny_json_and_ignores_text_keys(reference_dir: Path) -> None:
    data = json.loads((reference_dir / "vocoder_tiny.json").read_text())
    config = VocoderConfig.from_dict({**data, "symbols": ["_"], "cleaners": "basic"})
    assert config.upsample_factors == (5, 5, 8)
    assert (config.rnn_dims, config.res_blocks) == (32, 2)


def test_config_refuses_unknown_keys_and_other_modes() -> None:
    with pytest.raises(ValueError, match="'rnn_dim'"):
        VocoderConfig.from_dict({"rnn_dim": 32})
    with pytest.raises(ValueError, match="MOL"):
        VocoderConfig.from_dict({"mode": "MOL"})
    with pytest.raises(ValueError, match="hop length"):
        VocoderConfig(upsample_factors=(5, 5, 4))


def test_folds_are_overlapping_slices_of_the_sequence() -> None:
    target, overlap = 7, 3
    x = torch.arange(2 * 40, dtype=torch.float32).view(2, 40, 1)
    folds = fold_with_overlap(x, target, overlap)
    per_item = folds.size(0) // 2
    length = target + 2 * overlap
    assert folds.shape[1:] == (length, 1)
    for item in range(2):
        for i in range(per_item):
            start = i * (target + overlap)
            expected = x[item, start : start + length, 0]
            got = folds[item * per_item + i, : len(expected), 0]
            assert torch.equal(got, expected)
    # The last fold reaches the end of the sequence, and no fold lies wholly in padding.
    assert (per_item - 1) * (target + overlap) + length >= 40
    assert (per_item - 1) * (target + overlap) < 40


def test_unfolding_restores_the_signal_outside_the_crossfades() -> None:
    target, overlap = 10, 4
    x = torch.randn(2, 57, 1)
    folds = fold_with_overlap(x, target, overlap)[:, :, 0]
    unfolded = crossfade_and_unfold(folds, folds.size(0) // 2, overlap)
    stride = target + overlap
    assert unfolded.size(1) >= 57
    for i in range(folds.size(0) // 2):
        core = slice(i * stride + overlap, i * stride + stride)
        assert torch.allclose(unfolded[:, core], x[:, core, 0])
    # The crossfade: the earlier fold fades out over the first half of the overlap, the
    # later one fades in over the second half (equal-power sqrt ramps).
    ones = torch.ones(1, 3 * stride + overlap, 1)
    envelope = crossfade_and_unfold(fold_with_overlap(ones, target, overlap)[:, :, 0], 3, overlap)
    seam = envelope[0, stride : stride + overlap]
    assert seam[0] == pytest.approx(1.0)
    assert seam[overlap // 2 - 1] == pytest.approx(0.0, abs=1e-6)
    assert seam[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_a_batch_gives_each_item_what_it_gives_alone(tiny: WaveRNN, batched: bool) -> None:
    torch.manual_seed(0)
    mels = torch.rand(2, 80, 12) * 2 - 1
    options = {"batched": batched, "target": 600, "overlap": 100, "deterministic": True}

    together = tiny.generate_batch(mels, [12, 9], **options)
    alone = [tiny.generate(mels[0], **options), tiny.generate(mels[1, :, :9], **options)]

    hop = tiny.config.hop_length
    assert [len(w) for w in together] == [11 * hop, 8 * hop]
    np.testing.assert_allclose(together[0], alone[0], atol=1e-5)
    # The second item's padding frames feed its upsampling context, so compare away from it.
    np.testing.assert_allclose(together[1][: 5 * hop], alone[1][: 5 * hop], atol=1e-5)


def test_sampling_is_random_by_default_and_argmax_when_deterministic(tiny: WaveRNN) -> None:
    torch.manual_seed(1)
    mel = torch.rand(80, 8) * 2 - 1
    sampled = [tiny.generate(mel, target=400, overlap=50) for _ in range(2)]
    assert not np.array_equal(sampled[0], sampled[1])
    argmax = [tiny.generate(mel, target=400, overlap=50, deterministic=True) for _ in range(2)]
    np.testing.assert_array_equal(argmax[0], argmax[1])


def test_waveform_fades_out_to_silence(tiny: WaveRNN) -> None:
    torch.manual_seed(2)
    wav = tiny.generate(torch.rand(80, 30) * 2 - 1, target=1000, overlap=100)
    assert wav[-1] == 0.0
    assert np.all(np.isfinite(wav))
    assert np.abs(wav[: len(wav) // 2]).max() > 0.0


def test_bad_inputs_are_refused(tiny: WaveRNN) -> None:
    with pytest.raises(ValueError, match="expected mels"):
        tiny.generate_batch(torch.zeros(1, 40, 10))
    with pytest.raises(ValueError, match="lengths"):
        tiny.generate_batch(torch.zeros(2, 80, 10), [10, 11])


def test_sampled_classes_follow_the_softmax() -> None:
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(1, 12, generator=generator) * 2
    logits[0, 5] = -float("inf")  # a class of probability zero
    draws = 60_000
    labels = torch.empty(draws, dtype=torch.long)

    sample_classes(logits.repeat(draws, 1), torch.rand(draws, 1, generator=generator), labels)

    counts = torch.bincount(labels, minlength=12).numpy()
    probabilities = torch.softmax(logits[0].double(), dim=0).numpy()
    assert counts[5] == 0
    keep = probabilities > 0
    expected = probabilities[keep] / probabilities[keep].sum() * draws
    assert chisquare(counts[keep], expected).pvalue > 1e-3


def test_sampling_thresholds_at_the_ends_pick_the_first_and_last_class() -> None:
    logits = torch.tensor([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [-float("inf"), 0.0, -float("inf")]])
    labels = torch.empty(3, dtype=torch.long)
    sample_classes(logits, torch.tensor([[0.0], [1.0 - 2**-24], [0.999]]), labels)
    assert labels.tolist() == [0, 2, 1]


@pytest.mark.skipif(not onednn_linear_available(), reason="PyTorch built without oneDNN")
def test_onednn_and_blas_products_give_the_same_samples(tiny: WaveRNN) -> None:
    torch.manual_seed(4)
    mels = torch.rand(3, 500, tiny.config.feat_dims) * 2 - 1
    aux = torch.randn(3, 500, tiny.config.res_out_dims)
    with torch.inference_mode():
        blas = sample_sequence(tiny, mels, aux, True, onednn=False)
        onednn = sample_sequence(tiny, mels, aux, True, onednn=True)
    torch.testing.assert_close(onednn, blas, atol=0, rtol=0)


def test_bfloat16_products_stay_close_to_float32(tiny: WaveRNN) -> None:
    torch.manual_seed(5)
    mel = torch.rand(80, 20) * 2 - 1
    options = {"target": 1000, "overlap": 100, "deterministic": True}
    exact = tiny.generate(mel, **options)
    half = tiny.generate(mel, precision="bfloat16", **options)
    assert half.shape == exact.shape
    assert np.corrcoef(half, exact)[0, 1] > 0.9
    with pytest.raises(ValueError, match="precision"):
        tiny.generate(mel, precision="float16", **options)  # type: ignore[arg-type]


def test_wavernn_folds_default_per_device_and_options_override() -> None:
    assert WAVERNN_FOLDS["cuda"] == (8000, 800)
    cpu = wavernn_folds(SynthesisOptions(), torch.device("cpu"))
    assert cpu == WAVERNN_FOLDS["cpu"]
    # Never below the 200 samples (12.5 ms) that warm a fold up and cross-fade it.
    assert cpu[1] >= 200
    assert wavernn_folds(SynthesisOptions(), torch.device("cuda")) == (8000, 800)
    chosen = SynthesisOptions(wavernn_target=600, wavernn_overlap=50)
    assert wavernn_folds(chosen, torch.device("cuda")) == (600, 50)
    assert wavernn_folds(SynthesisOptions(wavernn_overlap=300), torch.device("cpu")) == (
        cpu[0],
        300,
    )


def test_configure_cpu_threads_sets_torch_threads() -> None:
    before = torch.get_num_threads()
    try:
        configure_cpu_threads(2)
        assert torch.get_num_threads() == 2
        configure_cpu_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="threads"):
        configure_cpu_threads(0)


# --- the fast sample loop, pinned to the plain reference step -------------------------------


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_plain_reference_loop_reproduces_reference_waveform(
    tiny: WaveRNN, reference: dict[str, np.ndarray], batched: bool
) -> None:
    wav = tiny.generate(
        torch.from_numpy(reference["mel"]),
        batched=batched,
        target=int(reference["target"]),
        overlap=int(reference["overlap"]),
        deterministic=True,
        plain=True,
    )
    expected = reference["batched" if batched else "unbatched"]
    assert wav.shape == expected.shape
    assert np.abs(wav - expected).max() <= 1e-4


def _conditioning(model: WaveRNN, mels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pad = model.config.pad
    with torch.inference_mode():
        return model.upsample(torch.nn.functional.pad(mels, (pad, pad)))


def test_fast_loop_draws_the_samples_of_the_plain_loop(tiny: WaveRNN) -> None:
    torch.manual_seed(6)
    mels_up, aux = _conditioning(tiny, torch.rand(3, 80, 4) * 2 - 1)
    with torch.inference_mode():
        plain = tiny.sample_plain(mels_up, aux, deterministic=True)
        fast = sample_sequence(tiny, mels_up, aux, True)
    assert fast.shape == plain.shape == (3, 4 * tiny.config.hop_length)
    # Every one of the 2400 argmax decisions agrees: one that flipped would send that
    # row's recurrence elsewhere and its later samples with it.
    assert torch.equal(fast, plain)
    # ... and the pinned signal is not a constant one.
    assert len(torch.unique(plain)) >= 3 and int((plain[:, 1:] != plain[:, :-1]).sum()) >= 10


def test_teacher_forced_forward_is_the_step_run_over_a_sequence(tiny: WaveRNN) -> None:
    torch.manual_seed(7)
    mels = torch.rand(2, 80, 3) * 2 - 1
    mels_up, aux = _conditioning(tiny, mels)
    with torch.inference_mode():
        samples = sample_sequence(tiny, mels_up, aux, True)
        previous = torch.nn.functional.pad(samples[:, :-1], (1, 0))
        logits = tiny(previous, mels)
        stepped = []
        h1 = h2 = torch.zeros(2, tiny.config.rnn_dims)
        for t in range(samples.size(1)):
            step, h1, h2 = tiny.step_logits(
                previous[:, t : t + 1], mels_up[:, t], aux[:, t], h1, h2
            )
            stepped.append(step)
    torch.testing.assert_close(logits, torch.stack(stepped, dim=1), atol=1e-5, rtol=1e-5)
    # Given the fast loop's own history, the plain network picks the fast loop's classes.
    levels = tiny.class_levels(torch.device("cpu"), torch.float32)
    assert torch.equal(levels[logits.argmax(dim=2)], samples)
