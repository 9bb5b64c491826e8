"""/say and plain text: validation, the job that lands on the synth queue, limits, /cancel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from storage import RequestStatus
from tests.bot.conftest import BotHarness
from tests.fakes.botapi import FakeUser
from worker.api import RESULTS_LIST, SynthOutcome, SynthRequest
from worker.api.keys import forgotten_key


def jobs_of(bot: BotHarness, user: FakeUser) -> list[SynthRequest]:
    found = []
    for job in bot.synth_jobs():
        request = SynthRequest.from_dict(job.args[0])
        if request.user_id == user.id:
            found.append(request)
    return found


def cancel_all(bot: BotHarness, user: FakeUser) -> None:
    bot.send(user, "/cancel")


@pytest.fixture
def speaker(bot: BotHarness) -> FakeUser:
    user = bot.new_user("en")
    bot.seed_voice(user, "Narrator")
    return user


def test_say_queues_a_job_with_everything_the_worker_needs(
    bot: BotHarness, speaker: FakeUser
) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "Hello there, my friend.")
    action = bot.api.wait_for(
        "sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since
    )
    assert action.params["action"] == "record_voice"
    [request] = jobs_of(bot, speaker)
    assert request.text == "Hello there, my friend."
    assert request.chat_id == speaker.id and request.output_format == "voice"
    assert request.language == "en" and request.voice_name == "Narrator"
    voice = bot.db(lambda s: s.voices.get_active(speaker.id))
    assert voice is not None
    np.testing.assert_allclose(request.embedding, voice.embedding, rtol=0, atol=1e-7)
    row = bot.db(lambda s: s.requests.get(request.request_id))
    assert row is not None and row.status == RequestStatus.queued and row.voice_id == voice.id
    # What can void it before it is sent (worker/queue/revocation.py): its user row and its voices.
    user_row = bot.db(lambda s: s.users.get(speaker.id))
    assert user_row is not None and request.user_since == user_row.created_at.timestamp()
    assert request.voice_ids == [voice.id]
    assert request.forget_mark == forgotten_key(speaker.id, bot.api.token)
    cancel_all(bot, speaker)


def test_plain_text_speaks_when_a_voice_is_active(bot: BotHarness, speaker: FakeUser) -> None:
    since = bot.api.mark()
    bot.api.send_text(speaker, "Just words")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    assert [r.text for r in jobs_of(bot, speaker)] == ["Just words"]
    cancel_all(bot, speaker)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/say", "The text is empty"),
        ("/say 😀🎉👍", "nothing I can pronounce"),
        ("/say " + "a" * 1001, "too long: 1001 characters, the limit is 1000"),
        ("🙂🙂", "nothing I can pronounce"),
    ],
)
def test_bad_text_gets_a_clear_reply_and_queues_nothing(
    bot: BotHarness, speaker: FakeUser, text: str, expected: str
) -> None:
    assert expected in bot.send(speaker, text).text
    assert jobs_of(bot, speaker) == []


def test_say_without_a_voice_tells_how_to_get_one(bot: BotHarness) -> None:
    user = bot.new_user("ru")
    reply = bot.send(user, "/say Привет").text
    assert "Голос ещё не выбран" in reply and "/bank" in reply
    assert "/bank" in bot.send(bot.new_user("en"), "hello").text


def test_a_second_request_while_one_runs_is_refused_politely(
    bot: BotHarness, speaker: FakeUser
) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "first")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    assert "already have a request in progress" in bot.send(speaker, "/say second").text
    assert [r.text for r in jobs_of(bot, speaker)] == ["first"]
    cancel_all(bot, speaker)


def test_cancel_removes_the_queued_job(bot: BotHarness, speaker: FakeUser) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "never mind")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    [request] = jobs_of(bot, speaker)
    assert bot.send(speaker, "/cancel").text == "Cancelled."
    assert jobs_of(bot, speaker) == []
    row = bot.db(lambda s: s.requests.get(request.request_id))
    assert row is not None and row.status == RequestStatus.cancelled
    assert bot.send(speaker, "/cancel").text == "There is nothing to cancel."


def test_rate_limit_per_minute(bot: BotHarness, speaker: FakeUser) -> None:
    for n in range(3):  # REQUESTS_PER_MINUTE=3 for the test bot
        since = bot.api.mark()
        bot.api.send_command(speaker, "say", f"number {n}")
        bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
        cancel_all(bot, speaker)
    assert "up to 3 requests a minute" in bot.send(speaker, "/say one more").text
    assert jobs_of(bot, speaker) == []


def test_worker_down_is_said_at_once(bot: BotHarness, speaker: FakeUser) -> None:
    bot.set_worker_alive(False)
    try:
        assert "not running right now" in bot.send(speaker, "/say anybody there?").text
    finally:
        bot.set_worker_alive(True)
    assert jobs_of(bot, speaker) == []


def test_queue_place_is_told_when_others_wait(bot: BotHarness) -> None:
    users = [bot.new_user("en") for _ in range(3)]
    for n, user in enumerate(users):
        bot.seed_voice(user, f"Queue voice {n}")
    for user in users[:2]:
        since = bot.api.mark()
        bot.api.send_command(user, "say", "waiting")
        bot.api.wait_for(
            "sendChatAction", lambda c, u=user: c.params["chat_id"] == u.id, since=since
        )
    reply = bot.send(users[2], "/say me too")
    assert "number 3 in the queue" in reply.text
    for user in users:
        cancel_all(bot, user)


def test_mp3_format_goes_into_the_job(bot: BotHarness, speaker: FakeUser) -> None:
    assert "MP3" in bot.send(speaker, "/format mp3").text
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "in mp3 please")
    action = bot.api.wait_for(
        "sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since
    )
    assert action.params["action"] == "upload_document"
    assert [r.output_format for r in jobs_of(bot, speaker)] == ["mp3"]
    cancel_all(bot, speaker)
    assert "format" in bot.send(speaker, "/format").text.lower()
    since = bot.api.mark()
    bot.press(speaker, "voice notes")
    assert "voice notes" in bot.edited(speaker, since).text
    assert bot.db(lambda s: s.users.get(speaker.id)).output_format == "voice"  # type: ignore[union-attr]


def test_worker_outcomes_are_recorded(bot: BotHarness, speaker: FakeUser) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "record me")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    [request] = jobs_of(bot, speaker)
    outcome = SynthOutcome(
        request.request_id,
        speaker.id,
        ok=True,
        queue_seconds=0.5,
        synth_seconds=1.5,
        audio_seconds=2.0,
        total_seconds=2.5,
        sent_message_id=77,
    )
    with bot.redis() as client:
        client.rpush(RESULTS_LIST, json.dumps(outcome.to_dict()))

    def finished() -> bool:
        row = bot.db(lambda s: s.requests.get(request.request_id))
        return row is not None and row.status == RequestStatus.done

    from tests.bot.conftest import wait_until

    wait_until(finished)
    row = bot.db(lambda s: s.requests.get(request.request_id))
    assert row is not None and row.synth_seconds == 1.5 and row.audio_seconds == 2.0
    cancel_all(bot, speaker)
