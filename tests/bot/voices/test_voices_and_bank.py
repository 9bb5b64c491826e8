"""/voices and /bank buttons, every one checked against who presses it."""

from __future__ import annotations

from bot.callbacks import BankAction, BankCb, RegisterCb, RegisterChoice, VoiceAction, VoiceCb
from storage import RequestStatus
from tests.bot.conftest import BotHarness
from worker.api import SynthRequest


def test_voices_lists_own_voices_and_use_makes_one_active(bot: BotHarness) -> None:
    user = bot.new_user()
    first = bot.seed_voice(user, "First")
    bot.seed_voice(user, "Second")  # active now
    reply = bot.send(user, "/voices")
    assert "Your voices" in reply.text
    labels = [text for text, _ in bot.api.buttons(reply.result)]
    assert labels == ["First", "✅ Second"]
    since = bot.api.mark()
    bot.press(user, "First")
    card = bot.edited(user, since)
    assert "First" in card.text and "private" in card.text
    answer = bot.press(user, "Use")
    assert "Now speaking as “First”" in answer.params["text"]
    assert bot.db(lambda s: s.users.get(user.id)).active_voice_id == first  # type: ignore[union-attr]


def test_rename_takes_the_next_message_and_refuses_bad_names(bot: BotHarness) -> None:
    user = bot.new_user("ru")
    voice_id = bot.seed_voice(user, "Старое имя")
    bot.send(user, "/voices")
    bot.press(user, "Старое имя")
    since = bot.api.mark()
    bot.press(user, "Переименовать")
    assert "новое имя" in bot.next_message(user, since).text
    assert "не подходит" in bot.send(user, "x" * 65).text
    assert "Бабушка Зина" in bot.send(user, "Бабушка Зина").text
    voice = bot.db(lambda s: s.voices.get_owned(user.id, voice_id))
    assert voice is not None and voice.name == "Бабушка Зина"
    # The state is over: the next text is speech again, not a name.
    assert bot.send(user, "/cancel").text in ("Отменено.", "Отменять нечего.")


def test_publishing_needs_explicit_consent_and_can_be_withdrawn(bot: BotHarness) -> None:
    user = bot.new_user()
    voice_id = bot.seed_voice(user, "My voice")
    bot.send(user, "/voices")
    bot.press(user, "My voice")
    since = bot.api.mark()
    bot.press(user, "Publish")
    consent = bot.edited(user, since)
    assert "Everyone who uses this bot" in consent.text
    assert not bot.db(lambda s: s.voices.get_owned(user.id, voice_id)).public  # type: ignore[union-attr]
    since = bot.api.mark()
    bot.press(user, "Yes, publish")
    assert "in the public bank" in bot.edited(user, since).text
    voice = bot.db(lambda s: s.voices.get_owned(user.id, voice_id))
    assert voice is not None and voice.public and voice.consent_at is not None
    since = bot.api.mark()
    bot.press(user, "Withdraw")
    assert "private" in bot.edited(user, since).text
    assert not bot.db(lambda s: s.voices.get_owned(user.id, voice_id)).public  # type: ignore[union-attr]


def test_delete_asks_first_and_cancel_keeps_the_voice(bot: BotHarness) -> None:
    user = bot.new_user()
    voice_id = bot.seed_voice(user, "Doomed")
    bot.send(user, "/voices")
    bot.press(user, "Doomed")
    since = bot.api.mark()
    bot.press(user, "Delete")
    assert "cannot be undone" in bot.edited(user, since).text
    bot.press(user, "Cancel")
    assert bot.db(lambda s: s.voices.get_owned(user.id, voice_id)) is not None
    bot.press(user, "Delete")
    since = bot.api.mark()
    bot.press(user, "Yes, delete")
    assert "“Doomed” is deleted" in bot.edited(user, since).text
    assert bot.db(lambda s: s.voices.get_owned(user.id, voice_id)) is None
    assert "no voice chosen" in bot.send(user, "/say hello").text


def test_foreign_and_deleted_voice_buttons_change_nothing(bot: BotHarness) -> None:
    owner, intruder = bot.new_user(), bot.new_user()
    voice_id = bot.seed_voice(owner, "Not yours")
    bot.send(intruder, "/start")
    keyboard_message = bot.send(intruder, "/format").result
    for action in (VoiceAction.rename, VoiceAction.delete_yes, VoiceAction.publish_yes):
        data = VoiceCb(action=action, voice_id=voice_id).pack()
        answer = bot.press_data(intruder, data, keyboard_message)
        assert answer.params["text"] == "This voice is no longer available."
        assert answer.params.get("show_alert") in (True, "true")
    for data in (
        VoiceCb(action=VoiceAction.use, voice_id=voice_id).pack(),
        BankCb(action=BankAction.use, voice_id=voice_id).pack(),
        BankCb(action=BankAction.preview, voice_id=voice_id).pack(),
        VoiceCb(action=VoiceAction.show, voice_id=987654).pack(),
        "v:garbage:xyz",
    ):
        answer = bot.press_data(intruder, data, keyboard_message)
        assert answer.params["text"] == "This voice is no longer available."
    voice = bot.db(lambda s: s.voices.get_owned(owner.id, voice_id))
    assert voice is not None and voice.name == "Not yours" and not voice.public
    assert bot.db(lambda s: s.users.get(intruder.id)).active_voice_id is None  # type: ignore[union-attr]


def test_bank_pages_use_and_preview(bot: BotHarness) -> None:
    publisher = bot.new_user()
    names = ["Bank Alpha", "Bank Beta", "Bank Gamma"]
    ids = [bot.seed_voice(publisher, name, public=True) for name in names]
    listener = bot.new_user()
    reply = bot.send(listener, "/bank")
    assert "page 1 of" in reply.text
    pages = int(reply.text.split("page 1 of ")[1].split(".")[0])
    seen: list[str] = []
    message = reply.result
    for page in range(pages):
        seen += [t for t, _ in bot.api.buttons(message) if t.startswith("🎙")]
        if page + 1 < pages:
            since = bot.api.mark()
            bot.press(listener, "More", message)
            message = bot.edited(listener, since).result
    assert {f"🎙 {n}" for n in names} <= set(seen)
    # Use a bank voice from the last page it was shown on.
    data = BankCb(action=BankAction.use, voice_id=ids[1]).pack()
    since = bot.api.mark()
    bot.press_data(listener, data, message)
    assert "Now speaking as “Bank Beta”" in bot.next_message(listener, since).text
    assert bot.db(lambda s: s.users.get(listener.id)).active_voice_id == ids[1]  # type: ignore[union-attr]
    # Preview: a short fixed phrase in that voice lands on the synth queue.
    since = bot.api.mark()
    bot.press_data(listener, BankCb(action=BankAction.preview, voice_id=ids[2]).pack(), message)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == listener.id, since=since)
    [job] = [j for j in bot.synth_jobs() if j.args[0]["user_id"] == listener.id]
    request = SynthRequest.from_dict(job.args[0])
    assert request.voice_name == "Bank Gamma" and "This is how I sound" in request.text
    bot.send(listener, "/cancel")
    row = bot.db(lambda s: s.requests.get(request.request_id))
    assert row is not None and row.status == RequestStatus.cancelled


def test_only_admins_remove_bank_voices(bot: BotHarness) -> None:
    publisher = bot.new_user()
    voice_id = bot.seed_voice(publisher, "Aaa removable", public=True)
    curated_id = bot.seed_voice(None, "Aaa curated")
    data = BankCb(action=BankAction.remove, voice_id=voice_id).pack()
    stranger = bot.new_user()
    message = bot.send(stranger, "/bank").result
    assert not any(t == "🗑" for t, _ in bot.api.buttons(message))
    answer = bot.press_data(stranger, data, message)
    assert answer.params["text"] == "This command is for the bot's admins."
    assert bot.db(lambda s: s.voices.get_owned(publisher.id, voice_id)).public  # type: ignore[union-attr]

    admin_message = bot.send(bot.admin, "/bank").result
    assert any(t == "🗑" for t, _ in bot.api.buttons(admin_message))
    answer = bot.press_data(bot.admin, data, admin_message)
    assert "Removed “Aaa removable”" in answer.params["text"]
    voice = bot.db(lambda s: s.voices.get_owned(publisher.id, voice_id))
    assert voice is not None and not voice.public  # withdrawn, still the owner's
    curated = BankCb(action=BankAction.remove, voice_id=curated_id).pack()
    bot.press_data(bot.admin, curated, admin_message)
    assert bot.db(lambda s: s.voices.get_unchecked(curated_id)) is None


def test_merging_into_a_voice_that_is_gone_or_foreign_changes_nothing(bot: BotHarness) -> None:
    user, other = bot.new_user(), bot.new_user()
    voice_id = bot.seed_voice(user, "Merge target")
    foreign_id = bot.seed_voice(other, "Someone else's")
    file_id, _ = bot.api.add_file(b"OggS" + b"\0" * 100)
    since = bot.api.mark()
    bot.api.send_voice(user, file_id, duration=10)
    question = bot.next_message(user, since)
    assert "Add this recording to it" in question.text
    forged = RegisterCb(choice=RegisterChoice.merge, voice_id=foreign_id).pack()
    answer = bot.press_data(user, forged, question.result)
    assert answer.params["text"] == "This voice is no longer available."
    bot.db(lambda s: s.voices.delete(user.id, voice_id))
    answer = bot.press(user, "Add to", question.result)
    assert answer.params["text"] == "This voice is no longer available."
    assert answer.params.get("show_alert") in (True, "true")
    foreign = bot.db(lambda s: s.voices.get_owned(other.id, foreign_id))
    assert foreign is not None and foreign.sample_count == 1
    assert bot.db(lambda s: s.voices.list_owned(user.id)) == []
