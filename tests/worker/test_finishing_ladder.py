"""One finishing ladder (sv2tts/finish.py) for `python -m sv2tts say` and the worker's synth job:
the same text, voice, pace and seed give the same samples through both."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.audio.codec import decode_audio
from sv2tts.cli import main
from sv2tts.embedding import speaker_vector
from sv2tts.pipeline import Pipeline
from sv2tts.standins import random_speaker
from sv2tts.watermark.model import resident_watermarker
from sv2tts.weights.manifest import bundled_encoder_path
from tests.fakes.weights import make_tiny_weights_dir
from worker.api import SynthRequest
from worker.synth import make_audio

TEXT = "Hello there. How are you?"
PACE = 1.25
SEED = 7


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if bundled_encoder_path() is None:
        pytest.skip("resemblyzer's encoder weights are absent (pip install --no-deps resemblyzer)")
    return make_tiny_weights_dir(tmp_path_factory.mktemp("tiny-weights"))


@pytest.mark.parametrize("vocoder", ["griffinlim", "wavernn"])
def test_the_cli_and_the_worker_make_the_same_samples(
    vocoder: str, weights_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    voice = tmp_path / "voice.npy"
    np.save(voice, random_speaker(3))
    said = tmp_path / "said.ogg"
    # The CLI watermarks by default, as the worker marks every note: like with like.
    code = main(
        [
            *("say", "--voice", str(voice), "--text", TEXT, "--pace", str(PACE)),
            *("--seed", str(SEED), "--vocoder", vocoder, "-o", str(said)),
            *("--weights-dir", str(weights_dir), "--device", "cpu"),
        ]
    )
    assert code == 0, capsys.readouterr().err

    engine = Pipeline.load(weights_dir, device="cpu", vocoder=vocoder)
    request = SynthRequest(
        request_id=1,
        user_id=1001,
        chat_id=1001,
        reply_to_message_id=40,
        text=TEXT,
        embedding=[float(x) for x in speaker_vector(np.load(voice))],  # as the bot keeps it
        enqueued_at=time.time(),
        pace=PACE,
    )
    torch.manual_seed(SEED)
    made = make_audio(engine, request, resident_watermarker())

    cli_samples, job_samples = decode_audio(said.read_bytes()), decode_audio(made.data)
    assert cli_samples.size > 0.5 * 16000
    # Sample for sample (the bytes differ only in the Ogg stream's random serial number).
    np.testing.assert_array_equal(job_samples, cli_samples)

    # And the seed is what makes them equal: another draw of the decoder's dropout differs.
    torch.manual_seed(SEED + 1)
    other = make_audio(engine, request, resident_watermarker())
    assert not np.array_equal(decode_audio(other.data)[: cli_samples.size], cli_samples)
