"""What a recording measured: the one type for it, in a module with no dependencies at all.

`sv2tts.audio.recording.measure_recording` makes it; the engine's `Voice` carries it; the worker
sends it to the bot inside its answer (worker/api/payloads.py EmbedResult) and the bot's
storage keeps it with each recording (storage.Sample). The bot installs no NumPy-heavy engine
parts, so the type lives here, on its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordingStats:
    """What a user's recording measured, before any processing."""

    total_seconds: float  # decoded duration
    speech_seconds: float  # what the voice-activity detection kept
    level_dbfs: float  # RMS level of the kept speech, re full scale (dsp.SILENCE_DBFS if none)
    clipped_fraction: float  # share of all samples at full scale (recording.CLIP_LEVEL)
    speech_share: float  # share of the kept speech a trained detector calls speech (0..1)
