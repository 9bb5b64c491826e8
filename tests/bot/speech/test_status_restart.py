"""A status message outlives the bot process that sent it: storage keeps it, so a restarted bot
follows it again (it goes on showing the queue place, and goes when its request ends); one
that its Cancel button took over ("Cancelled.") is let go for good, restarts included."""

from __future__ import annotations

from pathlib import Path

from tests.bot.conftest import BotHarness, fresh_redis_db, start_bot
from tests.bot.speech.test_say import jobs_of
from tests.fakes.botapi import Call, FakeBotAPI, FakeUser

RESTART_DB = 11  # this test's own database on the session's Redis server
EDIT_WAIT = 15.0  # STATUS_EDIT_SECONDS (3 s) and a round (0.5 s), with room


def queued_status(bot: BotHarness, user: FakeUser, text: str) -> Call:
    """Queue /say `text` behind others; the status message that shows its place."""
    since = bot.api.mark()
    bot.api.send_command(user, "say", text)
    status = bot.next_message(user, since)
    assert "in the queue" in status.text
    return status


def kept_messages(bot: BotHarness) -> dict[int, int]:
    """user id -> message id of the status messages storage keeps."""
    return {m.user_id: m.message_id for m in bot.db(lambda s: s.status_messages.all())}


def test_a_restarted_bot_follows_the_status_messages_it_left(
    redis_url: str, tmp_path: Path
) -> None:
    url = fresh_redis_db(redis_url, RESTART_DB)
    data_dir = tmp_path / "bot-data"
    with FakeBotAPI() as api:
        with start_bot(api, url, data_dir) as before:
            before.set_worker_alive(True)
            first, second, third = (before.new_user("en") for _ in range(3))
            for n, user in enumerate((first, second, third)):
                before.seed_voice(user, f"Restart voice {n}")
            since = api.mark()
            api.send_command(first, "say", "waiting one")
            api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == first.id, since=since)
            assert len(jobs_of(before, first)) == 1
            second_id = queued_status(before, second, "waiting two").result["message_id"]
            third_id = queued_status(before, third, "waiting three").result["message_id"]
            assert kept_messages(before) == {second.id: second_id, third.id: third_id}

        with start_bot(api, url, data_dir) as after:
            after.set_worker_alive(True)
            assert "following 2 again after a restart" in after.log_text()
            moved = api.mark()
            assert after.send(first, "/cancel").text == "Cancelled."
            edit = api.wait_for(
                "editMessageText",
                # A restored message's text is not kept: its first round may write the text it
                # shows already (Telegram answers "not modified": harmless).
                lambda c: c.params.get("message_id") == third_id and "number 2" in c.text,
                EDIT_WAIT,
                moved,
            )
            assert "number 2 in the queue" in edit.text
            assert "Cancel" in str(edit.params.get("reply_markup"))

            # A request that ends: its message goes, and the row that named it.
            ended = api.mark()
            assert after.send(second, "/cancel").text == "Cancelled."
            api.wait_for(
                "deleteMessage", lambda c: c.params.get("message_id") == second_id, EDIT_WAIT, ended
            )
            assert second.id not in kept_messages(after)

            # The Cancel button: its handler writes the message ("Cancelled.") itself.
            pressed = api.mark()
            after.press(third, "✖ Cancel", api.message(third.id, third_id))
            api.wait_for(
                "editMessageText",
                lambda c: c.params.get("message_id") == third_id and c.text == "Cancelled.",
                10,
                pressed,
            )

        # The button let go of that message: the next start neither follows nor touches it.
        restarted = api.mark()
        with start_bot(api, url, data_dir) as last:
            assert kept_messages(last) == {}
            assert "again after a restart" not in last.log_text()
            touched = [c for c in api.calls[restarted:] if c.params.get("message_id") == third_id]
            assert touched == []
