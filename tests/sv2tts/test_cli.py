"""`python -m sv2tts`: embed, say, bench, and its errors (tiny weights, the real encoder)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from sv2tts.audio import codec as audio
from sv2tts.cli import build_parser, main
from sv2tts.weights.manifest import bundled_encoder_path
from tests.fakes.formats import container
from tests.fakes.weights import make_tiny_weights_dir

ROOT = Path(__file__).resolve().parents[2]
# Tiny weights never stop on their own: cap the decoder, and keep WaveRNN's folds short.
FAST = ["--max-steps", "16", "--wavernn-target", "600", "--wavernn-overlap", "50"]


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if bundled_encoder_path() is None:
        pytest.skip("resemblyzer's encoder weights are absent (pip install --no-deps resemblyzer)")
    return make_tiny_weights_dir(tmp_path_factory.mktemp("tiny-weights"))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_embed_json_gives_one_line_per_file_and_different_speakers_differ(
    capsys: pytest.CaptureFixture[str], weights_dir: Path, audio_dir: Path
) -> None:
    files = [audio_dir / "p240_00000.mp3", audio_dir / "3575_00000.mp3"]
    code, out, err = run_cli(
        capsys, "embed", *map(str, files), "--json", "--weights-dir", str(weights_dir)
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["file"] for row in rows] == [str(f) for f in files]
    vectors = np.array([row["vector"] for row in rows])
    assert vectors.shape == (2, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.85
    for row in rows:
        assert 2.0 < row["speech_seconds"] <= row["total_seconds"] < 6.0
        assert row["level_dbfs"] < 0 and 0 <= row["clipped_fraction"] < 0.01
        assert len(row["encoder_id"]) == 16


def test_embed_reports_a_bad_file_in_one_line_and_goes_on(
    capsys: pytest.CaptureFixture[str], weights_dir: Path, audio_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.mp3"
    bad.write_text("this is not audio")
    good = audio_dir / "p260_00000.mp3"
    code, out, err = run_cli(
        capsys, "embed", str(bad), str(good), "--weights-dir", str(weights_dir)
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: not_audio")
    assert out.startswith(f"{good}: ") and "s of speech" in out


def test_say_writes_an_ogg_opus_voice_note_as_long_as_the_waveform(
    capsys: pytest.CaptureFixture[str], weights_dir: Path, audio_dir: Path, tmp_path: Path
) -> None:
    voice = str(audio_dir / "p240_00000.mp3")
    common = ["--voice", voice, "--text", "Hello there. How are you?", "--seed", "7", *FAST]
    common += ["--weights-dir", str(weights_dir), "--device", "cpu"]
    code, out, err = run_cli(capsys, "say", *common, "-o", str(tmp_path / "a.wav"))
    assert code == 0, err
    wav, rate = soundfile.read(tmp_path / "a.wav", dtype="float32")
    assert rate == 16000
    printed = float(re.search(r": ([\d.]+) s,", out).group(1))  # type: ignore[union-attr]
    assert printed == pytest.approx(len(wav) / rate, abs=0.006)
    # Two sentences of 16 frames and the pause between them, minus any trailing silence.
    assert 0.1 < len(wav) / rate <= (16 + 12 + 16) * 200 / 16000

    code, out, err = run_cli(capsys, "say", *common, "-o", str(tmp_path / "a.ogg"))
    assert code == 0, err
    data = (tmp_path / "a.ogg").read_bytes()
    assert container(data) == "voice"  # what .ogg names (tests/sv2tts/test_finish.py)
    assert audio.encoded_duration(data) == pytest.approx(len(wav) / rate, abs=0.025)


def test_say_with_griffin_lim_to_mp3_from_a_saved_embedding(
    capsys: pytest.CaptureFixture[str], weights_dir: Path, audio_dir: Path, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        capsys,
        "embed",
        str(audio_dir / "8230_00000.mp3"),
        "--save-dir",
        str(tmp_path),
        "--weights-dir",
        str(weights_dir),
    )
    assert code == 0, err
    npy = tmp_path / "8230_00000.npy"
    assert np.load(npy).shape == (256,)
    out_path = tmp_path / "b.mp3"
    code, _, err = run_cli(
        capsys,
        "say",
        "--voice",
        str(npy),
        "--text",
        "One sentence only.",
        "--vocoder",
        "griffinlim",
        "-o",
        str(out_path),
        "--max-steps",
        "20",
        "--weights-dir",
        str(weights_dir),
    )
    assert code == 0, err
    data = out_path.read_bytes()
    assert container(data) == "mp3"
    assert 0.1 < audio.encoded_duration(data) <= 20 * 200 / 16000 + 0.1


def test_say_refuses_an_unknown_output_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(
        capsys, "say", "--voice", "v.npy", "--text", "Hi.", "-o", str(tmp_path / "x.flac")
    )
    assert code == 1
    assert err.count("\n") == 1 and ".ogg" in err and "x.flac" in err


def test_missing_weights_give_one_line_with_the_file_and_the_command(tmp_path: Path) -> None:
    if bundled_encoder_path() is None:
        pytest.skip("resemblyzer's encoder weights are absent")
    env = {k: v for k, v in os.environ.items() if k != "SV2TTS_WEIGHTS_DIR"}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "sv2tts", "say", "--voice", "v.npy", "--text", "Hi."),
            *("-o", str(tmp_path / "x.ogg"), "--weights-dir", str(tmp_path / "empty")),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "synthesizer.pt" in lines[0]
    assert "make weights" in lines[0] and "python -m sv2tts download" in lines[0]
    assert result.stdout == ""


def test_bench_prints_a_table_for_each_case(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(
        capsys,
        "bench",
        "--sentences",
        "1",
        "--vocoder",
        "griffinlim",
        "--random-weights",
        "--device",
        "cpu",
        "--weights-dir",
        str(tmp_path),
    )
    assert code == 0, err
    assert "random full-size weights" in out
    row = next(line for line in out.splitlines() if line.startswith("| 1 | griffinlim |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    audio_seconds = float(cells[2])
    # One bench sentence of ~65 symbols forced to 5.5 frames each: about 4.5 s of audio.
    assert 3.0 < audio_seconds < 6.0
    total = float(cells[6].split()[0])
    assert total > 0


def test_download_accepts_the_flags_the_deployment_uses() -> None:
    args = build_parser().parse_args(
        ["download", "--no-progress", "-v", "--weights-dir", "/weights", "--only", "encoder"]
    )
    assert args.no_progress and args.verbose and args.only == ["encoder"]
    assert args.weights_dir == Path("/weights")


def test_embed_json_reports_the_no_speech_measure_of_refused_files_too(
    capsys: pytest.CaptureFixture[str], weights_dir: Path, audio_dir: Path, tmp_path: Path
) -> None:
    noise = tmp_path / "noise.wav"
    rng = np.random.default_rng(5)
    soundfile.write(noise, 0.1 * rng.standard_normal(16000 * 4), 16000)
    speech = audio_dir / "6829_00000.mp3"
    code, out, err = run_cli(
        capsys, "embed", str(noise), str(speech), "--json", "--weights-dir", str(weights_dir)
    )
    assert code == 1
    assert err.startswith(f"error: {noise}: no_speech")
    refused, accepted = (json.loads(line) for line in out.splitlines())
    assert refused["file"] == str(noise) and refused["error"] == "no_speech"
    assert refused["speech_seconds"] > 3.5  # what the VAD alone would have taken
    assert refused["speech_share"] < 0.05 < 0.5 < accepted["speech_share"]
    assert "error" not in accepted and len(accepted["vector"]) == 256


def test_say_json_reports_the_likeness_of_what_it_wrote(
    capsys: pytest.CaptureFixture[str], weights_dir: Path, audio_dir: Path, tmp_path: Path
) -> None:
    from sv2tts.loading import load_voice_encoder

    recording = audio_dir / "p260_00000.mp3"
    out_path = tmp_path / "said.wav"
    code, out, err = run_cli(
        capsys,
        *("say", "--voice", str(recording), "--text", "Hello there.", "--seed", "3", *FAST),
        *("--json", "--pace", "1.25", "-o", str(out_path), "--weights-dir", str(weights_dir)),
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["file"] == str(out_path) and report["sentences"] == ["hello there."]
    wav, rate = soundfile.read(out_path, dtype="float32")
    assert report["seconds"] == pytest.approx(len(wav) / rate, abs=0.001)
    # The figure is the written output embedded again against the voice: recomputed from
    # the file (16-bit samples), it comes out the same.
    encoder = load_voice_encoder(weights_dir, device="cpu")
    voice = encoder.embed(audio.decode_audio(recording))
    assert report["likeness"] == pytest.approx(encoder.likeness(wav, rate, voice), abs=0.02)
    assert -1.0 <= report["likeness"] < 0.9  # tiny random weights do not speak like anyone
