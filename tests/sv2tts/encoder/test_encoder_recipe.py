"""The encoder recipe over a training set on disk: the documented format, the EER, dealing
speakers and utterances, batches a seed fixes, and the train command's checkpoint, which
the engine loads (official layout, sidecar) and which resumes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.encoder.data import DeckSampler, EncoderDataset
from sv2tts.encoder.model import EncoderConfig, load_encoder
from sv2tts.encoder.train import EncoderRecipe, EncoderTrainConfig, equal_error_rate
from sv2tts.loading import load_voice_encoder
from sv2tts.train.cli import main
from sv2tts.train.loop import Shard

# Embeddings wide enough that a fresh ReLU layer is not dead for every input (with 8, two
# seeds in eight gave zero gradients).
TINY = EncoderConfig(hidden_size=16, num_layers=2, embedding_size=32, partial_frames=20)


@pytest.fixture(scope="module")
def training_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four speakers, three utterances each plus one too short and one file not listed in
    _sources.txt. Each speaker has its own band pattern, whose mean is s / 4 + 0.125."""
    root = tmp_path_factory.mktemp("encoder_set")
    rng = np.random.default_rng(0)
    for s in range(4):
        folder = root / f"speaker{s}"
        folder.mkdir()
        lines = []
        pattern = s / 4 + 0.25 * rng.random(40)
        for u, frames in enumerate([30, 45, 60, 12]):
            data = (pattern + 0.2 * rng.random((frames, 40))).astype(np.float32)
            np.save(folder / f"frames-u{u}.npy", data)
            lines.append(f"frames-u{u}.npy,/data/speaker{s}/u{u}.flac")
        np.save(folder / "frames-unlisted.npy", np.zeros((50, 40), np.float32))
        (folder / "_sources.txt").write_text("\n".join(lines) + "\n")
    return root


def small_config() -> EncoderTrainConfig:
    return EncoderTrainConfig(model=TINY, speakers_per_batch=3, utterances_per_speaker=2)


def test_eer_is_zero_when_separated_one_when_reversed_and_interpolated_between() -> None:
    labels = np.array([1, 1, 0, 0])
    assert equal_error_rate(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 0.0
    assert equal_error_rate(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 1.0
    # Scores 4 > 3 > 2 > 1 with labels 1, 0, 1, 0: the ROC runs (0, 0), (0, .5), (.5, .5),
    # (.5, 1), (1, 1) and meets fpr = 1 - tpr at fpr = 0.5.
    assert equal_error_rate(np.array([4.0, 3.0, 2.0, 1.0]), np.array([1, 0, 1, 0])) == 0.5
    # Tied scores form one point: all four tied is the chance diagonal.
    assert equal_error_rate(np.ones(4), labels) == 0.5


def test_the_deck_deals_every_item_once_before_any_twice() -> None:
    deck = DeckSampler(5, np.random.RandomState(0))
    dealt = deck.deal(3) + deck.deal(4) + deck.deal(3)
    assert sorted(dealt[:5]) == [0, 1, 2, 3, 4]
    assert sorted(dealt[5:10]) == [0, 1, 2, 3, 4]


def test_dataset_reads_listed_utterances_long_enough_for_a_partial(training_set: Path) -> None:
    dataset = EncoderDataset(training_set, partial_frames=20)
    assert [s.name for s in dataset.speakers] == [f"speaker{s}" for s in range(4)]
    speaker = dataset.speakers[0]
    assert [p.name for p in speaker.utterances] == [f"frames-u{u}.npy" for u in range(3)]
    assert speaker.frame_counts == (30, 45, 60)


def test_batches_are_speaker_major_partials_fixed_by_the_seed(training_set: Path) -> None:
    recipe = EncoderRecipe(small_config())
    dataset = recipe.dataset(training_set)
    phase = recipe.phase(0)
    batch = next(recipe.batches(dataset, phase, Shard(), seed=3))
    again = next(recipe.batches(dataset, phase, Shard(), seed=3))
    assert batch.frames.shape == (6, 20, 40) and batch.speakers == 3
    torch.testing.assert_close(batch.frames, again.frames)
    assert len(set(batch.names)) == 3
    for row, name in enumerate(batch.names):
        # Rows 2 i and 2 i + 1 are the i-th speaker's; speaker s's frames average s / 4 + 0.225.
        level = float(batch.frames[2 * row : 2 * row + 2].mean())
        assert int(4 * level) == int(name.removeprefix("speaker"))
    with pytest.raises(ValueError, match="split evenly"):
        next(recipe.batches(dataset, phase, Shard(0, 2), seed=3))


def test_two_shards_take_alternate_speakers_of_the_same_draw(training_set: Path) -> None:
    recipe = EncoderRecipe(dataclasses.replace(small_config(), speakers_per_batch=4))
    dataset = recipe.dataset(training_set)
    phase = recipe.phase(0)
    batch = next(recipe.batches(dataset, phase, Shard(), seed=3))
    halves = [next(recipe.batches(dataset, phase, Shard(r, 2), seed=3)) for r in range(2)]
    assert halves[0].names == batch.names[0::2] and halves[1].names == batch.names[1::2]
    torch.testing.assert_close(halves[0].frames, torch.cat([batch.frames[0:2], batch.frames[4:6]]))
    torch.testing.assert_close(halves[1].frames, torch.cat([batch.frames[2:4], batch.frames[6:8]]))


def test_train_command_writes_a_checkpoint_the_engine_loads_and_resumes_it(
    training_set: Path, tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(small_config().to_dict()))
    run = tmp_path / "run"
    common = ["encoder", str(training_set), str(run), "--device", "cpu", "--no-progress"]
    assert main([*common, "--config", str(config), "--max-steps", "2", "--sample-every", "2"]) == 0

    checkpoint = torch.load(run / "encoder.pt", map_location="cpu", weights_only=True)
    assert checkpoint["step"] == 2
    assert len(checkpoint["optimizer_state"]["state"]) == len(checkpoint["model_state"])
    sidecar = json.loads((run / "encoder.json").read_text())
    assert EncoderConfig(**sidecar) == TINY
    model = load_encoder(run / "encoder.pt", TINY)
    torch.testing.assert_close(model.similarity_bias, checkpoint["model_state"]["similarity_bias"])
    assert load_voice_encoder(run, device="cpu") is not None
    sample = run / "samples" / "0000002"
    assert (sample / "projection.png").stat().st_size > 1000
    assert 0.0 <= float((sample / "eer.txt").read_text()) <= 1.0

    assert main([*common, "--resume", "--max-steps", "3"]) == 0
    resumed = torch.load(run / "encoder.pt", map_location="cpu", weights_only=True)
    assert resumed["step"] == 3
    assert not torch.equal(resumed["model_state"]["linear.weight"], model.linear.weight)
