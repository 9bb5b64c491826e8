"""Two CPU processes under torchrun (gloo, DDP) take the step one process takes on the
doubled batch: the same clipped gradients (Adam's first moment) and the same weights and
batch-norm statistics after the step."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from sv2tts.cli import main
from sv2tts.train.checkpoints import read_checkpoint
from sv2tts.train.logs import read_csv
from tests.sv2tts.train.ranks import free_port, train_as_rank
from tests.sv2tts.train.syn_set import make_training_set, tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def test_two_processes_take_the_step_of_one_process_with_the_doubled_batch(
    audio_dir: Path, tmp_path: Path
) -> None:
    training_set = make_training_set(audio_dir, tmp_path / "set")
    config = {**tiny_config(batch_size=4), "prenet_dropout": False, "zoneout": 0.0}
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
        "--log-every",
        "1",
        "--seed",
        "3",
    ]

    # Two processes as torchrun starts them (RANK, LOCAL_RANK, WORLD_SIZE and the rendezvous
    # address in the environment), forked from this one so that torch is not imported
    # twice more; `torchrun --nproc-per-node 2 -m sv2tts train ...` does the same.
    two = tmp_path / "two"
    port = free_port()
    fork = multiprocessing.get_context("fork")
    args = ["synthesizer", str(training_set), str(two), *common]
    workers = [fork.Process(target=train_as_rank, args=(rank, 2, port, args)) for rank in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    for worker in workers:
        if worker.is_alive():
            worker.kill()
    assert [worker.exitcode for worker in workers] == [0, 0]

    one = tmp_path / "one"
    assert main(["train", "synthesizer", str(training_set), str(one), *common]) == 0

    # The logged loss is the whole batch's (the processes' shares averaged).
    logged_one = read_csv(one / "logs" / "scalars.csv")[0]
    logged_two = read_csv(two / "logs" / "scalars.csv")[0]
    for name in ("loss", "m1_mse", "m2_mse", "stop_bce", "grad_norm"):
        assert logged_two[name] == pytest.approx(logged_one[name], rel=2e-5), name

    a, b = read_checkpoint(one / "synthesizer.pt"), read_checkpoint(two / "synthesizer.pt")
    assert a["step"] == b["step"] == 1
    # Adam's first moment after one step is 0.1 x the clipped gradient.
    moments_a = a["optimizer_state"]["state"]
    moments_b = b["optimizer_state"]["state"]
    assert len(moments_a) == len(moments_b) > 90
    for index, state in moments_a.items():
        ga, gb = state["exp_avg"].numpy(), moments_b[index]["exp_avg"].numpy()
        assert np.abs(ga - gb).max() <= 1e-4 * np.abs(ga).max() + 1e-12, index
    for key, theirs in a["model_state"].items():
        ours = b["model_state"][key].numpy().astype(np.float64)
        theirs = theirs.numpy().astype(np.float64)
        bad = np.abs(ours - theirs) > 1e-6 + 2e-6 * np.abs(theirs)
        if "num_batches_tracked" in key or key in ("step", "decoder.r"):
            assert np.array_equal(ours, theirs), key
        # Adam's first step, lr * g / (|g| + 1e-8), magnifies float noise only where |g| is
        # tiny; a handful of such values at most.
        assert bad.sum() <= 3, (key, int(bad.sum()))
