"""One user cannot flood the bot; the service as a whole says "busy" instead of queueing for
hours; forgetting and cancelling do not reset the limits; groups get one explanation.

Bursts are pushed into the fake Bot API in one go, so the bot receives them in one batch of
getUpdates and aiogram handles them concurrently, as it does with a real flood.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from rq import Queue

from storage import RequestStatus
from tests.bot.conftest import BotHarness, fresh_redis_db, start_bot, wait_until
from tests.fakes.botapi import FakeBotAPI, FakeUser
from worker.api import QUEUE, RESULTS_LIST, SERIALIZER, SynthOutcome, SynthRequest


def messages_after(bot: BotHarness, user: FakeUser, since: int) -> list[str]:
    return [
        c.params["text"]
        for c in bot.api.calls_of("sendMessage", since=since)
        if c.params.get("chat_id") == user.id and not c.error
    ]


def wait_for_messages(bot: BotHarness, user: FakeUser, since: int, count: int) -> list[str]:
    wait_until(lambda: len(messages_after(bot, user, since)) >= count, timeout=30)
    return messages_after(bot, user, since)


def synth_jobs_of(bot: BotHarness, user: FakeUser) -> list[SynthRequest]:
    requests = [SynthRequest.from_dict(job.args[0]) for job in bot.synth_jobs()]
    return [r for r in requests if r.user_id == user.id]


def open_requests(bot: BotHarness, user: FakeUser) -> int:
    return bot.db(lambda s: s.requests.count_active(user.id))


def take_as_a_worker_would(bot: BotHarness, job_id: str) -> None:
    """Move a queued job to where a worker that took it keeps it (RQ's intermediate list)."""
    with bot.redis() as client:
        queue = Queue(QUEUE, connection=client, serializer=SERIALIZER)
        assert client.lrem(queue.key, 1, job_id) == 1
        client.rpush(queue.intermediate_queue_key, job_id)


def settle_as_a_worker_would(bot: BotHarness, outcome: SynthOutcome) -> None:
    with bot.redis() as client:
        client.rpush(RESULTS_LIST, json.dumps(outcome.to_dict()))


@pytest.fixture
def speaker(bot: BotHarness) -> FakeUser:
    user = bot.new_user("en")
    bot.seed_voice(user, "Flood voice")
    return user


def test_twenty_requests_at_once_make_one_job_and_nineteen_polite_refusals(
    bot: BotHarness, speaker: FakeUser
) -> None:
    since = bot.api.mark()
    for n in range(20):
        bot.api.send_command(speaker, "say", f"flood number {n}")
    replies = wait_for_messages(bot, speaker, since, 19)
    assert len(synth_jobs_of(bot, speaker)) == 1
    assert open_requests(bot, speaker) == 1
    refusals = [text for text in replies if "already have a request in progress" in text]
    assert len(refusals) == 19, replies
    bot.send(speaker, "/cancel")


def test_a_flood_of_recordings_makes_one_registration_at_a_time(bot: BotHarness) -> None:
    user = bot.new_user("en")  # no voice yet: each recording would start a registration
    file_id, _ = bot.api.add_file(b"OggS not really audio, never decoded here")
    since = bot.api.mark()
    for _ in range(6):
        bot.api.send_voice(user, file_id, duration=5)
    replies = wait_for_messages(bot, user, since, 6)
    assert sum("Listening" in text for text in replies) == 1, replies
    assert sum("already have a request in progress" in text for text in replies) == 5
    embed_jobs = [job for job in all_jobs(bot) if job.id.startswith("embed-")]
    assert len(embed_jobs) == 1
    assert bot.send(user, "/cancel").text == "Cancelled."
    wait_until(lambda: open_requests(bot, user) == 0)
    # The registration that was waiting says so, instead of an error.
    wait_until(lambda: any(c.text == "Cancelled." for c in bot.api.calls_of("editMessageText")))


def all_jobs(bot: BotHarness) -> list:
    with bot.redis() as client:
        return Queue(QUEUE, connection=client, serializer=SERIALIZER).get_jobs()


def test_forget_does_not_reset_the_limits_while_a_request_still_runs(
    bot: BotHarness, speaker: FakeUser
) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "a long text that a worker is busy with")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    [request] = synth_jobs_of(bot, speaker)
    take_as_a_worker_would(bot, f"synth-{request.request_id}")

    bot.send(speaker, "/forget")
    since = bot.api.mark()
    bot.press(speaker, "Yes, delete everything")
    bot.edited(speaker, since)
    # Their data is gone, but the request a worker still holds goes on counting: a new
    # recording (the one way to start over without a voice) is refused for now.
    assert bot.db(lambda s: s.voices.list_owned(speaker.id)) == []
    file_id, _ = bot.api.add_file(b"OggS starting over")
    since = bot.api.mark()
    bot.api.send_voice(speaker, file_id, duration=5)
    assert "already have a request in progress" in bot.next_message(speaker, since).text

    # The worker sees the cancellation before sending and lets go: now it is over.
    settle_as_a_worker_would(
        bot, SynthOutcome(request.request_id, speaker.id, ok=False, error_code="cancelled")
    )
    row = lambda: bot.db(lambda s: s.requests.get(request.request_id))  # noqa: E731
    wait_until(lambda: row() is not None and row().status == RequestStatus.cancelled)  # type: ignore[union-attr]
    assert open_requests(bot, speaker) == 0


def test_cancel_while_a_worker_holds_the_job_says_it_will_not_be_sent(
    bot: BotHarness, speaker: FakeUser
) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "stop me")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    [request] = synth_jobs_of(bot, speaker)
    job_id = f"synth-{request.request_id}"
    take_as_a_worker_would(bot, job_id)
    assert "will not be sent" in bot.send(speaker, "/cancel").text
    with bot.redis() as client:
        assert client.exists(f"voiceclone:cancel:{job_id}")
    assert open_requests(bot, speaker) == 1  # the worker is still on it
    settle_as_a_worker_would(
        bot, SynthOutcome(request.request_id, speaker.id, ok=False, error_code="cancelled")
    )
    wait_until(lambda: open_requests(bot, speaker) == 0)


def test_cancel_once_the_upload_has_begun_says_it_is_too_late(
    bot: BotHarness, speaker: FakeUser
) -> None:
    since = bot.api.mark()
    bot.api.send_command(speaker, "say", "on its way")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == speaker.id, since=since)
    [request] = synth_jobs_of(bot, speaker)
    job_id = f"synth-{request.request_id}"
    take_as_a_worker_would(bot, job_id)
    with bot.redis() as client:
        client.set(f"voiceclone:upload:{job_id}", "worker:token")
    assert "Too late to cancel" in bot.send(speaker, "/cancel").text
    settle_as_a_worker_would(bot, SynthOutcome(request.request_id, speaker.id, ok=True))
    wait_until(lambda: open_requests(bot, speaker) == 0)


def group_message(api: FakeBotAPI, user: FakeUser, text: str, chat_id: int) -> dict:
    update = api.text_update(user, text)
    update["message"]["chat"] = {"id": chat_id, "type": "group", "title": "Friends"}
    return update


def test_in_a_group_the_bot_explains_once_and_does_nothing_else(bot: BotHarness) -> None:
    user = bot.new_user("en")
    group = -1_000_777
    since = bot.api.mark()
    bot.api.push_update(group_message(bot.api, user, "/start", group))
    answer = bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == group, since=since)
    assert "private chats only" in answer.params["text"]
    since = bot.api.mark()
    for text in ("/say hello", "/forget", "hello"):
        bot.api.push_update(group_message(bot.api, user, text, group))
    bot.send(user, "/help")  # a private message after them: they were all handled before it
    assert [
        c for c in bot.api.calls_of("sendMessage", since=since) if c.params["chat_id"] == group
    ] == []
    assert bot.db(lambda s: s.users.get(user.id)) is not None  # from the private /help only


def test_the_forget_button_acts_only_for_whoever_asked(bot: BotHarness) -> None:
    asker, other = bot.new_user("en"), bot.new_user("en")
    bot.seed_voice(asker, "Keep me")
    bot.seed_voice(other, "Keep me too")
    bot.send(asker, "/forget")
    message = bot.api.last_keyboard_message(asker.id)
    [(_, data), _] = bot.api.buttons(message)
    answer = bot.press_data(other, data, message)  # forwarded, or a forged callback
    assert answer.params.get("show_alert")
    assert [v.name for v in bot.db(lambda s: s.voices.list_owned(other.id))] == ["Keep me too"]
    assert [v.name for v in bot.db(lambda s: s.voices.list_owned(asker.id))] == ["Keep me"]


# --- a bot of its own: the global cap and the voice cap ---------------------------------


@pytest.fixture(scope="module")
def capped(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotHarness]:
    """A second bot process, with a Bot API of its own (two bots polling one would each get
    some of the updates)."""
    url = fresh_redis_db(redis_url, 4)
    with (
        FakeBotAPI() as api,
        start_bot(
            api,
            url,
            tmp_path_factory.mktemp("capped-bot"),
            MAX_QUEUED_REQUESTS="2",
            MAX_VOICES_PER_USER="1",
            REQUESTS_PER_MINUTE="10",
        ) as harness,
    ):
        harness.set_worker_alive(True)
        yield harness


def test_past_the_global_cap_everyone_is_told_the_bot_is_busy(capped: BotHarness) -> None:
    users = [capped.new_user("en") for _ in range(3)]
    for n, user in enumerate(users):
        capped.seed_voice(user, f"Cap voice {n}")
    for user in users[:2]:
        since = capped.api.mark()
        capped.api.send_command(user, "say", "taking a place")
        capped.api.wait_for(
            "sendChatAction", lambda c, u=user: c.params["chat_id"] == u.id, since=since
        )
    reply = capped.send(users[2], "/say and me?")
    assert "more requests than I can take" in reply.text
    assert "queue" not in reply.text  # no place promised
    for user in users[:2]:
        capped.send(user, "/cancel")
    since = capped.api.mark()
    capped.api.send_command(users[2], "say", "now?")
    capped.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == users[2].id, since=since)
    capped.send(users[2], "/cancel")


def test_a_recording_for_a_new_voice_past_the_cap_is_refused(capped: BotHarness) -> None:
    user = capped.new_user("en")
    capped.seed_voice(user, "The only one")
    file_id, _ = capped.api.add_file(b"OggS a second voice")
    since = capped.api.mark()
    capped.api.send_voice(user, file_id, duration=5)
    capped.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == user.id, since=since)
    since = capped.api.mark()
    capped.press(user, "New voice")
    [text] = wait_for_messages(capped, user, since, 1)
    assert "You have 1 voices" in text or "the most I can keep" in text, text
    assert [job for job in all_jobs(capped) if job.id.startswith("embed-")] == []


def test_an_idle_bot_logs_no_warning(capped: BotHarness) -> None:
    """redis-py's 5 s socket timeout against a 5 s blocking pop logged a false alarm every
    few seconds; the results consumer waits less than its client's timeout."""
    text = capped.log_text()
    warnings = [line for line in text.splitlines() if " WARNING " in line or " ERROR " in line]
    assert "Redis unavailable" not in text
    assert warnings == [], warnings
