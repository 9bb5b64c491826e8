"""What the fake Bot API keeps and does: files, the bot's messages, and each method's behaviour.

`TelegramMethods` adds to the wire (tests.fakes.botapi.server) the state Telegram keeps for a
bot and a handler per Bot API method (https://core.telegram.org/bots/api) that behaves:
getMe, sendMessage, sendVoice, sendAudio, sendDocument (uploads kept as bytes and
downloadable again by the returned file_id), getFile (400 for an unknown file_id, 400 "file is
too big" over 20 MB as the real server does), editMessageText / editMessageReplyMarkup (400
"message is not modified" when nothing changes, as Telegram does), deleteMessage,
setMyCommands (kept per language), setWebhook / deleteWebhook, answerInlineQuery (400 for an
unknown or already answered query, as Telegram answers a query once; the results are checked
for the fields Telegram requires and kept per query in `inline_answers`). Messages and files
are held under the server's one lock, since the test's thread reads them while the server
writes.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from tests.fakes.botapi.server import (
    DEFAULT_BOT_USERNAME,
    DEFAULT_TOKEN,
    BadRequestError,
    BotAPIServer,
    Upload,
)

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int


class TelegramMethods(BotAPIServer):
    """The server plus Telegram's state and method behaviour; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(token, bot_username=bot_username, host=host, port=port)
        # One counter for the bot's messages and the users' (updates.py), as in one chat.
        self._message_ids = itertools.count(1000)
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # language_code ("" = default)
        self.webhook_url: str | None = None
        self._open_inline_queries: set[str] = set()
        self.inline_answers: dict[str, dict[str, Any]] = {}  # query id -> the answer's fields

    # ------------------------------------------------------------------------ test-facing API

    def add_file(
        self, data: bytes, *, file_path: str | None = None, file_size: int | None = None
    ) -> tuple[str, str]:
        unique = secrets.token_hex(8)
        file_id = f"FAKE-{secrets.token_urlsafe(16)}"
        path = file_path or f"files/{unique}.bin"
        stored = _StoredFile(
            file_id, unique, path, data, len(data) if file_size is None else file_size
        )
        with self._lock:
            self._files[file_id] = stored
            self._files_by_path[path] = stored
        return file_id, unique

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        with self._lock:
            return dict(self._messages[(chat_id, message_id)])

    def last_keyboard_message(self, chat_id: int) -> dict[str, Any]:
        with self._lock:
            candidates = [
                m
                for (chat, _), m in self._messages.items()
                if chat == chat_id and m.get("reply_markup") and m["from"]["id"] == self.bot_id
            ]
        if not candidates:
            raise AssertionError(f"no bot message with a keyboard in chat {chat_id}")
        latest = max(candidates, key=lambda m: (m.get("edit_date", 0), m["message_id"]))
        return dict(latest)

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button on a message."""
        markup = message.get("reply_markup") or {}
        return [
            (b.get("text", ""), b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    # ------------------------------------------------------------------------------ internals

    def _download(self, file_path: str) -> bytes | None:
        with self._lock:
            stored = self._files_by_path.get(file_path)
        return None if stored is None else stored.data

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "VoiceClone",
            "username": self.bot_username,
        }

    def _outgoing_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise BadRequestError("Bad Request: chat not found")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": self._bot_user(),
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = message
        return message

    def _uploaded_file(self, params: dict[str, Any], files: dict[str, Upload], key: str) -> Upload:
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
            if part is None:
                raise BadRequestError(f"Bad Request: file {value} not found in the request")
            return part
        if key in files:
            return files[key]
        if isinstance(value, str) and value in self._files:
            return Upload(None, None, self._files[value].data)
        raise BadRequestError(f"Bad Request: there is no {key} in the request")

    def _media_message(
        self, params: dict[str, Any], files: dict[str, Upload], key: str, mime: str
    ) -> dict[str, Any]:
        upload = self._uploaded_file(params, files, key)
        file_id, unique = self.add_file(upload.data, file_path=f"{key}/{secrets.token_hex(6)}")
        media: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": len(upload.data),
            "mime_type": upload.content_type or mime,
        }
        if key in ("voice", "audio"):
            media["duration"] = int(params.get("duration") or 0)
        content: dict[str, Any] = {key: media}
        if params.get("caption"):
            content["caption"] = params["caption"]
        return self._outgoing_message(params, **content)

    def _edited(self, params: dict[str, Any], **changes: Any) -> Any:
        key = (params.get("chat_id"), params.get("message_id"))
        with self._lock:
            message = self._messages.get(key)  # type: ignore[arg-type]
            if message is None:
                raise BadRequestError("Bad Request: message to edit not found")
            updated = {**message, **{k: v for k, v in changes.items() if v is not None}}
            if "reply_markup" in changes and changes["reply_markup"] is None:
                updated.pop("reply_markup", None)
            if updated == message:
                raise BadRequestError(
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            updated["edit_date"] = int(time.time() * 1000)
            self._messages[key] = updated  # type: ignore[index]
            return dict(updated)

    # Method handlers: `_m_<lowercased method>(params, files) -> result`.

    def _m_getme(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return {**self._bot_user(), "can_join_groups": True, "supports_inline_queries": True}

    # What each kind of inline result must carry (Bot API, "InlineQueryResult").
    _INLINE_REQUIRED: ClassVar[dict[str, tuple[str, ...]]] = {
        "voice": ("id", "voice_file_id", "title"),
        "audio": ("id", "audio_file_id"),
        "article": ("id", "title", "input_message_content"),
    }

    def _m_answerinlinequery(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        query_id = str(params.get("inline_query_id"))
        results = params.get("results")
        if not isinstance(results, list):
            raise BadRequestError("Bad Request: can't parse inline query results")
        if len(results) > 50:
            raise BadRequestError("Bad Request: RESULTS_TOO_MUCH")
        for result in results:
            required = self._INLINE_REQUIRED.get(str(result.get("type")))
            if required is None or any(not result.get(key) for key in required):
                raise BadRequestError(f"Bad Request: bad inline result {result}")
            for key in ("voice_file_id", "audio_file_id"):
                if key in result and result[key] not in self._files:
                    raise BadRequestError("Bad Request: wrong file identifier")
        if len({r["id"] for r in results}) != len(results):
            raise BadRequestError("Bad Request: RESULT_ID_DUPLICATE")
        with self._lock:
            if query_id not in self._open_inline_queries:
                raise BadRequestError(
                    "Bad Request: query is too old and response timeout expired or query ID "
                    "is invalid"
                )
            self._open_inline_queries.discard(query_id)
            self.inline_answers[query_id] = dict(params)
        return True

    def _m_sendmessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        text = params.get("text")
        if not text:
            raise BadRequestError("Bad Request: message text is empty")
        return self._outgoing_message(params, text=text)

    def _m_sendvoice(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._media_message(params, files, "voice", "audio/ogg")

    def _m_sendaudio(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._media_message(params, files, "audio", "audio/mpeg")

    def _m_senddocument(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._media_message(params, files, "document", "application/octet-stream")

    def _m_getfile(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        with self._lock:
            stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise BadRequestError("Bad Request: invalid file_id")
        if stored.file_size > TELEGRAM_DOWNLOAD_LIMIT:
            raise BadRequestError("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._edited(
            params, text=params.get("text"), reply_markup=params.get("reply_markup")
        )

    def _m_editmessagereplymarkup(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._edited(params, reply_markup=params.get("reply_markup"))

    def _m_deletemessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        with self._lock:
            self._messages.pop((params.get("chat_id"), params.get("message_id")), None)  # type: ignore[arg-type]
        return True

    def _m_setmycommands(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.commands[str(params.get("language_code") or "")] = list(params.get("commands") or [])
        return True

    def _m_setwebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.webhook_url = params.get("url")
        return True

    def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.webhook_url = None
        return True
