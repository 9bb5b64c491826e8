"""/forget and a voice taken back stop work already queued, whatever the interleaving
(worker/queue/revocation.py): the mark is checked before synthesis and inside the fenced upload.

The real worker class runs in-process (burst mode) with the stand-in engine; each test writes
the mark at one moment of the job's life and looks at what reached the fake Bot API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

import worker.jobs
import worker.synth
from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import ToneEngine
from worker.api import QUEUE, RESULTS_LIST, SERIALIZER, SYNTH_JOB, SynthOutcome, SynthRequest
from worker.api.calls import mark_forgotten, purge, restore_voice, revoke_voices
from worker.api.keys import forgotten_key
from worker.messages import apology
from worker.queue.resident import ResidentWorker

USER, OTHER = 6161, 6262
CREATED = 1_700_000_000.25  # the user row's created_at
VOICE = 41
SECRET = "123:token"
MARK = forgotten_key(USER, SECRET)


def enqueue(
    redis: Redis, user_id: int = USER, since: float = CREATED, voices: list[int] | None = None
) -> Job:
    request = SynthRequest(
        request_id=7,
        user_id=user_id,
        chat_id=user_id,
        reply_to_message_id=None,
        text="Something private.",
        embedding=[1.0] + [0.0] * 255,
        enqueued_at=time.time(),
        user_since=since,
        voice_ids=[VOICE] if voices is None else voices,
        forget_mark=forgotten_key(user_id, SECRET),
    )
    queue = Queue(QUEUE, connection=redis, serializer=SERIALIZER)
    return queue.enqueue(SYNTH_JOB, request.to_dict(), job_id="synth-7", result_ttl=0)


def outcomes(redis: Redis) -> list[SynthOutcome]:
    return [SynthOutcome.from_dict(json.loads(x)) for x in redis.lrange(RESULTS_LIST, 0, -1)]


def nothing_reached(api: FakeBotAPI, chat_id: int) -> bool:
    sent = [
        c
        for method in ("sendVoice", "sendAudio", "sendMessage")
        for c in api.calls_of(method)
        if c.params.get("chat_id") == chat_id
    ]
    return sent == []


def forget_during_synthesis(engine: ToneEngine, redis: Redis) -> None:
    speak = engine.speak

    def speak_then_forget(text: str, embedding: Any, progress: Any = None) -> np.ndarray:
        wav = speak(text, embedding)
        mark_forgotten(redis, MARK, CREATED)
        return wav

    engine.speak = speak_then_forget  # type: ignore[method-assign]


def forget_just_before_upload(monkeypatch: pytest.MonkeyPatch, redis: Redis) -> None:
    begin = worker.synth.begin_upload

    def forget_then_begin(*args: Any, **kwargs: Any) -> Any:
        mark_forgotten(redis, MARK, CREATED)
        return begin(*args, **kwargs)

    monkeypatch.setattr(worker.synth, "begin_upload", forget_then_begin)


@pytest.mark.parametrize(
    "moment", ["before-enqueue", "after-enqueue", "during-synthesis", "just-before-upload"]
)
def test_a_forgotten_user_gets_nothing_whenever_the_forget_comes(
    resident_worker: ResidentWorker,
    redis_conn: Redis,
    bot_api: FakeBotAPI,
    tone_engine: ToneEngine,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
) -> None:
    steps: dict[str, Callable[[], None]] = {
        "before-enqueue": lambda: mark_forgotten(redis_conn, MARK, CREATED),
        "after-enqueue": lambda: mark_forgotten(redis_conn, MARK, CREATED),
        "during-synthesis": lambda: forget_during_synthesis(tone_engine, redis_conn),
        "just-before-upload": lambda: forget_just_before_upload(monkeypatch, redis_conn),
    }
    if moment == "before-enqueue":
        steps[moment]()
        enqueue(redis_conn)
    else:
        enqueue(redis_conn)
        steps[moment]()
    resident_worker.work(burst=True)
    assert nothing_reached(bot_api, USER)
    [outcome] = outcomes(redis_conn)
    assert outcome.error_code == "cancelled"
    assert tone_engine.spoken == (
        [] if moment in ("before-enqueue", "after-enqueue") else ["Something private."]
    )


def test_the_forget_mark_outlives_the_purge_and_the_user_coming_back_is_served(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    mark_forgotten(redis_conn, MARK, CREATED)
    enqueue(redis_conn)
    assert purge(redis_conn, "synth-7")  # the bot clears the job out ...
    assert redis_conn.exists(MARK)  # ... the mark stays
    mark_forgotten(redis_conn, MARK, CREATED - 100)  # an older row's forget moves nothing
    enqueue(redis_conn, since=CREATED)  # a request of the forgotten row, enqueued late
    resident_worker.work(burst=True)
    assert nothing_reached(bot_api, USER)
    redis_conn.delete("voiceclone:settled:synth-7")
    enqueue(redis_conn, since=CREATED + 60)  # the same person, back as a new user row
    resident_worker.work(burst=True)
    assert len(bot_api.calls_of("sendVoice")) == 1


def test_another_users_job_with_a_revoked_voice_is_told_the_voice_is_gone(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    enqueue(redis_conn, user_id=OTHER, voices=[99, VOICE])  # a mix of VOICE: its lineage
    revoke_voices(redis_conn, [VOICE], owner_id=USER)  # its owner withdrew it from the bank
    resident_worker.work(burst=True)
    assert bot_api.calls_of("sendVoice") == []
    [told] = bot_api.calls_of("sendMessage")
    assert told.params["chat_id"] == OTHER and told.params["text"] == apology("voice_gone", "en")
    assert [o.error_code for o in outcomes(redis_conn)] == ["voice_gone"]


def test_a_withdrawn_voice_still_speaks_for_its_owner_and_again_for_all_once_republished(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    revoke_voices(redis_conn, [VOICE], owner_id=USER)
    enqueue(redis_conn, user_id=USER)
    resident_worker.work(burst=True)
    assert len(bot_api.calls_of("sendVoice")) == 1
    restore_voice(redis_conn, VOICE, USER)
    redis_conn.delete("voiceclone:settled:synth-7")
    enqueue(redis_conn, user_id=OTHER)
    resident_worker.work(burst=True)
    assert len(bot_api.calls_of("sendVoice")) == 2


def test_a_voice_revoked_for_everyone_stops_its_owners_jobs_too(
    resident_worker: ResidentWorker, redis_conn: Redis, bot_api: FakeBotAPI
) -> None:
    revoke_voices(redis_conn, [VOICE])  # its owner was forgotten
    revoke_voices(redis_conn, [VOICE], owner_id=USER)  # never narrowed after
    enqueue(redis_conn, user_id=USER, since=CREATED + 1)
    resident_worker.work(burst=True)
    assert bot_api.calls_of("sendVoice") == []
