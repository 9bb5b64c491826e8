"""Updates as Telegram would send them to the bot: a user's messages and button presses.

Each builder returns an update dict (without `update_id`; `push_update` assigns one) in the
shape aiogram's models accept. Incoming messages take ids from the same counter as the bot's
messages and are kept with them, as Telegram keeps one history per chat. File fields come
from a file added with `add_file` when the id is known (its unique id and size), else are
made up; `file_size=` overrides the size (to test limits).
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from tests.fakes.botapi.methods import TelegramMethods

if TYPE_CHECKING:  # users.py builds on this module, so FakeUser is for annotations only here
    from tests.fakes.botapi.users import FakeUser


class UpdateBuilders(TelegramMethods):
    """The server plus the update builders; see the module docstring."""

    def _incoming_message(self, user: FakeUser, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.to_dict(),
            **content,
        }
        with self._lock:
            self._messages[(user.id, message["message_id"])] = message
        return {"message": message}

    def text_update(
        self, user: FakeUser, text: str, *, reply_to: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """`reply_to`: the message (as kept, e.g. `api.message(chat, id)`) this one answers."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        return self._incoming_message(user, **content)

    def command_update(
        self,
        user: FakeUser,
        command: str,
        args: str = "",
        *,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        text = f"/{command.lstrip('/')}" + (f" {args}" if args else "")
        return self.text_update(user, text, reply_to=reply_to)

    @staticmethod
    def forward_origin(sender: FakeUser | None, hidden_name: str = "Someone") -> dict[str, Any]:
        """Telegram's `forward_origin` of a message forwarded from `sender` (None: a user who
        hides their account, known by name only)."""
        if sender is None:
            return {
                "type": "hidden_user",
                "sender_user_name": hidden_name,
                "date": int(time.time()),
            }
        return {"type": "user", "sender_user": sender.to_dict(), "date": int(time.time())}

    def _file_fields(self, file_id: str, file_size: int | None) -> dict[str, Any]:
        with self._lock:
            stored = self._files.get(file_id)
        unique = stored.file_unique_id if stored else secrets.token_hex(8)
        size = file_size if file_size is not None else (stored.file_size if stored else None)
        fields: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique}
        if size is not None:
            fields["file_size"] = size
        return fields

    def voice_update(
        self,
        user: FakeUser,
        file_id: str,
        *,
        duration: int = 5,
        file_size: int | None = None,
        mime_type: str = "audio/ogg",
        forward_origin: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        voice = {**self._file_fields(file_id, file_size), "duration": duration}
        voice["mime_type"] = mime_type
        extra = {"forward_origin": forward_origin} if forward_origin else {}
        return self._incoming_message(user, voice=voice, **extra)

    def audio_update(
        self,
        user: FakeUser,
        file_id: str,
        *,
        duration: int = 5,
        file_size: int | None = None,
        mime_type: str = "audio/mpeg",
        file_name: str = "speech.mp3",
    ) -> dict[str, Any]:
        audio = {**self._file_fields(file_id, file_size), "duration": duration}
        audio.update(mime_type=mime_type, file_name=file_name)
        return self._incoming_message(user, audio=audio)

    def document_update(
        self,
        user: FakeUser,
        file_id: str,
        *,
        file_size: int | None = None,
        mime_type: str = "audio/mpeg",
        file_name: str = "speech.mp3",
    ) -> dict[str, Any]:
        document = {**self._file_fields(file_id, file_size)}
        document.update(mime_type=mime_type, file_name=file_name)
        return self._incoming_message(user, document=document)

    def video_note_update(
        self,
        user: FakeUser,
        file_id: str,
        *,
        duration: int = 5,
        file_size: int | None = None,
        length: int = 240,
    ) -> dict[str, Any]:
        note = {**self._file_fields(file_id, file_size), "duration": duration, "length": length}
        return self._incoming_message(user, video_note=note)

    def inline_query_update(self, user: FakeUser, query: str = "") -> dict[str, Any]:
        """`@bot query` typed by `user` in some chat; it can be answered once."""
        query_id = secrets.token_hex(8)
        with self._lock:
            self._open_inline_queries.add(query_id)
        return {
            "inline_query": {
                "id": query_id,
                "from": user.to_dict(),
                "query": query,
                "offset": "",
                "chat_type": "sender",
            }
        }

    def callback_update(
        self, user: FakeUser, data: str, message: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A press of a button with `data` on `message` (default: the bot's latest message
        with a keyboard in the user's chat)."""
        if message is None:
            message = self.last_keyboard_message(user.id)
        return {
            "callback_query": {
                "id": secrets.token_hex(8),
                "from": user.to_dict(),
                "chat_instance": str(user.id),
                "data": data,
                "message": message,
            }
        }
