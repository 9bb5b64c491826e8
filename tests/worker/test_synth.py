"""A synth request to a voice note, with a stand-in engine, the fake Bot API and real Redis."""

from __future__ import annotations

import json
import time

import pytest
from redis import Redis

from sv2tts.audio import encoded_duration
from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import ToneEngine
from worker.api import RESULTS_LIST, JobError, SynthOutcome, SynthRequest
from worker.runtime import Runtime
from worker.settle import settled_outcome
from worker.synth import run_synth


def request(**changes: object) -> SynthRequest:
    fields: dict[str, object] = {
        "request_id": 5,
        "user_id": 1001,
        "chat_id": 1001,
        "reply_to_message_id": 40,
        "text": "Hello there, this is a test.",
        "embedding": [0.0] * 256,
        "enqueued_at": time.time() - 2.0,
    }
    fields.update(changes)
    return SynthRequest(**fields)  # type: ignore[arg-type]


def pushed_outcomes(redis: Redis) -> list[SynthOutcome]:
    return [SynthOutcome.from_dict(json.loads(x)) for x in redis.lrange(RESULTS_LIST, 0, -1)]


def test_voice_note_is_sent_as_a_reply_and_the_outcome_pushed(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    req = request()
    outcome = run_synth(runtime, req, "job-1")

    voice = bot_api.wait_for("sendVoice")
    data = voice.upload().data
    assert data[:4] == b"OggS" and b"OpusHead" in data[:200]
    expected = tone_engine.seconds_per_char * len(req.text)
    assert encoded_duration(data) == pytest.approx(expected, abs=0.1)
    assert voice.params["reply_parameters"]["message_id"] == 40
    assert bot_api.calls_of("sendChatAction")[0].params["action"] == "record_voice"

    assert outcome.ok and outcome.sent_message_id == voice.result["message_id"]
    assert outcome.audio_seconds == pytest.approx(expected, abs=0.01)
    assert outcome.queue_seconds >= 2.0 and outcome.total_seconds >= outcome.queue_seconds
    assert pushed_outcomes(redis_conn) == [outcome]


def test_a_second_run_of_a_settled_job_sends_nothing(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    first = run_synth(runtime, request(), "job-2")
    mark = bot_api.mark()
    again = run_synth(runtime, request(), "job-2")
    assert again == first
    assert bot_api.calls_of("sendVoice", since=mark) == []
    assert len(tone_engine.spoken) == 1
    assert len(pushed_outcomes(redis_conn)) == 1


def test_mp3_users_get_an_audio_file(runtime: Runtime, bot_api: FakeBotAPI) -> None:
    run_synth(runtime, request(output_format="mp3", voice_name="Alice"), "job-3")
    call = bot_api.wait_for("sendAudio")
    upload = call.upload()
    assert upload.data[:3] == b"ID3" or upload.data[0] == 0xFF
    assert call.params["title"] == "Alice"
    assert bot_api.calls_of("sendVoice") == []


def test_a_retry_after_a_failed_upload_reuses_the_audio(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    bot_api.fail_next("sendVoice", 502, "Bad Gateway")
    with pytest.raises(Exception, match="Bad Gateway"):
        run_synth(runtime, request(), "job-4")
    assert settled_outcome(redis_conn, "job-4") is None
    outcome = run_synth(runtime, request(), "job-4")
    assert outcome.ok
    assert len(tone_engine.spoken) == 1  # synthesized once, uploaded on the second try
    assert len(bot_api.calls_of("sendVoice")) == 2


def test_empty_text_is_refused_as_nothing_to_say(runtime: Runtime, bot_api: FakeBotAPI) -> None:
    with pytest.raises(JobError) as caught:
        run_synth(runtime, request(text="   "), "job-5")
    assert caught.value.code == "nothing_to_say"
    assert bot_api.calls_of("sendVoice") == []
