"""Issue 21, without a worker (jobs stay queued): the status message of a queued request shows
its place as the queue moves and its Cancel button takes that request back, for its owner
only; a recording waiting for a worker shows its place in the "listening" message.
(tests/bot/running/test_with_worker.py has the percentages and the time left of a running job.)"""

from __future__ import annotations

from storage import RequestStatus
from tests.bot.conftest import BotHarness
from tests.bot.speech.test_say import jobs_of
from tests.fakes.botapi import FakeUser

EDIT_WAIT = 15.0  # an edit comes within STATUS_EDIT_SECONDS (3 s) and a round (0.5 s)


def queue(bot: BotHarness, user: FakeUser, text: str) -> int:
    since = bot.api.mark()
    bot.api.send_command(user, "say", text)
    bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == user.id, since=since)
    [request] = jobs_of(bot, user)
    return request.request_id


def test_a_queued_request_shows_its_place_as_it_moves_and_cancels_from_its_button(
    bot: BotHarness,
) -> None:
    first, second, third, stranger = (bot.new_user("en") for _ in range(4))
    for n, user in enumerate((first, second, third)):
        bot.seed_voice(user, f"Status voice {n}")
    queue(bot, first, "waiting one")
    queue(bot, second, "waiting two")
    since = bot.api.mark()
    bot.api.send_command(third, "say", "waiting three")
    status = bot.next_message(third, since)
    place = int(status.text.split("number ")[1].split()[0])
    assert place >= 3 and "in the queue" in status.text
    message = bot.api.message(third.id, status.result["message_id"])
    [(label, data)] = bot.api.buttons(message)
    assert label == "✖ Cancel"

    moved = bot.api.mark()
    assert bot.send(first, "/cancel").text == "Cancelled."
    edit = bot.api.wait_for(
        "editMessageText",
        lambda c: c.params.get("message_id") == status.result["message_id"],
        EDIT_WAIT,
        moved,
    )
    assert f"number {place - 1} in the queue" in edit.text

    refused = bot.press_data(stranger, data, message)
    assert refused.params.get("text") == "There is nothing to cancel."
    assert len(jobs_of(bot, third)) == 1

    pressed = bot.api.mark()
    bot.press(third, label, message)
    cancelled = bot.api.wait_for(
        "editMessageText",
        lambda c: (
            c.params.get("message_id") == status.result["message_id"] and c.text == "Cancelled."
        ),
        10,
        pressed,
    )
    assert "Cancel" not in str(cancelled.params.get("reply_markup") or "")
    assert jobs_of(bot, third) == []
    [request_id] = bot.db(lambda s: s.requests.ids_of(third.id))
    row = bot.db(lambda s: s.requests.get(request_id))
    assert row is not None and row.status == RequestStatus.cancelled
    assert bot.send(second, "/cancel").text == "Cancelled."


def test_a_recording_waiting_for_a_worker_shows_its_place(bot: BotHarness) -> None:
    user = bot.new_user("en")
    file_id, _ = bot.api.add_file(b"OggS" + bytes(4000), file_path=f"voice/{user.id}.oga")
    since = bot.api.mark()
    bot.api.send_voice(user, file_id, duration=5)
    listening = bot.next_message(user, since)
    assert listening.text.startswith("🎧 Listening")
    edit = bot.api.wait_for(
        "editMessageText",
        lambda c: c.params.get("message_id") == listening.result["message_id"],
        EDIT_WAIT,
        since,
    )
    assert edit.text.startswith("🎧 Got your recording. Number ") and "in the queue" in edit.text
    cancelled = bot.api.mark()
    assert bot.send(user, "/cancel").text == "Cancelled."
    final = bot.api.wait_for(
        "editMessageText",
        lambda c: c.params.get("message_id") == listening.result["message_id"],
        10,
        cancelled,
    )
    assert final.text == "Cancelled."
