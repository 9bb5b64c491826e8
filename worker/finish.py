"""The steps between the engine's waveform and the encoder: the user's pace, and the likeness.

`make_audio` (worker/synth.py) runs them on what the engine gave, in this order:
synthesize → `paced` → (later steps that change the waveform) → `measured_likeness` → encode.
The likeness comes last so that it is measured on exactly the samples that are encoded and
sent: a figure of the note the user hears, not of an intermediate.

Pace is applied here, by the worker, not inside the engine: so it is the same for every engine
(the pipeline and the tests' stand-in alike), and it costs nothing in the models (ffmpeg's
`atempo` on the finished samples, a few milliseconds per second of speech).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from sv2tts.audio.codec import change_tempo
from worker.api import JobError
from worker.engine import Engine

log = logging.getLogger(__name__)


def paced(wav: np.ndarray, sample_rate: int, pace: float) -> np.ndarray:
    """`wav` played `pace` times as fast with its pitch kept (1.0: `wav` as it is).

    `sv2tts.audio.codec.change_tempo`: ffmpeg's `atempo`, which moves whole waveform segments
    aligned by cross-correlation (WSOLA), so pitch periods and formants stay intact where a
    phase vocoder would smear them. A pace outside 0.75..1.5 is a request the bot should never
    have made: it fails as "internal", like any other broken payload.
    """
    if pace == 1.0:
        return wav
    try:
        return change_tempo(wav, sample_rate, pace)
    except ValueError as error:  # AudioError too: ffmpeg failed or ran past its time limit
        raise JobError("internal", f"pace {pace!r}: {error}") from error


def measured_likeness(engine: Engine, wav: np.ndarray, embedding: Sequence[float]) -> float | None:
    """How much the final `wav` sounds like the voice, by the engine's speaker encoder (the
    cosine of its embedding to `embedding`); None when it cannot be measured (a voice with no
    direction, a waveform the encoder finds nothing in). The figure is worth less than the
    note it describes, so it never fails the job."""
    try:
        return float(engine.likeness(wav, embedding))
    except ValueError as error:
        log.warning("likeness not measured: %s", error)
        return None
