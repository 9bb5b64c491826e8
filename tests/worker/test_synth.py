"""A synth request to a voice note, with a stand-in engine, the fake Bot API and real Redis."""

from __future__ import annotations

import json
import time

import pytest
from redis import Redis

from sv2tts.audio.codec import encoded_duration
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.formats import container
from tests.worker.conftest import ToneEngine
from worker.api import RESULTS_LIST, Cancel, JobError, SynthOutcome, SynthRequest
from worker.api.calls import cancel, settled_outcome
from worker.api.keys import lease_key, upload_key
from worker.messages import sent_again_caption
from worker.queue.delivery import LeaseLost
from worker.queue.failures import error_code, is_transient
from worker.runtime import Runtime
from worker.synth import run_synth
from worker.telegram import TelegramUnconfirmed


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
    assert container(data) == "voice"  # the format: tests/sv2tts/test_finish.py
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
    assert container(upload.data) == "mp3"
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


def test_a_cancelled_job_is_settled_as_cancelled_and_never_sent(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    assert cancel(redis_conn, "job-6") is Cancel.FLAGGED  # not in the queue: a worker has it
    outcome = run_synth(runtime, request(), "job-6")
    assert not outcome.ok and outcome.error_code == "cancelled"
    assert bot_api.calls_of("sendVoice") == []
    assert bot_api.calls_of("sendMessage") == []  # they were told when they cancelled
    assert tone_engine.spoken == []  # and no model time was spent on it
    assert pushed_outcomes(redis_conn) == [outcome]


def test_a_cancel_that_comes_during_synthesis_stops_the_upload(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    speak = tone_engine.speak

    def speak_then_get_cancelled(text: str, embedding: object, progress: object = None) -> object:
        wav = speak(text, embedding)  # type: ignore[arg-type]
        assert cancel(redis_conn, "job-7") is Cancel.FLAGGED
        return wav

    tone_engine.speak = speak_then_get_cancelled  # type: ignore[method-assign]
    outcome = run_synth(runtime, request(), "job-7")
    assert outcome.error_code == "cancelled"
    assert bot_api.calls_of("sendVoice") == []


def test_once_the_upload_has_begun_a_cancel_is_too_late(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis
) -> None:
    redis_conn.set(upload_key("job-8"), "some-worker:token")
    assert cancel(redis_conn, "job-8") is Cancel.SENDING
    run_synth(runtime, request(), "job-8")
    assert cancel(redis_conn, "job-8") is Cancel.DONE


def test_a_run_that_finds_an_upload_cut_off_sends_again_saying_so(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis
) -> None:
    # An earlier execution marked the upload and died before settling: it may or may not
    # have arrived. We send it again, captioned, and the outcome says so.
    redis_conn.set(upload_key("job-9"), "dead-worker:token")
    outcome = run_synth(runtime, request(language="ru"), "job-9")
    [voice] = bot_api.calls_of("sendVoice")
    assert voice.params["caption"] == sent_again_caption("ru")
    assert outcome.ok and outcome.sent_again
    first = run_synth(runtime, request(), "job-10")
    assert not first.sent_again
    assert "caption" not in bot_api.calls_of("sendVoice")[-1].params


def test_an_execution_that_lost_its_lease_does_not_send(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    speak = tone_engine.speak

    def speak_while_the_lease_passes_on(
        text: str, embedding: object, progress: object = None
    ) -> object:
        wav = speak(text, embedding)  # type: ignore[arg-type]
        # This execution stalled past its lease; another worker took the job over.
        redis_conn.set(lease_key("job-11"), "other-worker:token", ex=15)
        return wav

    tone_engine.speak = speak_while_the_lease_passes_on  # type: ignore[method-assign]
    with pytest.raises(LeaseLost):
        run_synth(runtime, request(), "job-11")
    assert bot_api.calls_of("sendVoice") == []
    assert pushed_outcomes(redis_conn) == []
    assert redis_conn.get(lease_key("job-11")) == b"other-worker:token"  # not ours to drop


def test_an_upload_whose_answer_is_lost_is_not_sent_again_and_the_user_is_told(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis
) -> None:
    # Telegram got the voice note (it is in the chat) but its answer never came back: the
    # worker cannot know, so it must not send it again blindly.
    bot_api.lose_answer_next("sendVoice")
    with pytest.raises(TelegramUnconfirmed):
        run_synth(runtime, request(), "job-12")
    assert len(bot_api.calls_of("sendVoice")) == 1
    assert error_code(TelegramUnconfirmed("sendVoice", "no answer")) == "delivery_unknown"
    assert not is_transient(TelegramUnconfirmed("sendVoice", "no answer"))
