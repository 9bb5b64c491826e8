"""LibriSpeech utterances split at their silences, by the Montreal-Forced-Aligner word
alignments people download beside LibriSpeech (the reference's default path for it).

    lines = read_alignment_file(chapter / "19-198.alignment.txt")  # {utterance id: Alignment}
    pieces = split_on_silences(wav, 16000, words, end_times)       # [(samples, text), ...]
    items, counts = split_utterances(utterances)                   # what `preprocess` does

The alignment files (`<speaker>/<chapter>/<speaker>-<chapter>.alignment.txt`, beside the
transcripts) hold one line per utterance, `ID ",WORD1,WORD2,,WORD3," "0.490,0.890,1.030,..."`:
the words (an empty one is a silence) and the END time in seconds of each.

The split, as the reference makes it: every silence longer than `min_silence` (0.4 s), and the
silences the utterance begins and ends with, are break points; the pieces are the stretches
between two break points, the silences themselves left out. A piece shorter than `min_piece`
(1.6 s) is then joined with its shorter neighbour (the silence between them taken back in),
unless the joined piece would be longer than `max_piece`. Each piece's text is its words
joined by spaces; pieces are named `<utterance id>_<index:02d>`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sv2tts.train.preprocess.datasets import Utterance

log = logging.getLogger(__name__)

SILENCE_MIN_DURATION_SPLIT = 0.4  # seconds: longer silences split an utterance
UTTERANCE_MIN_DURATION = 1.6  # seconds: shorter pieces are joined with a neighbour
ALIGNMENT_SUFFIX = ".alignment.txt"


@dataclass(frozen=True, slots=True)
class Alignment:
    words: tuple[str, ...]  # "" for a silence
    end_times: tuple[float, ...]  # seconds, one per word


@dataclass(frozen=True, slots=True)
class Segment:
    start: float  # seconds
    end: float
    text: str


def parse_alignment_line(line: str) -> tuple[str, Alignment]:
    """`ID ",W1,,W2," "0.49,0.89,..."` -> (ID, Alignment); ValueError when malformed."""
    parts = line.split()
    if len(parts) != 3:
        raise ValueError(f'{len(parts)} fields, not 3 (ID "WORDS" "END TIMES")')
    uid, words_field, times_field = parts
    words = tuple(words_field.strip('"').split(","))
    try:
        times = tuple(float(t) for t in times_field.strip('"').split(","))
    except ValueError:
        raise ValueError(f"end times are not numbers: {times_field[:40]!r}") from None
    if len(words) != len(times):
        raise ValueError(f"{len(words)} words but {len(times)} end times")
    if any(t < 0 or not np.isfinite(t) for t in times) or any(
        b < a for a, b in itertools.pairwise(times)
    ):
        raise ValueError("end times are not increasing")
    return uid, Alignment(words, times)


def read_alignment_file(path: Path) -> dict[str, Alignment]:
    """The alignments of one chapter; a malformed line is logged (WARNING) and left out."""
    alignments: dict[str, Alignment] = {}
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            uid, alignment = parse_alignment_line(line)
        except ValueError as error:
            log.warning("%s:%d: %s, skipped", path, number, error)
            continue
        alignments[uid] = alignment
    return alignments


def split_times(
    words: Sequence[str],
    end_times: Sequence[float],
    *,
    min_silence: float = SILENCE_MIN_DURATION_SPLIT,
    min_piece: float = UTTERANCE_MIN_DURATION,
    max_piece: float = float("inf"),
) -> list[Segment]:
    """The pieces (start, end in seconds, text) of an utterance with these words."""
    words, ends = list(words), [float(t) for t in end_times]
    if len(words) != len(ends):
        raise ValueError(f"{len(words)} words but {len(ends)} end times")
    if not words:
        return []
    # Break points are silences: an utterance that does not begin or end with one gets an
    # empty one there.
    if words[0] != "":
        words, ends = ["", *words], [0.0, *ends]
    if words[-1] != "":
        words, ends = [*words, ""], [*ends, ends[-1]]
    starts = [0.0, *ends[:-1]]
    last = len(words) - 1
    breaks = [
        i
        for i, word in enumerate(words)
        if i in (0, last) or (word == "" and ends[i] - starts[i] > min_silence)
    ]
    segments = list(itertools.pairwise(breaks))
    durations = [starts[b] - ends[a] for a, b in segments]
    i = 0
    while i < len(segments) and len(segments) > 1:
        if durations[i] >= min_piece:
            i += 1
            continue
        left = durations[i - 1] if i > 0 else float("inf")
        right = durations[i + 1] if i < len(segments) - 1 else float("inf")
        joined = durations[i] + min(left, right)
        if joined > max_piece:
            i += 1
            continue
        j = i - 1 if left <= right else i  # the shorter neighbour
        segments[j] = (segments[j][0], segments[j + 1][1])
        durations[j] = joined
        del segments[j + 1], durations[j + 1]
    return [
        Segment(ends[a], starts[b], " ".join(w for w in words[a + 1 : b] if w)) for a, b in segments
    ]


def split_on_silences(
    wav: np.ndarray,
    sample_rate: int,
    words: Sequence[str],
    end_times: Sequence[float],
    **limits: float,
) -> list[tuple[np.ndarray, str]]:
    """`wav` cut into its pieces (see `split_times`, whose keywords `limits` are)."""
    return [
        (wav[_sample(s.start, sample_rate) : _sample(s.end, sample_rate)], s.text)
        for s in split_times(words, end_times, **limits)
    ]


def _sample(seconds: float, sample_rate: int) -> int:
    return int(seconds * sample_rate)  # truncated, as the reference does


def has_alignments(root: Path) -> bool:
    return next(Path(root).rglob(f"*{ALIGNMENT_SUFFIX}"), None) is not None


@dataclass
class SplitCounts:
    aligned: int = 0  # utterances with an alignment line
    split: int = 0  # of those, the ones cut into more than one piece
    pieces: int = 0  # training items made from the aligned utterances
    unaligned: int = 0  # utterances used whole (no alignment line or file)


def split_utterances(
    utterances: Iterable[Utterance],
    *,
    min_silence: float = SILENCE_MIN_DURATION_SPLIT,
    min_piece: float = UTTERANCE_MIN_DURATION,
    max_piece: float = float("inf"),
) -> tuple[list[Utterance], SplitCounts]:
    """Each LibriSpeech utterance with an alignment line (in the `*.alignment.txt` of its
    audio's folder) as its pieces, `span` set and id `<id>_<nn>`; the others as they are."""
    files: dict[Path, dict[str, Alignment]] = {}
    counts = SplitCounts()
    items: list[Utterance] = []
    for utterance in utterances:
        folder = utterance.audio.parent
        if folder not in files:
            files[folder] = {}
            for path in sorted(folder.glob(f"*{ALIGNMENT_SUFFIX}")):
                files[folder].update(read_alignment_file(path))
        alignment = files[folder].get(utterance.audio.name.split(".")[0])
        if alignment is None:
            counts.unaligned += 1
            items.append(utterance)
            continue
        segments = split_times(
            alignment.words,
            alignment.end_times,
            min_silence=min_silence,
            min_piece=min_piece,
            max_piece=max_piece,
        )
        counts.aligned += 1
        counts.split += len(segments) > 1
        counts.pieces += len(segments)
        items.extend(
            replace(utterance, id=f"{utterance.id}_{k:02d}", text=s.text, span=(s.start, s.end))
            for k, s in enumerate(segments)
        )
    return items, counts
