"""`/check`: does a recording carry the watermark every voice note of this bot carries?

The file is the user's, so it is as untrusted as a recording that becomes a voice, and is
fetched and decoded the same way, within the same limits (worker/embed.py). Audio shorter
than MIN_SECONDS is refused: the detector averages over the loud frames of the whole clip,
and on a fraction of a second its answer means little.
"""

from __future__ import annotations

import logging
import time

from sv2tts.audio.codec import SAMPLE_RATE
from sv2tts.watermark.model import verdict
from worker.api import CheckResult, EmbedError, EmbedRequest
from worker.embed import decoded_recording, fetch_recording
from worker.runtime import Runtime

log = logging.getLogger(__name__)

MIN_SECONDS = 1.0


def run_check(runtime: Runtime, request: EmbedRequest) -> CheckResult:
    settings = runtime.settings
    data = fetch_recording(runtime.telegram, request, settings.max_audio_bytes)
    wav = decoded_recording(data, settings.max_audio_bytes, settings.max_audio_seconds)
    seconds = len(wav) / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise EmbedError("too_short", f"{seconds:.2f} s of audio")
    started = time.perf_counter()
    confidence = runtime.watermarker.confidence(wav, SAMPLE_RATE)
    found = verdict(confidence)
    log.info(
        "checked a %s of %.1f s for the watermark in %.2f s: %s (%.3f)",
        request.kind,
        seconds,
        time.perf_counter() - started,
        found,
        confidence,
    )
    return CheckResult(confidence=round(confidence, 4), verdict=found, seconds=round(seconds, 2))
