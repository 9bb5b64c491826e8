"""A user's recording, by Telegram file_id, to a speaker embedding and what the bot tells them.

Everything about the file is untrusted: its declared size is checked before downloading, the
download stops at the byte limit whatever the headers say, and decoding runs in ffmpeg with
size, duration and time limits (sv2tts.audio.codec). Bad input raises EmbedError with the code the
bot turns into a message (the engine's RecordingLimits decide what is silent, clipped or
too short); the worker never retries those.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from service.settings import RecordingLimitSettings
from sv2tts.audio.codec import SAMPLE_RATE, AudioError, decode_audio, encode_ogg_opus
from sv2tts.audio.recording import RecordingLimits
from sv2tts.errors import EngineError
from worker.api import EmbedError, EmbedRequest, EmbedResult
from worker.engine import Embeds
from worker.runtime import Runtime
from worker.telegram import BotApi, FileTooLarge, TelegramPermanentError

log = logging.getLogger(__name__)


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


def decoded_recording(data: bytes | Path, max_bytes: int, max_seconds: float) -> np.ndarray:
    try:
        return decode_audio(data, max_bytes=max_bytes, max_seconds=max_seconds)
    except AudioError as error:
        raise EmbedError(error.code, error.detail) from error


def run_embed(runtime: Runtime, request: EmbedRequest) -> EmbedResult:
    settings = runtime.settings
    data = fetch_recording(runtime.telegram, request, settings.max_audio_bytes)
    result = embed_recording(runtime.engine, data, settings)
    log.info(
        "embedded a %s: %.1f s of speech in %.1f s, %.1f dBFS",
        request.kind,
        result.recording.speech_seconds,
        result.recording.total_seconds,
        result.recording.level_dbfs,
    )
    return result


def embed_recording(
    engine: Embeds, data: bytes | Path, limits: RecordingLimitSettings
) -> EmbedResult:
    """Decode (within the limits), check and embed one recording: what every voice is made of,
    whether a user sent it or an admin imports it into the bank."""
    wav = decoded_recording(data, limits.max_audio_bytes, limits.max_audio_seconds)
    try:
        voice = engine.embed(wav, SAMPLE_RATE, limits=RecordingLimits(limits.min_speech_seconds))
    except EngineError as error:  # silent, clipped, no speech, too short
        raise EmbedError(error.code, error.detail) from error
    return EmbedResult(
        embedding=[float(x) for x in voice.vector],
        encoder_id=voice.encoder_id,
        recording=voice.recording,
        recording_ogg=encode_ogg_opus(wav, SAMPLE_RATE, output_rate=SAMPLE_RATE),
    )
