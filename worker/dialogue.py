"""A /dialogue script to one waveform: each voice's lines made in one batch, put back in order.

The script's turns come in the order the user wrote them, and neighbouring turns are usually
different voices. Synthesizing turn by turn would start a Tacotron batch and a vocoder run
per line; instead the lines of each voice go to the engine together (`speak_lines`: their
sentences decoded in length batches, one vocoder run, each line levelled to the same
loudness), and the pieces are then laid out in script order with a short pause between turns.
The whole script then goes through the finishing ladder as any note does (sv2tts/finish.py,
run by worker/synth.py). Delivery is the synth job's own (worker/synth.py:
lease, upload mark, settle): a dialogue is a synth request whose payload has turns.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

import numpy as np

from worker.api import JobError, SynthRequest
from worker.engine import Engine

if TYPE_CHECKING:
    from sv2tts.speech import Progress

log = logging.getLogger(__name__)

TURN_PAUSE_SECONDS = 0.35  # between turns, on top of what each line keeps of its own silence


def turns_by_speaker(request: SynthRequest) -> dict[int, list[int]]:
    """Turn indices per speaker, speakers in the order they first speak."""
    groups: dict[int, list[int]] = {}
    for index, turn in enumerate(request.turns):
        if not 0 <= turn.speaker < len(request.speakers):
            raise JobError("internal", f"turn {index} names an unknown speaker {turn.speaker}")
        groups.setdefault(turn.speaker, []).append(index)
    return groups


def joined_turns(pieces: list[np.ndarray], sample_rate: int, pause_seconds: float) -> np.ndarray:
    """The turns one after another, `pause_seconds` of silence between them; empty ones
    (nothing speakable) are left out, pause included."""
    spoken = [p.astype(np.float32) for p in pieces if p.size]
    if not spoken:
        return np.zeros(0, dtype=np.float32)
    gap = np.zeros(round(pause_seconds * sample_rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for i, piece in enumerate(spoken):
        if i:
            parts.append(gap)
        parts.append(piece)
    return np.concatenate(parts)


def speak_dialogue(
    engine: Engine,
    request: SynthRequest,
    pause_seconds: float = TURN_PAUSE_SECONDS,
    progress: Progress | None = None,
) -> np.ndarray:
    """The whole script in its voices, at `engine.sample_rate`; `progress` is told how far
    (each voice's share of the stages, one voice after another)."""
    if not request.turns:
        raise JobError("nothing_to_say", "a dialogue without turns")
    pieces: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * len(request.turns)
    groups = turns_by_speaker(request)
    for number, (speaker, indices) in enumerate(groups.items()):
        texts = [request.turns[i].text for i in indices]
        told = None
        if progress is not None:
            told = functools.partial(_group_progress, progress, number, len(groups))
        wavs = engine.speak_lines(texts, request.speakers[speaker], progress=told)
        if len(wavs) != len(indices):
            raise JobError("internal", f"{len(wavs)} waveforms for {len(indices)} lines")
        for index, wav in zip(indices, wavs, strict=True):
            pieces[index] = np.asarray(wav, dtype=np.float32)
    log.info("dialogue: %d turns in %d voices", len(request.turns), len(groups))
    return joined_turns(pieces, engine.sample_rate, pause_seconds)


def _group_progress(progress: Progress, number: int, groups: int, stage: str, done: float) -> None:
    """Voice `number` of `groups` is `done` through `stage`: that share of its slice."""
    progress(stage, (number + done) / groups)
