"""Pace and likeness on the worker's path: the tempo the user chose, and a likeness measured on
the very waveform that is sent, shown in the caption and carried in the outcome."""

from __future__ import annotations

import time

import numpy as np
import pytest
from redis import Redis

from sv2tts.audio.codec import SAMPLE_RATE, decode_audio, encoded_duration
from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import ToneEngine, spectral_signature, tone
from worker.api import JobError, SynthRequest
from worker.api.keys import upload_key
from worker.messages import likeness_caption, sent_again_caption
from worker.runtime import Runtime
from worker.synth import run_synth

TEXT = "Hello there, this is a test of the pace."  # 2.0 s of tone at 0.05 s a character
TONE_VOICE = [float(x) for x in spectral_signature(tone(1.0))]  # what a 220 Hz tone sounds like


def request(**changes: object) -> SynthRequest:
    fields: dict[str, object] = {
        "request_id": 7,
        "user_id": 1001,
        "chat_id": 1001,
        "reply_to_message_id": 40,
        "text": TEXT,
        "embedding": TONE_VOICE,
        "enqueued_at": time.time(),
    }
    fields.update(changes)
    return SynthRequest(**fields)  # type: ignore[arg-type]


def dominant_frequency(wav: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(wav * np.hanning(len(wav))))
    return float(np.fft.rfftfreq(len(wav), 1.0 / SAMPLE_RATE)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("pace", [0.75, 1.25, 1.5])
def test_the_note_is_as_much_shorter_as_the_pace_is_faster_and_keeps_its_pitch(
    runtime: Runtime, bot_api: FakeBotAPI, tone_engine: ToneEngine, pace: float
) -> None:
    unpaced = tone_engine.seconds_per_char * len(TEXT)
    outcome = run_synth(runtime, request(pace=pace), f"pace-{pace}")
    [voice] = bot_api.calls_of("sendVoice")
    data = voice.upload().data
    assert outcome.audio_seconds == pytest.approx(unpaced / pace, rel=0.03)
    assert encoded_duration(data) == pytest.approx(unpaced / pace, rel=0.03)
    assert voice.params["duration"] == max(1, round(outcome.audio_seconds))
    heard = decode_audio(data)
    assert dominant_frequency(heard[SAMPLE_RATE // 4 : -SAMPLE_RATE // 4]) == pytest.approx(
        220.0, rel=0.01
    )


def test_the_normal_pace_leaves_the_waveform_as_the_engine_made_it(
    runtime: Runtime, tone_engine: ToneEngine
) -> None:
    outcome = run_synth(runtime, request(), "pace-normal")
    assert outcome.audio_seconds == tone_engine.seconds_per_char * len(TEXT)


def test_a_pace_out_of_range_fails_the_job_and_sends_nothing(
    runtime: Runtime, bot_api: FakeBotAPI
) -> None:
    with pytest.raises(JobError) as caught:
        run_synth(runtime, request(pace=3.0), "pace-bad")
    assert caught.value.code == "internal"
    assert bot_api.calls_of("sendVoice") == []


def test_the_caption_shows_the_likeness_the_outcome_carries(
    runtime: Runtime, bot_api: FakeBotAPI
) -> None:
    english = run_synth(runtime, request(), "like-en")
    russian = run_synth(runtime, request(language="ru", request_id=8), "like-ru")
    first, second = bot_api.calls_of("sendVoice")
    assert english.likeness is not None and english.likeness > 0.95  # a tone, as its voice
    assert first.params["caption"] == f"likeness {english.likeness:.2f}"
    assert russian.likeness is not None
    assert second.params["caption"] == f"сходство {russian.likeness:.2f}".replace(".", ",")


def test_the_likeness_follows_the_output_not_the_request(
    runtime: Runtime, bot_api: FakeBotAPI, tone_engine: ToneEngine
) -> None:
    # Same text, same voice: only the waveform the engine returns differs.
    same = run_synth(runtime, request(), "follow-1")
    tone_engine.speak = lambda text, embedding, progress=None: tone(2.0, 440.0)  # type: ignore[method-assign]
    higher = run_synth(runtime, request(request_id=9), "follow-2")
    noise = np.random.default_rng(0).standard_normal(2 * SAMPLE_RATE).astype(np.float32) * 0.1
    tone_engine.speak = lambda text, embedding, progress=None: noise  # type: ignore[method-assign]
    noisy = run_synth(runtime, request(request_id=10), "follow-3")
    figures = [same.likeness, higher.likeness, noisy.likeness]
    assert all(f is not None for f in figures)
    assert same.likeness > 0.95 > 0.5 > higher.likeness  # type: ignore[operator]
    assert same.likeness > noisy.likeness  # type: ignore[operator]
    assert len(set(figures)) == 3  # three outputs, three figures (not one copied)
    captions = [c.params["caption"] for c in bot_api.calls_of("sendVoice")]
    assert captions == [likeness_caption(f, "en") for f in figures if f is not None]


def test_the_likeness_is_measured_on_the_paced_waveform_that_is_sent(
    runtime: Runtime, bot_api: FakeBotAPI, tone_engine: ToneEngine
) -> None:
    measured: list[np.ndarray] = []
    likeness = tone_engine.likeness

    def spy(wav: np.ndarray, embedding: object) -> float:
        measured.append(wav.copy())
        return likeness(wav, embedding)  # type: ignore[arg-type]

    tone_engine.likeness = spy  # type: ignore[method-assign]
    outcome = run_synth(runtime, request(pace=1.5), "measured-paced")
    [wav] = measured
    assert len(wav) / SAMPLE_RATE == pytest.approx(outcome.audio_seconds, abs=1e-6)
    assert outcome.audio_seconds == pytest.approx(
        tone_engine.seconds_per_char * len(TEXT) / 1.5, rel=0.03
    )
    sent = decode_audio(bot_api.calls_of("sendVoice")[0].upload().data)
    assert len(sent) == pytest.approx(len(wav), rel=0.03)  # the one measured is the one sent


def test_a_note_sent_again_shows_its_likeness_and_the_warning(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis
) -> None:
    redis_conn.set(upload_key("again-1"), "dead-worker:token")
    outcome = run_synth(runtime, request(language="ru"), "again-1")
    [voice] = bot_api.calls_of("sendVoice")
    assert outcome.sent_again and outcome.likeness is not None
    assert voice.params["caption"] == "\n".join(
        [likeness_caption(outcome.likeness, "ru"), sent_again_caption("ru")]
    )


def test_a_retry_after_a_failed_upload_shows_the_same_likeness(
    runtime: Runtime, bot_api: FakeBotAPI, tone_engine: ToneEngine
) -> None:
    bot_api.fail_next("sendVoice", 502, "Bad Gateway")
    with pytest.raises(Exception, match="Bad Gateway"):
        run_synth(runtime, request(), "retry-1")
    outcome = run_synth(runtime, request(), "retry-1")
    assert len(tone_engine.spoken) == 1  # the kept note, not a new one
    refused, sent = bot_api.calls_of("sendVoice")
    assert refused.params["caption"] == sent.params["caption"]
    assert outcome.likeness is not None
    assert sent.params["caption"] == likeness_caption(outcome.likeness, "en")


def test_a_likeness_that_cannot_be_measured_does_not_stop_the_note(
    runtime: Runtime, bot_api: FakeBotAPI
) -> None:
    outcome = run_synth(runtime, request(embedding=[0.0] * 256), "no-direction")
    [voice] = bot_api.calls_of("sendVoice")
    assert outcome.ok and outcome.likeness is None
    assert "caption" not in voice.params


def test_an_mp3_answer_is_paced_and_captioned_too(runtime: Runtime, bot_api: FakeBotAPI) -> None:
    outcome = run_synth(runtime, request(output_format="mp3", pace=1.25), "mp3-paced")
    [audio] = bot_api.calls_of("sendAudio")
    assert outcome.likeness is not None
    assert audio.params["caption"] == likeness_caption(outcome.likeness, "en")
    assert encoded_duration(audio.upload().data) == pytest.approx(2.0 / 1.25, rel=0.05)
