"""/dialogue, /check and inline mode against the fake Bot API, with no worker (the jobs are
read in Redis where they wait): parsing and casting, limits, the check's ways in and its
bad input, the inline list. End to end with a real worker: tests/bot/running/test_with_worker.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rq import Queue
from rq.job import Job

from storage import RequestStatus, Storage
from tests.bot.conftest import BotHarness, wait_until
from tests.bot.speech.test_say import jobs_of
from tests.fakes.botapi import FakeUser
from worker.api import QUEUE, SERIALIZER, EmbedRequest


def queued(bot: BotHarness, prefix: str) -> list[Job]:
    with bot.redis() as client:
        jobs = Queue(QUEUE, connection=client, serializer=SERIALIZER).get_jobs()
        return [job for job in jobs if job.id.startswith(prefix)]


def job_of_file(bot: BotHarness, prefix: str, file_id: str, timeout: float = 10.0) -> Job:
    """The queued job of `prefix` whose request names `file_id`."""
    found: list[Job] = []

    def there() -> bool:
        found[:] = [j for j in queued(bot, prefix) if j.args[0]["file_id"] == file_id]
        return bool(found)

    wait_until(there, timeout)
    return found[0]


def end_wait(bot: BotHarness, job: Job, user: FakeUser, since: int) -> str:
    """Take the job out of Redis, as if it vanished: the bot stops waiting for it and edits
    its status message; that text."""
    with bot.redis() as client:
        Job.fetch(job.id, connection=client, serializer=SERIALIZER).delete()
    return bot.edited(user, since, timeout=15).text


# ------------------------------------------------------------------------------- /dialogue


@pytest.fixture
def cast(bot: BotHarness) -> tuple[FakeUser, dict[str, int]]:
    """A user with an own "Anna" and "Boris", while the bank has an "ANNA" of its own and a
    "Zoltan-7" (curated)."""
    user = bot.new_user("en")
    ids = {
        "anna": bot.seed_voice(user, "Anna"),
        "boris": bot.seed_voice(user, "Boris", active=False),
        "bank_anna": bot.seed_voice(None, "ANNA"),
        "zoltan": bot.seed_voice(None, "Zoltan-7"),
    }
    return user, ids


def test_dialogue_without_a_script_gets_the_usage(bot: BotHarness) -> None:
    user = bot.new_user("ru")
    assert "Напишите сценарий" in bot.send(user, "/dialogue").text
    assert "Анна: Привет" in bot.send(user, "/dialogue просто слова без имён").text


def test_dialogue_casts_own_voices_before_the_banks_and_queues_one_job(
    bot: BotHarness, cast: tuple[FakeUser, dict[str, int]]
) -> None:
    user, ids = cast
    since = bot.api.mark()
    script = "anna: Hello, Boris.\nZOLTAN-7: Good evening.\nBoris: Hi!\nAnna: Bye,\nsee you."
    bot.api.send_command(user, "dialogue", "\n" + script)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    [request] = jobs_of(bot, user)
    voices = {
        name: bot.db(lambda s, i=i: s.voices.get_unchecked(i))  # type: ignore[misc]
        for name, i in ids.items()
    }
    expected = [voices["anna"], voices["zoltan"], voices["boris"]]
    assert len(request.speakers) == 3
    for got, voice in zip(request.speakers, expected, strict=True):
        assert voice is not None
        np.testing.assert_allclose(got, voice.embedding, atol=1e-7)
    assert [(t.speaker, t.text) for t in request.turns] == [
        (0, "Hello, Boris."),
        (1, "Good evening."),
        (2, "Hi!"),
        (0, "Bye, see you."),
    ]
    assert request.text.splitlines()[0] == "Anna: Hello, Boris."
    assert request.voice_name == "Anna, Zoltan-7, Boris"
    row = bot.db(lambda s: s.requests.get(request.request_id))
    assert row is not None and row.status == RequestStatus.queued and row.kind == "synth"
    # One request for the whole script: the next is "one at a time".
    assert "already have a request" in bot.send(user, "/dialogue Anna: again").text
    bot.send(user, "/cancel")


def test_an_unknown_name_is_answered_with_the_names_there_are(
    bot: BotHarness, cast: tuple[FakeUser, dict[str, int]]
) -> None:
    user, _ = cast
    reply = bot.send(user, "/dialogue Anna: Hi.\nNobody: Hello?").text
    assert "“Nobody”" in reply
    choices = reply.split("You can use: ")[1].rstrip(".").split(", ")
    assert choices[:2] == ["Anna", "Boris"]  # their own first, each name once
    assert "Zoltan-7" in choices and len(choices) == len({c.casefold() for c in choices})
    assert jobs_of(bot, user) == []


def test_a_user_with_nothing_to_cast_is_told_how_to_get_a_voice(bot: BotHarness) -> None:
    # The bank of the shared test bot has voices by now; a name that none has, and no own.
    user = bot.new_user("en")
    reply = bot.send(user, "/dialogue Someone: Hi.").text
    assert "“Someone”" in reply or "no voice to cast" in reply


def test_the_limits_of_say_count_the_whole_script(
    bot: BotHarness, cast: tuple[FakeUser, dict[str, int]]
) -> None:
    user, _ = cast
    long = f"Anna: {'a' * 600}\nBoris: {'b' * 600}"
    assert (
        "too long: 1201 characters, the limit is 1000" in bot.send(user, f"/dialogue {long}").text
    )
    assert (
        "Line 2 (Boris) has nothing I can say"
        in bot.send(user, "/dialogue Anna: Fine words.\nBoris: 🙂🙂").text
    )
    assert "nothing I can pronounce" in bot.send(user, "/dialogue Anna: 🙂\nBoris: 🎉").text
    many = "\n".join(f"V{i}: hi" for i in range(7))
    assert "7 voices; a dialogue can have up to 6" in bot.send(user, f"/dialogue {many}").text
    assert jobs_of(bot, user) == []


# ----------------------------------------------------------------------------------- /check


def voice_message(bot: BotHarness, user: FakeUser, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    file_id, _ = bot.api.add_file(b"OggS a voice note, never decoded here")
    update = bot.api.voice_update(user, file_id, duration=4, **kwargs)
    return file_id, update


def test_check_on_a_text_or_with_nothing_in_reply_says_what_to_do(bot: BotHarness) -> None:
    user = bot.new_user("en")
    since = bot.api.mark()
    typed = bot.api.send_text(user, "/start")
    bot.next_message(user, since)
    since = bot.api.mark()
    bot.api.send_command(user, "check", reply_to=typed["message"])
    assert "has no audio" in bot.next_message(user, since).text
    assert queued(bot, "check-") == [] or all(j.args[0]["file_id"] for j in queued(bot, "check-"))


def test_check_alone_waits_for_audio_and_cancel_leaves_the_wait(bot: BotHarness) -> None:
    user = bot.new_user("ru")
    assert "Пришлите или перешлите мне голосовое" in bot.send(user, "/check").text
    assert "Жду голосовое" in bot.send(user, "просто текст").text
    assert bot.send(user, "/cancel").text == "Отменено."
    assert "Голос ещё не выбран" in bot.send(user, "просто текст").text  # speech again


def test_the_audio_after_check_is_checked_not_learned(bot: BotHarness) -> None:
    user = bot.new_user("en")
    bot.send(user, "/check")
    file_id, update = voice_message(bot, user)
    since = bot.api.mark()
    bot.api.push_update(update)
    assert "Looking for my watermark" in bot.next_message(user, since).text
    job = job_of_file(bot, "check-", file_id)
    assert EmbedRequest(**job.args[0]).kind == "voice"
    assert not [j for j in queued(bot, "embed-") if j.args[0]["file_id"] == file_id]
    # One check at a time: another while this one waits is refused, and queues nothing.
    other_id, other = voice_message(bot, user)
    bot.api.push_update(bot.api.command_update(user, "check", reply_to=other["message"]))
    wait_until(lambda: any("still checking" in t for t in bot.api.messages_to(user.id)))
    assert not [j for j in queued(bot, "check-") if j.args[0]["file_id"] == other_id]
    assert "went wrong" in end_wait(bot, job, user, since)
    # The slot is free again; the state was left: the next voice note is a recording again.
    since = bot.api.mark()
    bot.api.send_command(user, "check", reply_to=other["message"])
    assert "Looking for my watermark" in bot.next_message(user, since).text
    end_wait(bot, job_of_file(bot, "check-", other_id), user, since)


def test_a_forwarded_note_offers_a_check_or_a_new_voice(bot: BotHarness) -> None:
    user = bot.new_user("en")
    origin = bot.api.forward_origin(FakeUser(424_242, "en", "Somebody"))
    file_id, update = voice_message(bot, user, forward_origin=origin)
    since = bot.api.mark()
    bot.api.push_update(update)
    offer = bot.next_message(user, since)
    assert "forwarded voice note" in offer.text
    assert all(j.args[0]["file_id"] != file_id for j in queued(bot, "embed-"))  # not learned
    since = bot.api.mark()
    bot.press(user, "Check where it was made")
    job = job_of_file(bot, "check-", file_id)
    assert "went wrong" in end_wait(bot, job, user, since)
    assert "no longer at hand" in bot.press(user, "Learn this voice", offer.result).params["text"]

    hidden = bot.api.forward_origin(None)
    file_id, update = voice_message(bot, user, forward_origin=hidden)
    since = bot.api.mark()
    bot.api.push_update(update)
    bot.next_message(user, since)
    since = bot.api.mark()
    bot.press(user, "Learn this voice")
    assert "Listening" in bot.next_message(user, since).text
    end_wait(bot, job_of_file(bot, "embed-", file_id), user, since)


def test_check_and_dialogue_are_in_the_menu_and_the_help(bot: BotHarness) -> None:
    calls = bot.api.calls_of("setMyCommands")
    for call in calls:
        assert {"dialogue", "check"} <= {c["command"] for c in call.params["commands"]}
    help_text = bot.send(bot.new_user("en"), "/help").text
    assert "/dialogue" in help_text and "/check" in help_text and "type @" in help_text


# ------------------------------------------------------------------------------ inline mode


def inline_answer(bot: BotHarness, user: FakeUser, query: str = "") -> dict[str, Any]:
    update = bot.api.send_inline_query(user, query)
    query_id = update["inline_query"]["id"]
    call = bot.api.wait_for(
        "answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id
    )
    assert call.error is None, call.error
    return call.params


def test_inline_mode_with_no_notes_offers_a_way_to_make_one(bot: BotHarness) -> None:
    answer = inline_answer(bot, bot.new_user("ru"))
    assert answer["results"] == []
    assert answer["button"]["text"].startswith("Голосовых пока нет")
    assert answer["button"]["start_parameter"] == "inline"
    assert answer["is_personal"] in (True, "true") and int(answer["cache_time"]) <= 10


def test_inline_mode_lists_the_users_own_notes_newest_first(bot: BotHarness) -> None:
    user, stranger = bot.new_user("en"), bot.new_user("en")
    files = [bot.api.add_file(f"OggS note {n}".encode())[0] for n in range(3)]

    async def seed(store: Storage) -> None:
        await store.users.ensure(user.id)
        texts = ["Good morning", "Hello there", "Bye"]
        for n, (file_id, text) in enumerate(zip(files, texts, strict=True)):
            await store.notes.expect(90_000 + user.id + n, user.id, text)
            kind = "audio" if n == 2 else "voice"
            await store.notes.deliver(90_000 + user.id + n, file_id, kind, 4.2)

    bot.db(seed)
    results = inline_answer(bot, user)["results"]
    assert [r["type"] for r in results] == ["audio", "voice", "voice"]
    assert [r.get("voice_file_id") or r.get("audio_file_id") for r in results] == files[::-1]
    assert results[1]["title"].startswith("Hello there") and "0:04" in results[1]["title"]
    filtered = inline_answer(bot, user, "MORNING")["results"]
    assert [r["voice_file_id"] for r in filtered] == [files[0]]
    assert inline_answer(bot, stranger)["results"] == []
