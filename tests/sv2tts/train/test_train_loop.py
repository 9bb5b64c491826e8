"""The training loop end to end on a tiny synthesizer: `python -m sv2tts train synthesizer`
writes official checkpoints the engine loads and speaks with, samples, TensorBoard and CSV
logs; --resume, --init (a new symbol table), --config, Ctrl-C, the reference's schedule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.cli import main
from sv2tts.synthesizer.model import SynthesizerConfig, Tacotron, load_synthesizer
from sv2tts.synthesizer.train import REFERENCE_SCHEDULE, SynthesizerTrainConfig, make_recipe
from sv2tts.text.frontend import load_text_frontend
from sv2tts.text.symbols import DEFAULT_SYMBOLS
from sv2tts.train.checkpoints import init_from, read_checkpoint
from sv2tts.train.logs import read_csv
from tests.sv2tts.train.syn_set import make_training_set, tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def training_set(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_training_set(audio_dir, tmp_path_factory.mktemp("syn") / "set")


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text(json.dumps(tiny_config()))
    return path


def train(training_set: Path, run: Path, *extra: str) -> int:
    return main(
        [
            "train",
            "synthesizer",
            str(training_set),
            str(run),
            "--device",
            "cpu",
            "--no-progress",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def run_dir(
    training_set: Path, config_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    run = tmp_path_factory.mktemp("run") / "run"
    args = ["--config", str(config_file), "--max-steps", "4", "--checkpoint-every", "2"]
    assert train(training_set, run, *args, "--sample-every", "4", "--log-every", "1") == 0
    return run


def test_a_run_writes_an_official_checkpoint_with_its_sidecar(run_dir: Path) -> None:
    data = read_checkpoint(run_dir / "synthesizer.pt")
    assert set(data) == {"model_state", "optimizer_state", "step"} and data["step"] == 4
    sidecar = json.loads((run_dir / "synthesizer.json").read_text())
    config = SynthesizerConfig.from_dict(sidecar)
    expected = Tacotron(config).state_dict()
    assert {k: v.shape for k, v in data["model_state"].items()} == {
        k: v.shape for k, v in expected.items()
    }
    # The engine's strict loader and text front end take it; the step buffer counted 4.
    model = load_synthesizer(run_dir / "synthesizer.pt", config)
    assert int(model.step) == 4 and model.reduction_factor == 2
    assert load_text_frontend(run_dir / "synthesizer.json").num_symbols == config.num_chars
    adam = data["optimizer_state"]["state"][0]
    assert float(adam["step"]) == 4


def test_a_run_logs_scalars_to_csv_and_tensorboard_and_writes_samples(run_dir: Path) -> None:
    rows = read_csv(run_dir / "logs" / "scalars.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    for name in ("loss", "m1_mse", "m1_l1", "m2_mse", "stop_bce", "grad_norm", "lr"):
        assert all(np.isfinite(r[name]) for r in rows), name
    assert all(0 < r["attention_sharpness"] <= 1 for r in rows)
    assert rows[0]["lr"] == 1e-3
    assert list((run_dir / "logs").glob("events.out.tfevents.*"))
    assert [p.name for p in (run_dir / "samples").iterdir()] == ["0000004"]
    for step in ("0000004",):
        folder = run_dir / "samples" / step
        assert (folder / "attention.png").read_bytes()[:4] == b"\x89PNG"
        assert (folder / "mel.png").read_bytes()[:4] == b"\x89PNG"
        assert (folder / "sample.wav").stat().st_size > 1000


def test_say_speaks_with_the_run_folder_as_weights_dir(
    run_dir: Path, training_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    voice = next((training_set / "embeds").glob("*.npy"))
    out = tmp_path / "out.wav"
    code = main(
        [
            "say",
            "--weights-dir",
            str(run_dir),
            "--vocoder",
            "griffinlim",
            "--voice",
            str(voice),
            "--text",
            "Hello there.",
            "-o",
            str(out),
            "--json",
            "--device",
            "cpu",
            "--max-steps",
            "20",
            "--seed",
            "0",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["seconds"] > 0 and out.stat().st_size > 1000


def test_resume_continues_the_step_count_and_the_optimizer_state(
    run_dir: Path, training_set: Path, tmp_path: Path
) -> None:
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    for name in ("synthesizer.pt", "synthesizer.json", "train_config.json"):
        (resumed / name).write_bytes((run_dir / name).read_bytes())
    before = read_checkpoint(resumed / "synthesizer.pt")
    # No --config: the run's saved config is reused.
    assert train(training_set, resumed, "--resume", "--max-steps", "6", "--log-every", "1") == 0
    after = read_checkpoint(resumed / "synthesizer.pt")
    assert after["step"] == 6 and int(after["model_state"]["step"]) == 6
    assert float(after["optimizer_state"]["state"][0]["step"]) == 6
    moment = "exp_avg_sq"
    assert not torch.equal(
        after["optimizer_state"]["state"][0][moment], before["optimizer_state"]["state"][0][moment]
    )
    rows = read_csv(resumed / "logs" / "scalars.csv")
    assert [int(r["step"]) for r in rows] == [5, 6]


def test_init_copies_embedding_rows_by_symbol_and_initialises_new_ones(
    run_dir: Path, tmp_path: Path
) -> None:
    old = DEFAULT_SYMBOLS.symbols
    # A new table: some symbols dropped, two new ones, the rest in another order.
    kept = [s for s in old[2:] if s not in "XYZxyz"]
    new = (old[0], old[1], *reversed(kept), "ё", "й")
    config = SynthesizerConfig.from_dict(
        {**json.loads((run_dir / "synthesizer.json").read_text()), "num_chars": len(new)}
    )
    torch.manual_seed(1)
    model = Tacotron(config)
    fresh = model.encoder.embedding.weight.detach().clone()
    added = init_from(run_dir / "synthesizer.pt", model, new)
    assert added == {"encoder.embedding.weight": ["ё", "й"]}
    trained = read_checkpoint(run_dir / "synthesizer.pt")["model_state"]
    table = model.encoder.embedding.weight.detach()
    for i, symbol in enumerate(new):
        if symbol in ("ё", "й"):
            assert torch.equal(table[i], fresh[i]), symbol
        else:
            assert torch.equal(table[i], trained["encoder.embedding.weight"][old.index(symbol)])
    # Everything else is the checkpoint's.
    state = model.state_dict()
    assert torch.equal(state["decoder.mel_proj.weight"], trained["decoder.mel_proj.weight"])


def test_init_refuses_a_checkpoint_of_other_dims(run_dir: Path) -> None:
    config = SynthesizerConfig.from_dict(
        {**json.loads((run_dir / "synthesizer.json").read_text()), "lstm_dims": 40}
    )
    with pytest.raises(ValueError, match=r"rnn_input\.weight' has shape"):
        init_from(run_dir / "synthesizer.pt", Tacotron(config))


def test_the_default_schedule_is_the_references(training_set: Path) -> None:
    recipe = make_recipe(training_set, {})
    assert recipe.config.schedule == REFERENCE_SCHEDULE
    expected = [
        (0, 1e-3),
        (19_999, 1e-3),
        (20_000, 5e-4),
        (40_000, 2e-4),
        (80_000, 1e-4),
        (160_000, 3e-5),
        (320_000, 1e-5),
        (639_999, 1e-5),
    ]
    for step, lr in expected:
        phase = recipe.phase(step)
        assert (phase.lr, phase.batch_size, phase.settings["r"]) == (lr, 12, 2), step
    assert recipe.phase(640_000).end_step == 640_000  # the schedule is over
    assert recipe.config.clip_grad_norm == 1.0 and recipe.config.zoneout == 0.1
    assert recipe.config.model == SynthesizerConfig()


def test_a_config_file_overrides_defaults_and_unknown_keys_are_refused(
    training_set: Path,
) -> None:
    recipe = make_recipe(training_set, {"schedule": [[3, 1e-4, 10, 2]], "clip_grad_norm": None})
    assert recipe.phase(0).settings["r"] == 3 and recipe.config.clip_grad_norm is None
    with pytest.raises(ValueError, match="clip_grad"):
        SynthesizerTrainConfig.from_dict({"clip_grad": 1.0})
    with pytest.raises(ValueError, match="lstm_dimz"):
        SynthesizerTrainConfig.from_dict({"model": {"lstm_dimz": 3}})


def test_ctrl_c_saves_a_checkpoint_and_stops_cleanly(
    training_set: Path, config_file: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "sv2tts",
        "train",
        "synthesizer",
        str(training_set),
        str(run),
        "--config",
        str(config_file),
        "--device",
        "cpu",
        "--no-progress",
        "--log-every",
        "1",
        "--checkpoint-every",
        "0",
        "--sample-every",
        "0",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        csv_path = run / "logs" / "scalars.csv"
        deadline = time.monotonic() + 60
        while not (csv_path.is_file() and len(csv_path.read_text().splitlines()) >= 3):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no training steps within 60 s"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    saved = read_checkpoint(run / "synthesizer.pt")
    logged = int(read_csv(run / "logs" / "scalars.csv")[-1]["step"])
    assert saved["step"] == logged >= 2
