"""A synth request from text to a voice note in the user's chat.

The user sees "recording voice" while it works (a ticker thread re-sends the chat action,
which Telegram shows for about 5 seconds). The answer is uploaded as a reply to their request
and settled exactly once (worker/settle.py); a run that finds its job already settled returns
the recorded outcome without uploading again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from sv2tts.audio import encode_mp3, encode_ogg_opus
from worker.api import JobError, SynthOutcome, SynthRequest
from worker.engine import Engine
from worker.runtime import Runtime
from worker.settle import EncodedAudio, keep_audio, kept_audio, settle, settled_outcome
from worker.telegram import BotApi, TelegramError

log = logging.getLogger(__name__)

CHAT_ACTION = "record_voice"
CHAT_ACTION_EVERY = 4.0  # seconds; Telegram clears the status after about 5


@contextmanager
def chat_action(telegram: BotApi, chat_id: int, every: float = CHAT_ACTION_EVERY) -> Iterator[None]:
    """Show "recording voice" in `chat_id` until the block ends."""
    stop = threading.Event()

    def tick() -> None:
        while True:
            try:
                telegram.send_chat_action(chat_id, CHAT_ACTION)
            except TelegramError as error:  # cosmetic: never fail a job over it
                log.debug("chat action in %s failed: %s", chat_id, error)
            if stop.wait(every):
                return

    ticker = threading.Thread(target=tick, name=f"chat-action-{chat_id}", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join(timeout=every + 1)


def make_audio(engine: Engine, request: SynthRequest) -> EncodedAudio:
    """Synthesize and encode `request` in its output format."""
    if not request.text.strip():
        raise JobError("nothing_to_say", "empty text")
    started = time.perf_counter()
    wav = engine.speak(request.text, request.embedding)
    synth_seconds = time.perf_counter() - started
    if wav.size == 0:
        raise JobError("nothing_to_say", "the synthesizer produced no audio")
    return EncodedAudio(
        encoded(wav, engine.sample_rate, request.output_format),
        wav.size / engine.sample_rate,
        synth_seconds,
    )


def encoded(wav: np.ndarray, sample_rate: int, output_format: str) -> bytes:
    """MP3 for users who asked for it, else an OGG/Opus voice note."""
    if output_format == "mp3":
        return encode_mp3(wav, sample_rate)
    return encode_ogg_opus(wav, sample_rate)


def upload(telegram: BotApi, request: SynthRequest, audio: EncodedAudio) -> int:
    """Send the answer as a reply to the request; the sent message's id."""
    duration = max(1, round(audio.duration))
    if request.output_format == "mp3":
        title = request.voice_name or "Voice"
        return telegram.send_audio(
            request.chat_id,
            audio.data,
            duration=duration,
            title=title,
            reply_to=request.reply_to_message_id,
        )
    return telegram.send_voice(
        request.chat_id, audio.data, duration=duration, reply_to=request.reply_to_message_id
    )


def run_synth(runtime: Runtime, request: SynthRequest, job_id: str) -> SynthOutcome:
    """Make and send the voice note for `request`; the settled outcome."""
    previous = settled_outcome(runtime.redis, job_id)
    if previous is not None:
        log.info("job %s was settled by an earlier run; not sending it again", job_id)
        return previous
    started = time.time()
    with chat_action(runtime.telegram, request.chat_id):
        audio = kept_audio(runtime.redis, job_id)
        if audio is None:
            audio = make_audio(runtime.engine, request)
            keep_audio(runtime.redis, job_id, audio)
        else:
            log.info("job %s: sending the audio an earlier attempt made", job_id)
        message_id = upload(runtime.telegram, request, audio)
    outcome = success_outcome(request, audio, started, message_id)
    if not settle(runtime.redis, job_id, outcome):
        log.warning("job %s was settled meanwhile by another run", job_id)
    log.info(
        "job %s: %.1f s of audio for request %s in %.2f s (synthesis %.2f s)",
        job_id,
        audio.duration,
        request.request_id,
        time.time() - started,
        audio.synth_seconds,
    )
    return outcome


def success_outcome(
    request: SynthRequest, audio: EncodedAudio, started: float, message_id: int
) -> SynthOutcome:
    now = time.time()
    enqueued = request.enqueued_at or started
    return SynthOutcome(
        request_id=request.request_id,
        user_id=request.user_id,
        ok=True,
        queue_seconds=max(0.0, started - enqueued),
        synth_seconds=audio.synth_seconds,
        audio_seconds=audio.duration,
        total_seconds=max(0.0, now - enqueued),
        sent_message_id=message_id,
    )
