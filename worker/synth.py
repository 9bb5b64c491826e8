"""A synth request from text to a voice note in the user's chat.

The user sees "recording voice" while it works (a ticker thread re-sends the chat action,
which Telegram shows for about 5 seconds). The answer is uploaded as a reply to their request,
only by the execution that holds the job's lease and only if the user has not cancelled it,
and settled exactly once (worker/queue/delivery.py); a run that finds its job already settled
returns the recorded outcome without uploading again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rq.timeouts import JobTimeoutException

from sv2tts.errors import EngineError
from sv2tts.finish import Finishing, finish
from worker.api import JobError, SynthOutcome, SynthRequest
from worker.api.calls import settled_outcome
from worker.api.keys import lost_key
from worker.dialogue import speak_dialogue
from worker.engine import Engine
from worker.messages import note_caption
from worker.progress import ProgressReport, Stopped, resident_pace
from worker.queue.delivery import (
    EncodedAudio,
    LeaseLost,
    Upload,
    begin_upload,
    cancel_requested,
    clear_upload_mark,
    keep_audio,
    kept_audio,
    settle,
)
from worker.queue.failures import failed_outcome, settle_failed_synth
from worker.queue.revocation import void_reason
from worker.runtime import Runtime
from worker.telegram import (
    BotApi,
    SentMedia,
    TelegramError,
    TelegramPermanentError,
    TelegramTransientError,
    TelegramUnconfirmed,
)

if TYPE_CHECKING:
    from sv2tts.speech import Progress
    from sv2tts.watermark.model import Watermarker

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


def make_audio(
    engine: Engine,
    request: SynthRequest,
    watermarker: Watermarker,
    progress: Progress | None = None,
) -> EncodedAudio:
    """Synthesize `request` (a dialogue's turns in their voices) and run the finishing ladder
    on it (sv2tts/finish.py, as `python -m sv2tts say` does): trim, the user's pace, loudness,
    the watermark, so every note carries it, the likeness of exactly what is sent (none for a
    dialogue: several voices have no one likeness), and the request's output format.
    Whether there is anything to say is the engine's text front end's to decide (the bot
    asks the same rule first). `progress` is told how far the engine is
    (worker/progress.py)."""
    encoding = "mp3" if request.output_format == "mp3" else "voice"
    try:
        choices = Finishing(pace=request.pace, encoding=encoding)
    except ValueError as error:  # a pace the bot should never have asked for
        raise JobError("internal", str(error)) from error
    started = time.perf_counter()
    try:
        if request.turns:
            wav = speak_dialogue(engine, request, progress=progress)
        else:
            wav = engine.speak(request.text, request.embedding, progress=progress)
    except EngineError as error:  # nothing speakable
        raise JobError(error.code, error.detail) from error
    synth_seconds = time.perf_counter() - started
    note = finish(
        wav,
        engine.sample_rate,
        choices,
        marker=watermarker,
        voice=None if request.turns else request.embedding,
        measure=engine.likeness,
    )
    return EncodedAudio(note.data, note.seconds, synth_seconds, note.likeness)


def upload(
    telegram: BotApi, request: SynthRequest, audio: EncodedAudio, *, again: bool = False
) -> SentMedia:
    """Send the answer as a reply to the request; the sent message. The caption shows the
    note's likeness; `again`: an earlier attempt was cut off mid-upload, so it also says this
    one may be a second copy."""
    duration = max(1, round(audio.duration))
    caption = note_caption(request.language, likeness=audio.likeness, sent_again=again)
    if request.output_format == "mp3":
        title = request.voice_name or "Voice"
        return telegram.send_audio(
            request.chat_id,
            audio.data,
            duration=duration,
            title=title,
            reply_to=request.reply_to_message_id,
            caption=caption,
        )
    return telegram.send_voice(
        request.chat_id,
        audio.data,
        duration=duration,
        reply_to=request.reply_to_message_id,
        caption=caption,
    )


def run_synth(runtime: Runtime, request: SynthRequest, job_id: str) -> SynthOutcome:
    """Make and send the voice note for `request`; the settled outcome."""
    previous = settled_outcome(runtime.redis, job_id)
    if previous is not None:
        log.info("job %s was settled by an earlier run; not sending it again", job_id)
        return previous
    lease = runtime.lease
    own_lease = lease.job_id != job_id  # run outside the worker (tests, tools): lease it here
    if own_lease and lease.take(job_id) is None:
        raise LeaseLost(f"job {job_id} is leased by another execution")
    try:
        return _run_leased(runtime, request, job_id, lease.token or "")
    finally:
        if own_lease:
            lease.drop()


def _run_leased(runtime: Runtime, request: SynthRequest, job_id: str, token: str) -> SynthOutcome:
    redis = runtime.redis
    if cancel_requested(redis, job_id):
        return settle_cancelled(runtime, request, job_id, token)
    void = void_reason(redis, request)
    if void is not None:  # checked again in begin_upload, for whatever happens meanwhile
        return settle_void(runtime, request, job_id, token, void)
    if redis.exists(lost_key(job_id)):
        raise JobError("internal", "the job lost its worker more often than it may be retried")
    started = time.time()
    with chat_action(runtime.telegram, request.chat_id):
        audio = kept_audio(redis, job_id)
        if audio is None:
            report = ProgressReport(redis, job_id, len(request.text), resident_pace())
            try:
                with report:
                    audio = make_audio(runtime.engine, request, runtime.watermarker, report.stage)
            except Stopped:
                return settle_cancelled(runtime, request, job_id, token)
            finally:
                report.clear()
            keep_audio(redis, job_id, audio)
        else:
            log.info("job %s: sending the audio an earlier attempt made", job_id)
        state = begin_upload(redis, job_id, token, request, lease_seconds=runtime.lease.seconds)
        if state is Upload.SETTLED:
            return settled_outcome(redis, job_id) or failed_outcome(request, "internal", job_id)
        if state is Upload.CANCELLED:
            return settle_cancelled(runtime, request, job_id, token)
        if state in (Upload.FORGOTTEN, Upload.VOICE_GONE):
            return settle_void(runtime, request, job_id, token, str(state))
        if state is Upload.FENCED:
            raise LeaseLost(f"job {job_id}: the lease passed to another worker before the upload")
        if state is Upload.AGAIN:
            log.warning("job %s: an earlier attempt died mid-upload; sending again", job_id)
        try:
            sent = upload(runtime.telegram, request, audio, again=state is Upload.AGAIN)
        except (TelegramTransientError, TelegramPermanentError):
            clear_upload_mark(redis, job_id, token)  # Telegram answered: nothing was sent
            raise
        except JobTimeoutException as error:
            # The job's time ran out while the note was on its way: it may have arrived, so
            # the user hears "may not have arrived", never "took too long, gave up".
            method = "sendAudio" if request.output_format == "mp3" else "sendVoice"
            raise TelegramUnconfirmed(method, f"the job timed out mid-upload ({error})") from error
    outcome = success_outcome(request, audio, started, sent, job_id, state is Upload.AGAIN)
    if not settle(redis, job_id, outcome):
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


def settle_void(
    runtime: Runtime, request: SynthRequest, job_id: str, token: str, reason: str
) -> SynthOutcome:
    """Settle a job that nothing may answer any more: its user was forgotten (nothing is sent
    to them, not even an apology) or a voice it speaks with was taken back (the user is told)."""
    if reason == "forgotten":
        log.info("job %s: its user asked to be forgotten; not sending it", job_id)
        outcome = failed_outcome(request, "cancelled", job_id)
        settle(runtime.redis, job_id, outcome, token=token)
        return outcome
    log.info("job %s: a voice it speaks with was taken back; not sending it", job_id)
    settle_failed_synth(runtime.redis, runtime.telegram, job_id, request, reason, token=token)
    return failed_outcome(request, reason, job_id)


def settle_cancelled(
    runtime: Runtime, request: SynthRequest, job_id: str, token: str
) -> SynthOutcome:
    log.info("job %s was cancelled; not sending it", job_id)
    outcome = failed_outcome(request, "cancelled", job_id)
    settle(runtime.redis, job_id, outcome, token=token)
    return outcome


def success_outcome(
    request: SynthRequest,
    audio: EncodedAudio,
    started: float,
    sent: SentMedia,
    job_id: str = "",
    sent_again: bool = False,
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
        sent_message_id=sent.message_id,
        job_id=job_id,
        sent_again=sent_again,
        likeness=audio.likeness,
        file_id=sent.file_id,
        file_kind="audio" if request.output_format == "mp3" else "voice",
    )
