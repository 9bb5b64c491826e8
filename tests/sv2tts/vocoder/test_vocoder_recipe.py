"""The vocoder recipe over a training set on disk: the documented format, batches that a
seed fixes and that shards split exactly, a sample, and a checkpoint the engine loads."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.train.cli import main
from sv2tts.train.loop import Shard
from sv2tts.vocoder.model import VocoderConfig, load_vocoder
from sv2tts.vocoder.train import (
    VocoderDataset,
    VocoderRecipe,
    VocoderTrainConfig,
    collate_windows,
    draw_offsets,
    prepare_item,
)
from sv2tts.weights.checkpoint import CheckpointError

TINY = VocoderConfig(
    rnn_dims=16,
    fc_dims=16,
    compute_dims=8,
    res_out_dims=8,
    res_blocks=1,
    upsample_factors=(5, 5, 8),
)


@pytest.fixture(scope="module")
def training_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three utterances of noise with made-up mels, written in the documented layout."""
    root = tmp_path_factory.mktemp("vocoder_set")
    (root / "mels").mkdir()
    (root / "audio").mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for i, samples in enumerate([6000, 8000, 9999]):
        frames = 1 + samples // 200
        wav = (0.3 * rng.standard_normal(samples)).astype(np.float32)
        mel = rng.uniform(-4, 4, (80, frames)).astype(np.float32)
        np.save(root / "audio" / f"utt{i}.npy", wav)
        np.save(root / "mels" / f"utt{i}.npy", mel)
        lines.append(f"utt{i}|{samples}|{frames}")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    (root / "dataset.json").write_text("{}")
    return root


@pytest.fixture()
def recipe() -> VocoderRecipe:
    torch.set_num_threads(1)
    return VocoderRecipe(VocoderTrainConfig(model=TINY, batch_size=4, sample_frames=12))


def test_batches_are_fixed_by_the_seed_and_two_shards_split_one_batch(
    recipe: VocoderRecipe, training_set: Path
) -> None:
    dataset = recipe.dataset(training_set)
    phase = recipe.phase(0)
    whole = next(recipe.batches(dataset, phase, Shard(), seed=7))
    again = next(recipe.batches(dataset, phase, Shard(), seed=7))
    other = next(recipe.batches(dataset, phase, Shard(), seed=8))
    assert whole.x.shape == (4, 1000) and whole.mels.shape == (4, 80, 9)
    torch.testing.assert_close(whole.x, again.x)
    assert not torch.equal(whole.x, other.x)
    halves = [next(recipe.batches(dataset, phase, Shard(r, 2), seed=7)) for r in range(2)]
    torch.testing.assert_close(halves[0].x, whole.x[0::2])
    torch.testing.assert_close(halves[1].mels, whole.mels[1::2])
    torch.testing.assert_close(halves[1].y, whole.y[1::2])


def test_offsets_come_from_the_valid_range_and_windows_line_up_with_labels(
    recipe: VocoderRecipe, training_set: Path
) -> None:
    dataset = recipe.dataset(training_set)
    config = recipe.config
    mel, labels = dataset[0]
    offsets = draw_offsets([mel.shape[1]] * 2000, np.random.RandomState(0), config)
    # [0, T - 2 - (9 + 4)): for T = 31, offsets 0 .. 17.
    assert offsets.min() == 0 and offsets.max() == mel.shape[1] - 2 - 13 - 1
    batch = collate_windows([(mel, labels)], np.random.RandomState(3), config)
    o, s = int(batch.mel_offsets[0]), int(batch.sig_offsets[0])
    assert s == (o + 2) * 200
    np.testing.assert_array_equal(batch.mels[0].numpy(), mel[:, o : o + 9])
    np.testing.assert_array_equal(batch.y[0].numpy(), labels[s + 1 : s + 1001])


def test_item_pads_a_full_hop_when_the_length_is_a_multiple_of_it(recipe: VocoderRecipe) -> None:
    config = recipe.config
    wav = np.full(400, 0.5, dtype=np.float32)
    mel = np.zeros((80, 3), dtype=np.float32)
    _, labels = prepare_item(mel, wav, config)
    # 400 samples pad to 600 and are cut to 3 frames: the last hop is silence (label 256).
    assert labels.shape == (600,)
    assert (labels[400:] == 256).all() and (labels[1:400] != 256).all()


def test_a_mismatched_index_line_is_refused_by_name(tmp_path: Path, training_set: Path) -> None:
    for sub in ("mels", "audio"):
        (tmp_path / sub).mkdir()
        for f in (training_set / sub).iterdir():
            (tmp_path / sub / f.name).write_bytes(f.read_bytes())
    (tmp_path / "train.txt").write_text("utt0|6000|99\n")
    dataset = VocoderDataset(tmp_path, VocoderTrainConfig(model=TINY))
    with pytest.raises(ValueError, match="utt0"):
        dataset[0]


def test_train_command_writes_a_checkpoint_the_engine_loads_and_resumes_it(
    training_set: Path, tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    config = tmp_path / "config.json"
    model = {k: v for k, v in TINY.__dict__.items()}
    settings = {"batch_size": 4, "sample_frames": 12, "sample_target": 400, "sample_overlap": 50}
    config.write_text(json.dumps({**settings, "model": model}))
    run = tmp_path / "run"
    common = ["vocoder", str(training_set), str(run), "--device", "cpu", "--no-progress"]
    assert main([*common, "--config", str(config), "--max-steps", "2", "--sample-every", "2"]) == 0

    checkpoint = torch.load(run / "vocoder.pt", map_location="cpu", weights_only=True)
    assert checkpoint["step"] == 2
    # The reference's optimizer counts `step` (index 0, no state) before the 36 parameters.
    n_params = len(checkpoint["model_state"]) - sum(
        1 for k in checkpoint["model_state"] if "running_" in k or "num_batches" in k
    )
    assert checkpoint["optimizer_state"]["param_groups"][0]["params"] == list(range(n_params))
    assert 0 not in checkpoint["optimizer_state"]["state"]
    loaded = load_vocoder(
        run / "vocoder.pt", VocoderConfig.from_dict(json.loads((run / "vocoder.json").read_text()))
    )
    assert int(loaded.step) == 2
    with wave.open(str(run / "samples" / "0000002" / "generated.wav")) as generated:
        assert generated.getframerate() == 16000
        assert generated.getnframes() == (12 - 1) * 200
    assert (run / "samples" / "0000002" / "sample.png").stat().st_size > 1000

    assert main([*common, "--resume", "--max-steps", "3"]) == 0
    resumed = torch.load(run / "vocoder.pt", map_location="cpu", weights_only=True)
    assert resumed["step"] == 3
    assert int(resumed["model_state"]["step"]) == 3


def test_a_published_checkpoint_resumes_at_its_models_step(
    training_set: Path, tmp_path: Path
) -> None:
    """The published vocoder.pt (and synthesizer.pt) have no top-level step, only the model's
    `step` buffer: copied into a run folder, `--resume` continues from it, optimizer included."""
    torch.set_num_threads(1)
    config = tmp_path / "config.json"
    settings = {"batch_size": 4, "sample_frames": 12, "sample_target": 400, "sample_overlap": 50}
    config.write_text(json.dumps({**settings, "model": dict(TINY.__dict__)}))
    run = tmp_path / "run"
    common = ["vocoder", str(training_set), str(run), "--device", "cpu", "--no-progress"]
    assert main([*common, "--config", str(config), "--max-steps", "2", "--sample-every", "0"]) == 0
    # What the published files look like: the step only in the model's buffer.
    published = torch.load(run / "vocoder.pt", map_location="cpu", weights_only=True)
    del published["step"]
    published["model_state"]["step"] = torch.tensor([41])
    torch.save(published, run / "vocoder.pt")

    assert main([*common, "--resume", "--max-steps", "42", "--sample-every", "0"]) == 0
    resumed = torch.load(run / "vocoder.pt", map_location="cpu", weights_only=True)
    assert resumed["step"] == 42 and int(resumed["model_state"]["step"]) == 42
    # Adam went on from the saved moments: one more step on each, not a fresh start.
    state, before = resumed["optimizer_state"]["state"], published["optimizer_state"]["state"]
    assert before and all(float(state[k]["step"]) == float(before[k]["step"]) + 1 for k in before)


def test_a_checkpoint_without_an_optimizer_state_is_not_resumed(
    training_set: Path, tmp_path: Path, reference_dir: Path
) -> None:
    """The tiny reference file has an empty optimizer state: --resume says to use --init."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "vocoder.pt").write_bytes((reference_dir / "vocoder_tiny.pt").read_bytes())
    config = tmp_path / "config.json"
    model = json.loads((reference_dir / "vocoder_tiny.json").read_text())
    config.write_text(json.dumps({"batch_size": 4, "sample_frames": 12, "model": model}))
    common = ["vocoder", str(training_set), str(run), "--device", "cpu", "--no-progress"]
    with pytest.raises(CheckpointError, match="--init"):
        main([*common, "--config", str(config), "--resume", "--max-steps", "1"])
