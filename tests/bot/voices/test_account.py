"""/forget, admin /stats, Telegram's refusals, and recordings refused before any download."""

from __future__ import annotations

from tests.bot.conftest import BotHarness, wait_until
from worker.api.keys import forgotten_key, revoked_voice_key


def test_forget_asks_then_deletes_everything(bot: BotHarness) -> None:
    user = bot.new_user()
    voice_id = bot.seed_voice(user, "Mine", public=True)
    since = bot.api.mark()
    bot.api.send_command(user, "say", "something to remember")
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    assert "cannot be undone" in bot.send(user, "/forget").text
    since = bot.api.mark()
    bot.press(user, "Cancel")
    assert "Nothing was deleted" in bot.edited(user, since).text
    assert bot.db(lambda s: s.voices.get_owned(user.id, voice_id)) is not None

    bot.send(user, "/forget")
    since = bot.api.mark()
    bot.press(user, "Yes, delete everything")
    assert "I deleted 1 voice," in bot.edited(user, since).text
    assert bot.db(lambda s: s.voices.get_unchecked(voice_id)) is None
    assert bot.db(lambda s: s.requests.list_active(user.id)) == []
    assert not [j for j in bot.synth_jobs() if j.args[0]["user_id"] == user.id]
    page = bot.db(lambda s: s.voices.bank_page(page_size=50))
    assert voice_id not in {v.id for v in page.voices}
    # The marks that stop whatever is still on its way (worker/api/calls.py) outlive the purge.
    with bot.redis() as client:
        assert client.exists(forgotten_key(user.id, bot.api.token))
        assert not [k for k in client.scan_iter() if str(user.id).encode() in k]
        assert client.get(revoked_voice_key(voice_id)) == b"*"


def test_admin_stats_and_refusal_for_others(bot: BotHarness) -> None:
    assert bot.send(bot.new_user(), "/stats").text == "This command is for the bot's admins."
    reply = bot.send(bot.admin, "/stats").text
    assert reply.startswith("📊 Last 7 days") and "Users:" in reply and "workers ready: 1" in reply


def test_blocked_by_the_user_marks_them_blocked_and_a_new_message_unblocks(
    bot: BotHarness,
) -> None:
    user = bot.new_user()
    bot.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    since = bot.api.mark()
    bot.api.send_command(user, "help")
    bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == user.id, since=since)
    wait_until(lambda: bool(bot.db(lambda s: s.users.get(user.id)).blocked))  # type: ignore[union-attr]
    assert "How it works" in bot.send(user, "/help").text
    assert not bot.db(lambda s: s.users.get(user.id)).blocked  # type: ignore[union-attr]


def test_flood_control_is_waited_out_and_retried_once(bot: BotHarness) -> None:
    user = bot.new_user()
    bot.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    delivered = bot.send(user, "/start")
    assert "Hi!" in delivered.text
    attempts = [c for c in bot.api.calls_of("sendMessage") if c.params.get("chat_id") == user.id]
    assert [c.error is not None for c in attempts] == [True, False]
    assert attempts[1].at - attempts[0].at >= 0.9


def test_a_bad_request_from_telegram_is_logged_and_the_bot_goes_on(bot: BotHarness) -> None:
    user = bot.new_user()
    bot.api.fail_next("sendMessage", 400, "Bad Request: chat not found")
    since = bot.api.mark()
    bot.api.send_command(user, "help")
    bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == user.id, since=since)
    assert "How it works" in bot.send(user, "/help").text


def test_recordings_over_the_limits_are_refused_before_download(bot: BotHarness) -> None:
    user = bot.new_user()
    big_id, _ = bot.api.add_file(b"OggS" + b"\0" * 100, file_size=3 * 1024 * 1024)
    since = bot.api.mark()
    bot.api.send_voice(user, big_id, duration=30)
    assert "too big: the limit is 2 MB" in bot.next_message(user, since).text
    long_id, _ = bot.api.add_file(b"OggS" + b"\0" * 100)
    since2 = bot.api.mark()
    bot.api.send_audio(user, long_id, duration=600)
    assert "too long: the limit is 120 seconds" in bot.next_message(user, since2).text
    since3 = bot.api.mark()
    bot.api.send_video_note(user, long_id, duration=200)
    assert "too long" in bot.next_message(user, since3).text
    assert bot.api.calls_of("getFile", since) == []
    assert bot.db(lambda s: s.voices.list_owned(user.id)) == []


def test_files_that_are_not_audio_are_refused(bot: BotHarness) -> None:
    user = bot.new_user("ru")
    file_id, _ = bot.api.add_file(b"%PDF-1.4")
    since = bot.api.mark()
    bot.api.send_document(user, file_id, mime_type="application/pdf", file_name="cv.pdf")
    assert "Это не аудиофайл" in bot.next_message(user, since).text
    sticker = bot.api._incoming_message(  # a message type the bot does not take
        user,
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )
    since = bot.api.mark()
    bot.api.push_update(sticker)
    assert "голосовому" in bot.next_message(user, since).text
    assert bot.api.calls_of("getFile", since) == []


def test_recording_while_the_worker_is_down_is_answered_at_once(bot: BotHarness) -> None:
    user = bot.new_user()
    file_id, _ = bot.api.add_file(b"OggS" + b"\0" * 100)
    bot.set_worker_alive(False)
    try:
        since = bot.api.mark()
        bot.api.send_voice(user, file_id, duration=10)
        assert "not running right now" in bot.next_message(user, since).text
    finally:
        bot.set_worker_alive(True)
