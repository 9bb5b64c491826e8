"""The learning demonstration in short: a tiny synthesizer trained for a few dozen steps on
eSpeak speech learns (its loss falls), and its checkpoint speaks through `python -m sv2tts say`.
The long version, with the alignment and mel-distance figures, is
`python -m sv2tts.bench.learning` (README)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from sv2tts.bench.learning import BenchConfig, run
from sv2tts.cli import main as sv2tts_main

pytestmark = pytest.mark.usefixtures("single_thread")

TINY = {
    "embed_dims": 32,
    "encoder_dims": 16,
    "decoder_dims": 32,
    "postnet_dims": 24,
    "encoder_K": 3,
    "postnet_K": 3,
    "lstm_dims": 48,
    "num_highways": 2,
}


def test_tiny_synthesizer_loss_falls_and_its_checkpoint_speaks(tmp_path: Path) -> None:
    config = BenchConfig(
        utterances=24,
        held_out=2,
        speakers=("en+m3", "en+f2"),
        steps=30,
        batch_size=6,
        r=5,
        eval_every=30,
        model=TINY,
    )
    report = run(tmp_path, config)
    losses = [
        float(line.split(",")[1])
        for line in (tmp_path / "run" / "losses.csv").read_text().splitlines()[1:]
    ]
    assert len(losses) == 30 and all(math.isfinite(x) for x in losses)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    first, last = report["evaluations"][0], report["evaluations"][-1]
    assert (first["step"], last["step"]) == (0, 30)
    # Fed the true frames, the trained network's mels are nearer the truth than at step 0.
    assert last["mel_mae_forced"] < first["mel_mae_forced"]
    assert 0.0 <= last["diagonality_free"] <= 1.0

    run_dir = tmp_path / "run"
    sidecar = json.loads((run_dir / "synthesizer.json").read_text())
    assert sidecar["symbols"][:2] == ["_", "~"] and sidecar["lstm_dims"] == 48
    state = torch.load(run_dir / "synthesizer.pt", weights_only=True)
    assert {"model_state", "optimizer_state"} <= set(state) and state["step"] == 30

    voice = tmp_path / "voice.npy"
    embed = sorted((tmp_path / "sets" / "train" / "embeds").iterdir())[0]
    voice.write_bytes(embed.read_bytes())
    out = tmp_path / "said.wav"
    argv = ["say", "--weights-dir", str(run_dir), "--voice", str(voice), "--text", "Hello there."]
    argv += ["-o", str(out), "--vocoder", "griffinlim", "--max-steps", "20", "--seed", "0"]
    assert sv2tts_main(argv) == 0
    wav, rate = soundfile.read(out)
    assert rate == 16000 and len(wav) > 0 and np.all(np.isfinite(wav))
