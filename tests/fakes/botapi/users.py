"""Test users and what they do: `FakeUser` and the one-call actions on `FakeBotAPI`.

`FakeBotAPI` is the whole fake (server, Telegram's state, update builders) plus the actions a
test takes as a user: `send_text / send_command / send_voice / send_audio / send_document /
send_video_note` build an update (tests.fakes.botapi.updates) and push it in one call;
`press(user, text_part)` finds the inline button whose text contains `text_part` on the
bot's latest message with a keyboard in that user's chat (or on `message=`) and pushes its
callback query. Each returns the update it pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.botapi.updates import UpdateBuilders


@dataclass(frozen=True, slots=True)
class FakeUser:
    """The sender of an update."""

    id: int
    language_code: str | None = "en"
    first_name: str = "Test"
    username: str | None = None

    def to_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        if self.username:
            user["username"] = self.username
        return user


class FakeBotAPI(UpdateBuilders):
    """A Bot API server on 127.0.0.1; tests.fakes.botapi's docstring lists its test API."""

    def send_text(self, user: FakeUser, text: str) -> dict[str, Any]:
        update = self.text_update(user, text)
        self.push_update(update)
        return update

    def send_command(
        self,
        user: FakeUser,
        command: str,
        args: str = "",
        *,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        update = self.command_update(user, command, args, reply_to=reply_to)
        self.push_update(update)
        return update

    def send_inline_query(self, user: FakeUser, query: str = "") -> dict[str, Any]:
        update = self.inline_query_update(user, query)
        self.push_update(update)
        return update

    def send_voice(self, user: FakeUser, file_id: str, **kwargs: Any) -> dict[str, Any]:
        update = self.voice_update(user, file_id, **kwargs)
        self.push_update(update)
        return update

    def send_audio(self, user: FakeUser, file_id: str, **kwargs: Any) -> dict[str, Any]:
        update = self.audio_update(user, file_id, **kwargs)
        self.push_update(update)
        return update

    def send_document(self, user: FakeUser, file_id: str, **kwargs: Any) -> dict[str, Any]:
        update = self.document_update(user, file_id, **kwargs)
        self.push_update(update)
        return update

    def send_video_note(self, user: FakeUser, file_id: str, **kwargs: Any) -> dict[str, Any]:
        update = self.video_note_update(user, file_id, **kwargs)
        self.push_update(update)
        return update

    def press(
        self, user: FakeUser, text_part: str, message: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Push the callback of the button whose text contains `text_part`."""
        if message is None:
            message = self.last_keyboard_message(user.id)
        matches = [data for text, data in self.buttons(message) if text_part in text]
        if not matches:
            raise AssertionError(f"no button with {text_part!r}: {self.buttons(message)}")
        update = self.callback_update(user, matches[0], message)
        self.push_update(update)
        return update
