"""Two CPU processes under torchrun's environment (gloo, DDP) take the vocoder's and the
encoder's step that one process takes on the doubled batch: the same gradients (Adam's
first moment) and weights after the step. For the encoder this needs the GE2E loss over the
speakers of both processes (`sv2tts.encoder.train.gathered`)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from sv2tts.cli import main
from sv2tts.train.checkpoints import read_checkpoint
from tests.sv2tts.encoder.test_encoder_recipe import small_config
from tests.sv2tts.encoder.test_encoder_recipe import training_set as encoder_set  # noqa: F401
from tests.sv2tts.train.ranks import free_port, train_as_rank
from tests.sv2tts.vocoder.test_vocoder_recipe import TINY
from tests.sv2tts.vocoder.test_vocoder_recipe import training_set as vocoder_set  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")


def one_and_two_processes(
    network: str, training_set: Path, config: dict[str, object], tmp_path: Path
) -> tuple[dict[str, object], dict[str, object]]:
    """The checkpoints after one step of one process and of two (forked, as torchrun
    would start them), from the same seed."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    common = [
        "--config",
        str(config_file),
        "--device",
        "cpu",
        "--no-progress",
        "--max-steps",
        "1",
        "--sample-every",
        "0",
        "--seed",
        "5",
    ]
    two = tmp_path / "two"
    port = free_port()
    fork = multiprocessing.get_context("fork")
    workers = [
        fork.Process(
            target=train_as_rank,
            args=(rank, 2, port, [network, str(training_set), str(two), *common]),
        )
        for rank in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    for worker in workers:
        if worker.is_alive():
            worker.kill()
    assert [worker.exitcode for worker in workers] == [0, 0]
    one = tmp_path / "one"
    assert main(["train", network, str(training_set), str(one), *common]) == 0
    return read_checkpoint(one / f"{network}.pt"), read_checkpoint(two / f"{network}.pt")


def assert_same_step(a: dict[str, object], b: dict[str, object]) -> None:
    assert a["step"] == b["step"] == 1
    moments_a = a["optimizer_state"]["state"]  # type: ignore[index]
    moments_b = b["optimizer_state"]["state"]  # type: ignore[index]
    assert moments_a.keys() == moments_b.keys() and len(moments_a) > 10
    largest = max(float(s["exp_avg"].abs().max()) for s in moments_a.values())
    assert largest > 1e-5, "a vacuous comparison: the step has no gradient"
    # A floor for tensors whose gradient is rounding noise (GE2E's bias: exactly 0 in theory).
    floor = 1e-6 * largest
    for index, state in moments_a.items():
        ga, gb = state["exp_avg"].numpy(), moments_b[index]["exp_avg"].numpy()
        assert np.abs(ga - gb).max() <= 1e-4 * np.abs(ga).max() + floor, index
    for key, theirs in a["model_state"].items():  # type: ignore[attr-defined]
        ours = b["model_state"][key].numpy().astype(np.float64)  # type: ignore[index]
        theirs = theirs.numpy().astype(np.float64)
        if "num_batches_tracked" in key or key == "step":
            assert np.array_equal(ours, theirs), key
            continue
        # Adam's first step, lr * g / (|g| + 1e-8), magnifies float noise where |g| is tiny.
        bad = np.abs(ours - theirs) > 1e-6 + 2e-6 * np.abs(theirs)
        assert bad.sum() <= 3, (key, int(bad.sum()))


def test_two_processes_take_the_vocoder_step_of_one_with_the_doubled_batch(
    vocoder_set: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = {"batch_size": 4, "model": dict(TINY.__dict__)}
    assert_same_step(*one_and_two_processes("vocoder", vocoder_set, config, tmp_path))


def test_two_processes_take_the_ge2e_step_of_one_with_the_doubled_batch(
    encoder_set: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = {**small_config().to_dict(), "speakers_per_batch": 4}
    assert_same_step(*one_and_two_processes("encoder", encoder_set, config, tmp_path))
