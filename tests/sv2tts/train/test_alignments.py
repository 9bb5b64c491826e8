"""LibriSpeech split at its silences by the word alignments beside it (the reference's default
path): the alignment lines, the splitter on synthetic signals, and `preprocess` end to end on
a tiny LibriSpeech with and without `--no-alignments`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile

from sv2tts.audio import dsp
from sv2tts.cli import main as sv2tts_main
from sv2tts.train.preprocess.alignments import (
    parse_alignment_line,
    read_alignment_file,
    split_on_silences,
    split_times,
)
from sv2tts.train.preprocess.process import load_audio
from sv2tts.train.preprocess.run import preprocess

SR = 16000


def _ramp(seconds: float, rate: int = 1000) -> np.ndarray:
    """A signal whose every sample is its own index: where a piece was cut is plain."""
    return np.arange(round(seconds * rate), dtype=np.float64)


# --- the alignment lines --------------------------------------------------------------------


def test_an_alignment_line_gives_words_with_silences_and_end_times() -> None:
    line = '19-198-0001 ",THE,QUIET,,RIVER," "0.490,0.890,1.030,1.500,1.900,2.000"'
    uid, alignment = parse_alignment_line(line)
    assert uid == "19-198-0001"
    assert alignment.words == ("", "THE", "QUIET", "", "RIVER", "")
    assert alignment.end_times == (0.49, 0.89, 1.03, 1.5, 1.9, 2.0)
    # An apostrophe is part of a word.
    assert parse_alignment_line('a ",DON\'T," "0.1,0.5,0.6"')[1].words == ("", "DON'T", "")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('x ",A,B," "0.1,0.5,0.6"', "4 words but 3 end times"),
        ('x ",A," "0.1,zero,0.6"', "not numbers"),
        ('x ",A,"', "2 fields"),
        ('x ",A," "0.5,0.4,0.6"', "not increasing"),
    ],
)
def test_a_malformed_alignment_line_is_refused(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_alignment_line(line)


def test_a_malformed_line_in_a_file_is_reported_and_the_others_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "19-198.alignment.txt"
    path.write_text(
        '19-198-0000 ",A," "0.1,0.5,0.6"\n'
        "19-198-0001 broken\n"
        "\n"
        '19-198-0002 ",B,,C," "0.2,0.9,1.5,2.0,2.1"\n'
    )
    with caplog.at_level(logging.WARNING):
        alignments = read_alignment_file(path)
    assert sorted(alignments) == ["19-198-0000", "19-198-0002"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "19-198.alignment.txt:2" in warnings[0]


# --- the splitter ---------------------------------------------------------------------------


def test_a_silence_over_0_4_s_splits_and_the_silence_is_left_out() -> None:
    words = ["", "THE", "QUIET", "", "RIVER", "FOLLOWS", "", "THE", "OLD", ""]
    ends = [0.2, 1.0, 2.0, 2.5, 3.5, 4.2, 4.5, 5.2, 6.0, 6.1]
    wav = _ramp(6.1)
    pieces = split_on_silences(wav, 1000, words, ends)
    assert [text for _, text in pieces] == ["THE QUIET", "RIVER FOLLOWS THE OLD"]
    # The 0.5 s silence (2.0-2.5 s) splits, cut out as the reference cuts it: the first piece
    # ends where it begins, the second begins where it ends. The 0.3 s one (4.2-4.5 s) does
    # not split; the silences the utterance begins and ends with are dropped.
    first, second = (samples for samples, _ in pieces)
    np.testing.assert_array_equal(first, wav[200:2000])
    np.testing.assert_array_equal(second, wav[2500:6000])
    assert [(s.start, s.end) for s in split_times(words, ends)] == [(0.2, 2.0), (2.5, 6.0)]


def test_a_silence_of_0_3_s_does_not_split() -> None:
    words = ["", "THE", "QUIET", "", "OLD", "ROAD", ""]
    ends = [0.1, 1.0, 2.0, 2.3, 3.0, 4.0, 4.2]
    wav = _ramp(4.2)
    [(samples, text)] = split_on_silences(wav, 1000, words, ends)
    assert text == "THE QUIET OLD ROAD"
    np.testing.assert_array_equal(samples, wav[100:4000])


def test_a_short_piece_is_joined_with_its_neighbour() -> None:
    # The first piece (0.8 s) has only a right neighbour: it is joined with it, the silence
    # between them taken back in.
    words = ["", "A", "", "B", "C", "", "D", ""]
    ends = [0.1, 0.9, 1.5, 3.5, 4.0, 4.6, 6.6, 6.7]
    wav = _ramp(6.7)
    pieces = split_on_silences(wav, 1000, words, ends)
    assert [text for _, text in pieces] == ["A B C", "D"]
    np.testing.assert_array_equal(pieces[0][0], wav[100:4000])
    np.testing.assert_array_equal(pieces[1][0], wav[4600:6600])


def test_a_short_piece_goes_to_the_shorter_neighbour_unless_that_is_too_long() -> None:
    words = ["", "A", "", "B", "", "C", ""]
    ends = [0.1, 2.1, 2.6, 3.1, 3.6, 6.1, 6.2]  # A 2.0 s, B 0.5 s, C 2.5 s
    pieces = split_times(words, ends)
    assert [(p.start, p.end, p.text) for p in pieces] == [(0.1, 3.1, "A B"), (3.6, 6.1, "C")]
    # Joined, it would pass max_piece: B stays alone (and preprocess skips it as too short).
    alone = split_times(words, ends, max_piece=2.2)
    assert [p.text for p in alone] == ["A", "B", "C"]
    # All short: everything joins into one.
    assert [p.text for p in split_times(words, ends, min_piece=10.0)] == ["A B C"]
    # No split at all with a higher silence threshold.
    assert [p.text for p in split_times(words, ends, min_silence=0.6)] == ["A B C"]


def test_an_utterance_without_leading_or_trailing_silence_is_split_too() -> None:
    pieces = split_times(["A", "", "B"], [2.0, 2.5, 4.5])
    assert [(p.start, p.end, p.text) for p in pieces] == [(0.0, 2.0, "A"), (2.5, 4.5, "B")]
    assert split_times([], []) == []
    with pytest.raises(ValueError, match="2 words but 1 end times"):
        split_times(["A", "B"], [1.0])


# --- preprocess end to end ------------------------------------------------------------------


@pytest.fixture(scope="module")
def aligned_librispeech(tmp_path_factory: pytest.TempPathFactory, audio_dir: Path) -> Path:
    """Speaker 1320, chapter 100: 0000 with a 0.5 s pause (two pieces), 0001 with a 0.3 s one
    (one piece), 0002 without an alignment line (whole), and a malformed alignment line."""
    speech = load_audio(audio_dir / "1320_00000.mp3")
    a, b = speech[:38400], speech[38400:76800]  # 2.4 s each

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(round(seconds * SR), dtype=np.float32)

    root = tmp_path_factory.mktemp("LibriSpeech") / "train-clean-100"
    folder = root / "1320" / "100"
    folder.mkdir(parents=True)
    wavs = {
        "1320-100-0000": np.concatenate([gap(0.1), a, gap(0.5), b, gap(0.1)]),
        "1320-100-0001": np.concatenate([gap(0.1), a, gap(0.3), b, gap(0.1)]),
        "1320-100-0002": a,
    }
    for uid, wav in wavs.items():
        soundfile.write(folder / f"{uid}.flac", wav, SR, subtype="PCM_16")
    (folder / "1320-100.trans.txt").write_text(
        "1320-100-0000 THE QUIET RIVER FOLLOWS\n"
        "1320-100-0001 THE QUIET OLD ROAD\n"
        "1320-100-0002 NO ALIGNMENT HERE\n"
    )
    (folder / "1320-100.alignment.txt").write_text(
        '1320-100-0000 ",THE,QUIET,,RIVER,FOLLOWS," "0.100,1.300,2.500,3.000,4.200,5.400,5.500"\n'
        '1320-100-0001 ",THE,QUIET,,OLD,ROAD," "0.100,1.300,2.500,2.800,4.000,5.200,5.300"\n'
        "1320-100-0009 this line is broken\n"
    )
    return root


def _ledger_texts(out: Path) -> dict[str, str]:
    lines = (out / "processed.jsonl").read_text().splitlines()
    return {r["id"]: r["text"] for r in map(json.loads, lines) if r["kept"]}


def test_preprocess_splits_aligned_librispeech_into_its_pieces(
    aligned_librispeech: Path, tmp_path: Path
) -> None:
    out = tmp_path / "voc"
    summary = preprocess("vocoder", aligned_librispeech, out)
    assert summary.alignments == {"aligned": 2, "split": 1, "pieces": 3, "unaligned": 1}
    assert (summary.utterances, summary.kept) == (4, 4)
    assert json.loads((out / "summary.json").read_text())["alignments"]["pieces"] == 3
    assert _ledger_texts(out) == {
        "1320-100-0000_00": "THE QUIET",
        "1320-100-0000_01": "RIVER FOLLOWS",
        "1320-100-0001_00": "THE QUIET OLD ROAD",
        "1320-100-0002": "NO ALIGNMENT HERE",
    }
    ids = [line.split("|")[0] for line in (out / "train.txt").read_text().splitlines()]
    assert ids == sorted(_ledger_texts(out))

    # Each piece: the whole file's peak rescaled, the piece cut out, its silences trimmed.
    folder = aligned_librispeech / "1320" / "100"
    spans = {
        "1320-100-0000_00": ("1320-100-0000", 0.1, 2.5),
        "1320-100-0000_01": ("1320-100-0000", 3.0, 5.4),
        "1320-100-0001_00": ("1320-100-0001", 0.1, 5.2),
    }
    for piece, (uid, start, end) in spans.items():
        whole = dsp.rescale_peak(load_audio(folder / f"{uid}.flac"), 0.9)
        expected = dsp.trim_long_silences(whole[int(start * SR) : int(end * SR)])
        saved = np.load(out / "audio" / f"{piece}.npy")
        np.testing.assert_array_equal(saved, expected)
        np.testing.assert_array_equal(
            np.load(out / "mels" / f"{piece}.npy"), dsp.melspectrogram(saved)
        )
    # The two pieces of 0000 are its two halves of speech, 2.4 s each before trimming.
    assert len(np.load(out / "audio" / "1320-100-0000_00.npy")) <= 38400

    # A re-run has nothing left to do.
    again = preprocess("vocoder", aligned_librispeech, out)
    assert (again.processed_now, again.already_done, again.kept) == (0, 4, 4)


def test_no_alignments_gives_whole_utterances(
    aligned_librispeech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "voc"
    argv = ["preprocess", "vocoder", str(aligned_librispeech), str(out), "--no-progress"]
    assert sv2tts_main([*argv, "--no-alignments"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["alignments"] is None and summary["kept"] == 3
    assert _ledger_texts(out) == {
        "1320-100-0000": "THE QUIET RIVER FOLLOWS",
        "1320-100-0001": "THE QUIET OLD ROAD",
        "1320-100-0002": "NO ALIGNMENT HERE",
    }
    # The encoder never splits: its utterances are whole with the alignments there too.
    enc = tmp_path / "enc"
    assert sv2tts_main(["preprocess", "encoder", str(aligned_librispeech), str(enc)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["alignments"] is None and summary["utterances"] == 3
