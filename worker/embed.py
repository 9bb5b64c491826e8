"""A user's recording, by Telegram file_id, to a speaker embedding and what the bot tells them.

Everything about the file is untrusted: its declared size is checked before downloading, the
download stops at the byte limit whatever the headers say, and decoding runs in ffmpeg with
size, duration and time limits (sv2tts.audio). Bad input raises EmbedError with the code the
bot turns into a message; the worker never retries those.
"""

from __future__ import annotations

import logging

import numpy as np

from sv2tts.audio import SAMPLE_RATE, AudioError, decode_audio, encode_ogg_opus
from worker.api import EmbedError, EmbedRequest, EmbedResult
from worker.engine import RecordingStats
from worker.runtime import Runtime
from worker.telegram import BotApi, FileTooLarge, TelegramPermanentError

log = logging.getLogger(__name__)

SILENT_DBFS = -55.0  # speech quieter than this is no speech at all
MAX_CLIPPED_FRACTION = 0.05  # a recording this clipped gives a distorted embedding
DECODE_TIMEOUT = 30.0  # seconds of ffmpeg time for one recording


def fetch_recording(telegram: BotApi, request: EmbedRequest, max_bytes: int) -> bytes:
    """The file's bytes from Telegram; EmbedError("too_large") past `max_bytes`."""
    if request.file_size is not None and request.file_size > max_bytes:
        raise EmbedError("too_large", f"{request.file_size} bytes declared")
    try:
        remote = telegram.get_file(request.file_id)
        if remote.file_size is not None and remote.file_size > max_bytes:
            raise EmbedError("too_large", f"{remote.file_size} bytes per getFile")
        return telegram.download(remote.file_path, max_bytes=max_bytes)
    except FileTooLarge as error:
        raise EmbedError("too_large", error.description) from error
    except TelegramPermanentError as error:
        # The Bot API refuses getFile for files over 20 MB with "file is too big".
        if "too big" in error.description.lower():
            raise EmbedError("too_large", error.description) from error
        raise


def decoded_recording(data: bytes, max_bytes: int, max_seconds: float) -> np.ndarray:
    try:
        return decode_audio(
            data, max_bytes=max_bytes, max_seconds=max_seconds, timeout=DECODE_TIMEOUT
        )
    except AudioError as error:
        raise EmbedError(error.code, error.detail) from error


def check_recording(stats: RecordingStats, min_speech_seconds: float) -> None:
    """EmbedError with the reason when the recording cannot give a usable voice."""
    if stats.speech_seconds <= 0 or stats.level_dbfs < SILENT_DBFS:
        raise EmbedError("silent", f"speech level {stats.level_dbfs:.1f} dBFS")
    if stats.clipped_fraction > MAX_CLIPPED_FRACTION:
        raise EmbedError("clipped", f"{stats.clipped_fraction:.1%} of samples at full scale")
    if stats.speech_seconds < min_speech_seconds:
        raise EmbedError("too_short", f"{stats.speech_seconds:.2f} s of speech")


def run_embed(runtime: Runtime, request: EmbedRequest) -> EmbedResult:
    settings = runtime.settings
    data = fetch_recording(runtime.telegram, request, settings.max_audio_bytes)
    wav = decoded_recording(data, settings.max_audio_bytes, settings.max_audio_seconds)
    stats = runtime.engine.measure(wav)
    check_recording(stats, settings.min_speech_seconds)
    embedding = runtime.engine.embed(wav)
    log.info(
        "embedded %s: %.1f s of speech in %.1f s, %.1f dBFS",
        request.kind,
        stats.speech_seconds,
        stats.total_seconds,
        stats.level_dbfs,
    )
    return EmbedResult(
        embedding=[float(x) for x in embedding],
        encoder_id=runtime.engine.encoder_id,
        speech_seconds=stats.speech_seconds,
        total_seconds=stats.total_seconds,
        level_dbfs=stats.level_dbfs,
        clipped_fraction=stats.clipped_fraction,
        recording_ogg=encode_ogg_opus(wav, SAMPLE_RATE, output_rate=SAMPLE_RATE),
    )
