"""Untrusted text through the bot: the text corpus after /say, voice names, the curated mark.

Each item of tests/fakes/hostile_text.py gets its answer from the bot: a refusal in the user's
language with nothing queued, or one synth job holding the user's visible text (nothing
invisible, nothing cut). What the bot echoes of a user (voice names) goes out as plain text,
never with a parse mode, so Markdown and HTML lookalikes are shown as typed. Names follow
bot/names.py; curated bank voices carry the ⭐ that no user's name can begin with.
"""

from __future__ import annotations

import pytest

from bot.keyboards import short
from bot.locales import Texts, texts_for
from bot.names import CURATED_MARK
from storage import MAX_VOICE_NAME_CHARS, RequestStatus
from tests.bot.conftest import BotHarness
from tests.fakes.botapi import Call, FakeUser
from tests.fakes.hostile_text import (
    DEFAULT_MAX_TEXT_CHARS,
    HOSTILE_TEXTS,
    HostileText,
)
from worker.api import SynthRequest

REFUSED = [item for item in HOSTILE_TEXTS if item.problem is not None]
SPOKEN = [item for item in HOSTILE_TEXTS if item.problem is None]
MARKUP = "<b>Bold</b> *star* _it_ `code` [link](http://example.com) &amp;"


def refusal(item: HostileText, texts: Texts) -> str:
    """The reply the bot owes `item` (bot/services/speech.py `check_text`)."""
    if item.problem == "empty":
        return f"{texts.text_empty}\n\n{texts.say_usage}"
    if item.problem == "too_long":
        assert item.text.isascii()  # nothing invisible: the length it reports is the text's
        return texts.text_too_long.format(limit=DEFAULT_MAX_TEXT_CHARS, length=len(item.text))
    assert item.problem == "nothing_to_say"
    return texts.nothing_speakable


def jobs_of(bot: BotHarness, user: FakeUser) -> list[SynthRequest]:
    requests = [SynthRequest.from_dict(job.args[0]) for job in bot.synth_jobs()]
    return [r for r in requests if r.user_id == user.id]


def speaker(bot: BotHarness, language: str) -> FakeUser:
    user = bot.new_user(language)
    bot.seed_voice(user, "Hostile text voice")
    return user


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("item", REFUSED, ids=[i.name for i in REFUSED])
def test_each_refused_text_gets_its_reply_and_queues_nothing(
    bot: BotHarness, item: HostileText, language: str
) -> None:
    user = speaker(bot, language)
    since = bot.api.mark()
    bot.api.send_command(user, "say", item.text)
    assert bot.next_message(user, since).text == refusal(item, texts_for(language))
    assert jobs_of(bot, user) == []
    assert bot.api.calls_of("sendChatAction", since) == []
    assert bot.db(lambda s: s.requests.ids_of(user.id)) == []


@pytest.mark.parametrize("as_command", [True, False], ids=["say", "plain"])
@pytest.mark.parametrize("item", SPOKEN, ids=[i.name for i in SPOKEN])
def test_each_spoken_text_queues_one_job_with_its_visible_text(
    bot: BotHarness, item: HostileText, as_command: bool
) -> None:
    user = speaker(bot, "en")
    since = bot.api.mark()
    if as_command:
        bot.api.send_command(user, "say", item.text)
    else:
        bot.api.send_text(user, item.text)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    [job] = jobs_of(bot, user)
    assert job.text == item.visible
    row = bot.db(lambda s: s.requests.get(job.request_id))
    assert row is not None and row.status == RequestStatus.queued
    assert row.text_length == len(item.visible or "")
    assert bot.send(user, "/cancel").text == texts_for("en").cancelled


def start_rename(bot: BotHarness, user: FakeUser, current: str) -> None:
    bot.send(user, "/voices")
    bot.press(user, current)
    since = bot.api.mark()
    bot.press(user, "Rename" if user.language_code == "en" else "Переименовать")
    bot.next_message(user, since)


def name_of(bot: BotHarness, user: FakeUser, voice_id: int) -> str:
    voice = bot.db(lambda s: s.voices.get_owned(user.id, voice_id))
    assert voice is not None
    return voice.name


def assert_plain(call: Call) -> None:
    """Sent as plain text: no parse mode that could read markup in it, no entities."""
    assert "parse_mode" not in call.params, call.params
    assert "entities" not in call.params, call.params


def test_markup_in_a_name_is_shown_as_typed_and_never_parsed(bot: BotHarness) -> None:
    user = bot.new_user()
    voice_id = bot.seed_voice(user, "Plain")
    start_rename(bot, user, "Plain")
    done = bot.send(user, MARKUP)
    assert done.text == texts_for("en").rename_done.format(name=MARKUP)
    assert_plain(done)
    assert name_of(bot, user, voice_id) == MARKUP
    listing = bot.send(user, "/voices")
    assert_plain(listing)
    assert [text for text, _ in bot.api.buttons(listing.result)] == [f"✅ {short(MARKUP)}"]
    since = bot.api.mark()
    bot.press(user, MARKUP[:10], listing.result)
    card = bot.edited(user, since)
    assert MARKUP in card.text
    assert_plain(card)
    # And the text to speak: the job holds it as typed.
    since = bot.api.mark()
    bot.api.send_command(user, "say", MARKUP)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    assert [job.text for job in jobs_of(bot, user)] == [MARKUP]
    bot.send(user, "/cancel")


def test_no_reply_of_the_bot_ever_carries_a_parse_mode(bot: BotHarness) -> None:
    """Over every call the bot made in this session so far (every test of the package run
    before this one): the texts are plain (bot/locales/__init__.py), so user input inside
    them is never markup."""
    user = bot.new_user()
    bot.send(user, "/help")
    sent = [c for c in bot.api.calls if c.method in ("sendMessage", "editMessageText", "sendVoice")]
    assert sent
    for call in sent:
        assert_plain(call)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("\u202eanna\u202c", "anna"),
        ("\u2067Zina\u2069 \u200fB\u200b", "Zina B"),
        ("Grandma\u2028Zina\u2029Jr", "Grandma Zina Jr"),
        ("  Two\n\nlines  ", "Two lines"),
    ],
)
def test_a_rename_strips_what_cannot_be_seen_and_says_the_name_kept(
    bot: BotHarness, typed: str, kept: str
) -> None:
    user = bot.new_user()
    voice_id = bot.seed_voice(user, "Before")
    start_rename(bot, user, "Before")
    done = bot.send(user, typed)
    assert done.text == texts_for("en").rename_done.format(name=kept)
    assert name_of(bot, user, voice_id) == kept


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_rename_refuses_each_unusable_name_with_its_reason_and_keeps_asking(
    bot: BotHarness, language: str
) -> None:
    texts = texts_for(language)
    user = bot.new_user(language)
    voice_id = bot.seed_voice(user, "Kept")
    start_rename(bot, user, "Kept")
    for typed, reply in [
        ("\u200b\u200d\u202e\ufeff", texts.rename_empty),
        ("\u3164", texts.rename_empty),
        (f"{CURATED_MARK} Kept", texts.rename_marker),
        ("🌟 Official", texts.rename_marker),
        ("x" * (MAX_VOICE_NAME_CHARS + 1), texts.rename_invalid.format(limit=MAX_VOICE_NAME_CHARS)),
    ]:
        assert bot.send(user, typed).text == reply
        assert name_of(bot, user, voice_id) == "Kept"
    # Still waiting for a name: the next usable one is taken.
    assert bot.send(user, "Kept ⭐").text == texts.rename_done.format(name="Kept ⭐")
    assert name_of(bot, user, voice_id) == "Kept ⭐"


def test_curated_voices_come_first_and_only_they_carry_the_mark(bot: BotHarness) -> None:
    name = "Hostile twin"
    curated_id = bot.seed_voice(None, name)
    poser = bot.new_user()
    bot.seed_voice(poser, name, public=True)  # the same name, from a user
    listener = bot.new_user()
    reply = bot.send(listener, "/bank")
    texts = texts_for("en")
    assert texts.bank_curated_note in reply.text  # page 1 shows curated voices (they lead)
    pages = int(reply.text.split("page 1 of ")[1].split(".")[0])
    labels: list[str] = []
    page_of_label: dict[str, dict] = {}
    message = reply.result
    for page in range(pages):
        for label, _ in bot.api.buttons(message):
            if label[:1] in (CURATED_MARK, "🎙"):
                labels.append(label)
                page_of_label.setdefault(label, message)
        if page + 1 < pages:
            since = bot.api.mark()
            bot.press(listener, texts.btn_next, message)
            message = bot.edited(listener, since).result
    curated = bot.db(lambda s: s.voices.bank_page(page_size=50))
    expected_marked = [f"{CURATED_MARK} {v.name}" for v in curated.voices if v.curated]
    marked = [label for label in labels if label.startswith(CURATED_MARK)]
    assert marked == expected_marked and f"{CURATED_MARK} {name}" in marked
    assert labels[: len(marked)] == marked, "curated voices lead the bank"
    assert f"🎙 {name}" in labels[len(marked) :]
    # Choosing it says it is curated.
    since = bot.api.mark()
    mine = f"{CURATED_MARK} {name}"
    bot.press(listener, mine, page_of_label[mine])
    chosen = bot.next_message(listener, since)
    assert chosen.text == texts.voice_active_curated.format(name=name)
    assert bot.db(lambda s: s.users.get(listener.id)).active_voice_id == curated_id  # type: ignore[union-attr]
