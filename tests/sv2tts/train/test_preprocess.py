"""`python -m sv2tts preprocess`: the dataset layouts, what each training set holds, what is
skipped and why, resuming, and that the signal path is the engine's (and the reference's).

Datasets are made in tmp from ../shared/audio, cut into pieces, with transcripts written here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile

from sv2tts.audio import dsp
from sv2tts.cli import main as sv2tts_main
from sv2tts.text import default_text_frontend
from sv2tts.train.preprocess.datasets import detect_format, read_dataset
from sv2tts.train.preprocess.process import PreprocessConfig, load_audio, synthesizer_audio
from sv2tts.train.preprocess.run import preprocess
from sv2tts.train.preprocess.symbols import named_frontend

SR = 16000
TEXTS = (
    "The quiet river follows the old road.",
    "It costs twelve dollars, doctor Smith.",
    "A small bridge, a broken picture, and we.",
    "She opens the window before dinner.",
)


@pytest.fixture(scope="module")
def decoded(audio_dir: Path) -> dict[str, np.ndarray]:
    names = ("1320_00000", "3575_00000", "p240_00000")
    return {name: load_audio(audio_dir / f"{name}.mp3") for name in names}


def _write(path: Path, wav: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".mp3":  # only its name matters where an mp3 is written
        path.write_bytes(b"\xff\xfb" * 64)
        return path
    soundfile.write(path, wav, SR, subtype="FLOAT" if path.suffix == ".wav" else "PCM_16")
    return path


@pytest.fixture(scope="module")
def librispeech(tmp_path_factory: pytest.TempPathFactory, decoded: dict) -> Path:
    """Two speakers with two 2.4 s pieces each, one 1 s piece (too short), one 14 s
    utterance (too long: over 900 frames), and one file that is not audio."""
    root = tmp_path_factory.mktemp("LibriSpeech") / "train-clean"
    lines: dict[Path, list[str]] = {}
    for speaker, name in (("1320", "1320_00000"), ("3575", "3575_00000")):
        folder = root / speaker / "100"
        for k in range(2):
            uid = f"{speaker}-100-{k:04d}"
            _write(folder / f"{uid}.flac", decoded[name][k * 38400 : (k + 1) * 38400])
            lines.setdefault(folder, []).append(f"{uid} {TEXTS[k + 2 * (speaker == '3575')]}")
    short = root / "1320" / "100" / "1320-100-0002.flac"
    _write(short, decoded["1320_00000"][:SR])
    lines[root / "1320" / "100"].append("1320-100-0002 TOO SHORT")
    long_wav = np.concatenate(list(decoded.values()))
    _write(root / "3575" / "100" / "3575-100-0002.flac", long_wav)
    lines[root / "3575" / "100"].append("3575-100-0002 MUCH TOO LONG FOR ONE TRAINING ITEM")
    (root / "3575" / "100" / "3575-100-0003.flac").write_bytes(b"not audio at all" * 100)
    lines[root / "3575" / "100"].append("3575-100-0003 A BROKEN FILE")
    for folder, text in lines.items():
        speaker, chapter = folder.parent.name, folder.name
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(text) + "\n")
    return root


def test_each_layout_is_detected_and_read_with_speakers_and_texts(tmp_path: Path) -> None:
    wav = np.zeros(SR, dtype=np.float32)
    lj = tmp_path / "LJSpeech-1.1"
    _write(lj / "wavs" / "LJ001-0001.wav", wav)
    (lj / "metadata.csv").write_text("LJ001-0001|Printing, in 1 sense|Printing, in one sense\n")
    mailabs = tmp_path / "ru_RU" / "by_book" / "male" / "minaev" / "oblomov"
    _write(mailabs / "wavs" / "oblomov_01_f000001.wav", wav)
    (mailabs / "metadata.csv").write_text(
        "oblomov_01_f000001|В Гороховой улице|В Гороховой улице\n"
    )
    mailabs2 = tmp_path / "ru_RU" / "by_book" / "female" / "hajdurova" / "mnogo"
    _write(mailabs2 / "wavs" / "mnogo_01_f000001.wav", wav)
    (mailabs2 / "metadata.csv").write_text("mnogo_01_f000001|Много шума\n")
    ruslan = tmp_path / "ruslan"
    _write(ruslan / "RUSLAN" / "000001_RUSLAN.wav", wav)
    (ruslan / "metadata_RUSLAN_22200.csv").write_text("000001_RUSLAN|Привет, мир.\nbroken line\n")
    cv = tmp_path / "cv"
    _write(cv / "clips" / "common_voice_ru_1.mp3", wav)
    (cv / "validated.tsv").write_text(
        "client_id\tpath\tsentence\tup_votes\nabc123\tcommon_voice_ru_1.mp3\tДа.\t2\n"
        "abc123\tmissing.mp3\tНет.\t2\n"
    )
    tts = tmp_path / "LibriTTS" / "19" / "198"
    _write(tts / "19_198_000000_000000.wav", wav)
    (tts / "19_198_000000_000000.normalized.txt").write_text("Normalized text.")
    (tts / "19_198_000000_000000.original.txt").write_text("Original text")
    plain = tmp_path / "plain"
    _write(plain / "anna" / "a1.wav", wav)
    (plain / "anna" / "a1.txt").write_text("Hello there.\n")
    _write(plain / "anna" / "no_text.wav", wav)

    assert detect_format(lj) == "ljspeech"
    assert [(u.id, u.speaker, u.text) for u in read_dataset(lj)] == [
        ("LJ001-0001", "LJSpeech-1.1", "Printing, in one sense")
    ]
    both = read_dataset(tmp_path / "ru_RU")
    assert {(u.speaker, u.text) for u in both} == {
        ("minaev", "В Гороховой улице"),
        ("hajdurova", "Много шума"),
    }
    assert len({u.id for u in both}) == 2
    assert [(u.audio.name, u.text) for u in read_dataset(ruslan)] == [
        ("000001_RUSLAN.wav", "Привет, мир.")
    ]
    assert detect_format(cv) == "commonvoice"
    assert [(u.speaker, u.text) for u in read_dataset(cv)] == [("abc123", "Да.")]
    assert detect_format(tmp_path / "LibriTTS") == "libritts"
    assert [(u.speaker, u.text) for u in read_dataset(tmp_path / "LibriTTS")] == [
        ("19", "Normalized text.")
    ]
    assert detect_format(plain) == "plain"
    assert [(u.speaker, u.text) for u in read_dataset(plain)] == [("anna", "Hello there.")]
    # A layout named on the command line wins over detection.
    assert read_dataset(plain, "plain") == read_dataset(plain)


def test_preprocessing_reproduces_the_reference_training_audio(
    decoded: dict, reference_dir: Path
) -> None:
    """Peak 0.9 over the whole file, then the encoder's VAD trimming: the reference's
    `syn__wav_*` cuts come out of the mp3 sample for sample, and their mels are the
    engine's mels."""
    with np.load(reference_dir / "training_reference.npz") as ref:
        for name, key, n in (("1320_00000", "0", 15800), ("p240_00000", "1", 12400)):
            audio = synthesizer_audio(decoded[name], PreprocessConfig())
            cut = audio[3200 : 3200 + n]
            np.testing.assert_allclose(cut, ref[f"syn__wav_{key}"], atol=1e-5, rtol=0)
            mel = dsp.melspectrogram(cut)
            np.testing.assert_allclose(mel, ref[f"syn__mel_{key}"], atol=5e-3, rtol=0)


def test_synthesizer_set_holds_engine_mels_embeddings_and_ids_and_counts_skips(
    librispeech: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "syn"
    with caplog.at_level(logging.WARNING):
        summary = preprocess("synthesizer", librispeech, out)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "3575-100-0003" in warnings[0].getMessage()
    assert summary.format == "librispeech"
    assert (summary.utterances, summary.kept, summary.speakers) == (7, 4, 2)
    assert summary.skipped == {"too_short": 1, "too_long": 1, "no_text": 0, "broken": 1}
    assert json.loads((out / "summary.json").read_text())["kept"] == 4
    info = json.loads((out / "dataset.json").read_text())
    assert info["symbols"] == list(default_text_frontend().symbols.symbols)
    assert info["cleaners"] == ["english_cleaners"] and info["language"] == "en"
    assert info["signal"]["hop_length"] == 200

    frontend = default_text_frontend()
    lines = (out / "train.txt").read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        audio_name, mel_name, embed_name, n_samples, n_frames, text, ids = line.split("|")
        wav = np.load(out / "audio" / audio_name)
        mel = np.load(out / "mels" / mel_name)
        embed = np.load(out / "embeds" / embed_name)
        assert wav.dtype == mel.dtype == embed.dtype == np.float32
        assert len(wav) == int(n_samples) >= 1.6 * SR
        assert mel.shape == (80, int(n_frames)) == (80, 1 + len(wav) // 200)
        np.testing.assert_array_equal(mel, dsp.melspectrogram(wav))  # the inference mel
        assert abs(np.abs(wav).max() - 0.9) < 1e-6
        assert embed.shape == (256,) and abs(np.linalg.norm(embed) - 1) < 1e-5
        assert [int(i) for i in ids.split(",")] == frontend.encode(text)
    # Two pieces of the same speaker are closer to each other than to the other speaker.
    embeds = {line.split("|")[0]: np.load(out / "embeds" / line.split("|")[2]) for line in lines}
    same = embeds["audio-1320-100-0000.npy"] @ embeds["audio-1320-100-0001.npy"]
    other = embeds["audio-1320-100-0000.npy"] @ embeds["audio-3575-100-0000.npy"]
    assert same > other

    # A re-run does only the broken file again and leaves the rest as it was.
    stamps = {p: p.stat().st_mtime_ns for p in (out / "mels").iterdir()}
    caplog.clear()
    again = preprocess("synthesizer", librispeech, out)
    assert (again.processed_now, again.already_done, again.kept) == (1, 6, 4)
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / "mels").iterdir()}
    assert (out / "train.txt").read_text().splitlines() == lines


def test_vocoder_and_encoder_sets_from_the_command_line(
    librispeech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    voc = tmp_path / "voc"
    argv = ["preprocess", "vocoder", str(librispeech), str(voc), "--workers", "2"]
    assert sv2tts_main([*argv, "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["kept"], summary["skipped"]["broken"]) == (4, 1)
    for line in (voc / "train.txt").read_text().splitlines():
        uid, n_samples, n_frames = line.split("|")
        wav, mel = np.load(voc / "audio" / f"{uid}.npy"), np.load(voc / "mels" / f"{uid}.npy")
        assert wav.shape == (int(n_samples),) and mel.shape == (80, int(n_frames))
        np.testing.assert_array_equal(mel, dsp.melspectrogram(wav))

    enc = tmp_path / "enc"
    assert sv2tts_main(["preprocess", "encoder", str(librispeech), str(enc), "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # The 14 s utterance is no problem for the encoder; the 1 s one is under one partial.
    assert (summary["kept"], summary["skipped"]["too_short"], summary["speakers"]) == (5, 1, 2)
    sources = (enc / "3575" / "_sources.txt").read_text().splitlines()
    assert len(sources) == 3
    frames_name, audio_path = sources[0].split(",")
    frames = np.load(enc / "3575" / frames_name)
    wav = load_audio(Path(audio_path))
    expected = dsp.encoder_melspectrogram(dsp.preprocess_wav(wav, SR))
    np.testing.assert_array_equal(frames, expected)
    assert frames.shape[1] == 40 and frames.shape[0] >= 160


def test_unknown_symbol_set_is_refused_and_a_sidecar_json_names_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown symbol set"):
        named_frontend("klingon")
    sidecar = tmp_path / "ru.json"
    symbols = ["_", "~", *"абвгдеёжзийклмнопрстуфхцчшщъыьэюя", *"!,.? -"]
    sidecar.write_text(
        json.dumps({"symbols": symbols, "cleaners": ["russian_cleaners"], "language": "ru"})
    )
    frontend, language = named_frontend(str(sidecar))
    assert language == "ru" and frontend.num_symbols == len(symbols)
    assert frontend.symbols.decode(frontend.encode("Привет, мир.")) == "привет, мир."


def test_gta_mels_are_the_synthesizers_teacher_forced_output_at_true_length(
    librispeech: Path, reference_dir: Path, tmp_path: Path
) -> None:
    import shutil

    import torch

    from sv2tts.synthesizer.model import SynthesizerConfig, load_synthesizer
    from sv2tts.synthesizer.train import SynthesizerItem, collate

    checkpoint = tmp_path / "synthesizer.pt"
    shutil.copy(reference_dir / "synthesizer_tiny.pt", checkpoint)
    shutil.copy(reference_dir / "synthesizer_tiny.json", tmp_path / "synthesizer.json")
    out = tmp_path / "voc"
    summary = preprocess("vocoder", librispeech, out, gta=checkpoint)
    assert (summary.kept, summary.extra["gta_written"]) == (4, 4)
    assert json.loads((out / "dataset.json").read_text())["gta"] == str(checkpoint.resolve())
    ids = [line.split("|")[0] for line in (out / "train.txt").read_text().splitlines()]
    assert len(ids) == 4

    # The same batch (sorted by length, as the GTA pass orders it) through the model's
    # training forward, with the pass's seed for the pre-net dropout.
    texts = {u.id: u.text for u in read_dataset(librispeech)}
    truth = {i: np.load(out / "mels_gt" / f"{i}.npy") for i in ids}
    order = sorted(ids, key=lambda i: truth[i].shape[1])
    frontend = default_text_frontend()
    items = [
        SynthesizerItem(
            np.asarray(frontend.encode(texts[i]), dtype=np.int64),
            truth[i],
            np.load(out / "embeds" / f"{i}.npy"),
        )
        for i in order
    ]
    config = json.loads((tmp_path / "synthesizer.json").read_text())
    model = load_synthesizer(checkpoint, SynthesizerConfig.from_dict(config))
    batch = collate(items, r=model.reduction_factor)
    torch.manual_seed(0)
    with torch.no_grad():
        expected = model(batch.chars, batch.mels, batch.embeds, dropout=True, zoneout=0.0).mels
    for row, i in enumerate(order):
        gta = np.load(out / "mels" / f"{i}.npy")
        assert gta.shape == truth[i].shape
        np.testing.assert_allclose(gta, expected[row, :, : truth[i].shape[1]].numpy(), atol=1e-5)
        assert not np.allclose(gta, truth[i], atol=0.1)
    # Done is done: a re-run writes no GTA mel again.
    assert preprocess("vocoder", librispeech, out, gta=checkpoint).extra["gta_written"] == 0
