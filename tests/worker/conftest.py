"""Fixtures of the worker tests: a fake Bot API, a clean Redis database, a stand-in engine."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from redis import Redis

import worker.jobs
from sv2tts.audio.codec import SAMPLE_RATE, decode_audio, encode_ogg_opus
from sv2tts.audio.recording import RecordingLimits, measure_recording, recording_problem
from sv2tts.embedding import EMBEDDING_SIZE, Vector, cosine_similarity, l2_normalize
from sv2tts.encoder.voices import Voice
from sv2tts.errors import NothingToSay
from sv2tts.text import has_speakable_text
from tests.fakes.botapi import FakeBotAPI
from worker.api import QUEUE
from worker.queue.resident import ResidentWorker
from worker.runtime import Runtime, build_runtime
from worker.settings import WorkerSettings

WORKER_DB = 7  # a database of the session's Redis server of its own, flushed per test


def spectral_signature(wav: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A stand-in for the speaker encoder's embedding that is computed from the samples: the
    power of `wav` in EMBEDDING_SIZE log-spaced bands from 60 Hz to 7.9 kHz, L2-normalised.
    Two waveforms with the same spectrum (a tone and the same tone slower) get the same
    vector; another frequency or noise, another one."""
    power = np.abs(np.fft.rfft(np.asarray(wav, dtype=np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(wav), 1.0 / sample_rate)
    edges = np.geomspace(60.0, 7900.0, EMBEDDING_SIZE + 1)
    band = np.digitize(freqs, edges) - 1
    inside = (band >= 0) & (band < EMBEDDING_SIZE)
    return l2_normalize(np.bincount(band[inside], power[inside], minlength=EMBEDDING_SIZE))


def tone(seconds: float, frequency: float = 220.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(sample_rate * seconds), dtype=np.float32) / sample_rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


class ToneEngine:
    """Stands in for the models: a tone as long as the text, a fixed unit embedding, and a
    likeness measured on the waveform it is given (its `spectral_signature` against the
    voice), so that a test sees the figure change when the output does.

    Recordings are measured and checked as the real pipeline does it, and whether a text has
    anything to say is decided by the same rule (`has_speakable_text`). A dialogue's lines
    (`speak_lines`) are tones too, at a pitch that tells the voice apart: 200 Hz plus 100 Hz
    per index of the embedding's largest entry; each batch it was given is kept.
    """

    encoder_id = "tone-engine"
    sample_rate = 16000

    def __init__(self, seconds_per_char: float = 0.05) -> None:
        self.seconds_per_char = seconds_per_char
        self.spoken: list[str] = []
        self.line_batches: list[list[str]] = []
        self.fail_with: BaseException | None = None

    def embed(
        self,
        wav: np.ndarray,
        sample_rate: int = 16000,
        *,
        limits: RecordingLimits | None = RecordingLimits(),
    ) -> Voice:
        stats = measure_recording(wav, sample_rate)
        problem = recording_problem(stats, limits) if limits is not None else None
        if problem is not None:
            raise problem
        vector = np.zeros(256, dtype=np.float32)
        vector[0] = 1.0
        return Voice(vector=vector, encoder_id=self.encoder_id, recording=stats)

    def speak(self, text: str, embedding: Vector, progress: Any = None) -> np.ndarray:
        if self.fail_with is not None:
            raise self.fail_with
        if not has_speakable_text(text):
            raise NothingToSay("no speakable text")
        self.spoken.append(text)
        if progress is not None:
            progress("synthesizer", 1.0)
            progress("vocoder", 1.0)
        return tone(self.seconds_per_char * len(text), sample_rate=self.sample_rate)

    def likeness(self, wav: np.ndarray, embedding: Vector) -> float:
        return cosine_similarity(spectral_signature(wav, self.sample_rate), embedding)

    def speak_lines(
        self, texts: Sequence[str], embedding: Vector, progress: Any = None
    ) -> list[np.ndarray]:
        if self.fail_with is not None:
            raise self.fail_with
        if not any(has_speakable_text(text) for text in texts):
            raise NothingToSay("no speakable text")
        self.line_batches.append(list(texts))
        hz = self.voice_pitch(embedding)
        return [
            self.tone(hz, self.seconds_per_char * len(text) if has_speakable_text(text) else 0)
            for text in texts
        ]

    @staticmethod
    def voice_pitch(embedding: Vector) -> float:
        return 200.0 + 100.0 * int(np.argmax(np.asarray(embedding)))

    def tone(self, hz: float, seconds: float) -> np.ndarray:
        t = np.arange(int(self.sample_rate * seconds), dtype=np.float32) / self.sample_rate
        return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {"device": "cpu", "weights": {"engine": "tone"}}


@pytest.fixture
def bot_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as api:
        yield api


@pytest.fixture
def worker_redis_url(redis_url: str) -> Iterator[str]:
    url = f"{redis_url.rstrip('/')}/{WORKER_DB}"
    client = Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def redis_conn(worker_redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(worker_redis_url)
    yield client
    client.close()


@pytest.fixture
def tone_engine() -> ToneEngine:
    return ToneEngine()


@pytest.fixture
def runtime(
    bot_api: FakeBotAPI, worker_redis_url: str, tone_engine: ToneEngine, tmp_path: Any
) -> Runtime:
    settings = WorkerSettings(
        bot_token=bot_api.token,
        telegram_api_url=bot_api.url,
        redis_url=worker_redis_url,
        _env_file=None,
    )
    return build_runtime(settings, tone_engine)


def voice_note_of(mp3: Path, seconds: float | None = None) -> bytes:
    """An OGG/Opus voice note, as Telegram clients send them, of (the start of) an mp3."""
    wav = decode_audio(mp3, max_seconds=600)
    if seconds is not None:
        wav = wav[: int(seconds * SAMPLE_RATE)]
    return encode_ogg_opus(wav, SAMPLE_RATE)


@pytest.fixture(scope="session")
def voice_ogg(audio_dir: Path) -> bytes:
    return voice_note_of(sorted(audio_dir.glob("*.mp3"))[0])


@pytest.fixture
def resident_worker(
    runtime: Runtime, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ResidentWorker]:
    """A worker in this process on the test's runtime; the signal handlers it installs are
    put back after the test."""
    monkeypatch.setattr(worker.jobs, "resident_runtime", lambda: runtime)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield ResidentWorker([QUEUE], runtime=runtime, connection=redis_conn)
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
