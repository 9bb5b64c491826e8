"""A fake Telegram Bot API server on loopback, for the bot's and the worker's tests.

It speaks enough of the Bot API (https://core.telegram.org/bots/api) for aiogram 3 and for a
plain aiohttp/requests client: `POST|GET /bot<token>/<method>` with form-encoded, JSON or
multipart bodies (aiogram sends complex fields as JSON strings; uploads as multipart with
`voice=attach://<part>`), and file downloads at `GET /file/bot<token>/<file_path>`. Replies are
`{"ok": true, "result": ...}` with objects aiogram's models accept, errors are Telegram's
shape `{"ok": false, "error_code": N, "description": "...", "parameters": {"retry_after": N}}`.

Methods with behaviour: getMe, getUpdates (long polling with `timeout`; `offset` confirms and
drops earlier updates), sendMessage, sendVoice, sendAudio, sendDocument (uploads kept as bytes
and downloadable again by the returned file_id), sendChatAction, getFile (400 for an unknown
file_id, 400 "file is too big" over 20 MB as the real server does), answerCallbackQuery,
editMessageText / editMessageReplyMarkup (400 "message is not modified" when nothing changes,
as Telegram does), deleteMessage, setMyCommands (kept per language), setWebhook /
deleteWebhook. Any other method answers `{"ok": true, "result": true}`.

Starting it
-----------
Sync code (worker tests) runs it in a background thread with its own event loop::

    with FakeBotAPI() as api:          # or api.start_in_thread() ... api.stop()
        settings = ... TELEGRAM_API_URL=api.url, BOT_TOKEN=api.token

Async code can run it in the test's own loop instead::

    async with FakeBotAPI() as api:
        ...

Test-facing API
---------------
- `api.url`: base URL to pass as TELEGRAM_API_URL; `api.token`: the only token accepted
  (others get 401); `api.bot_id`, `api.bot_username`.
- `api.add_file(data, *, file_path=None, file_size=None) -> (file_id, file_unique_id)`:
  a file that getFile and the download route serve. `file_size` may lie (to test limits).
- `api.push_update(update) -> update_id`: queue an update for getUpdates (an `update_id` is
  assigned when absent). Builders return update dicts: `text_update(user, text)`,
  `command_update(user, "say", "hello")`, `voice_update(user, file_id, duration=...)`,
  `audio_update`, `document_update`, `video_note_update`, `callback_update(user, data,
  message=None)`. `send_text / send_command / send_voice / send_audio / send_document /
  send_video_note / press` build and push in one call; `press(user, text_part)` finds the
  inline button whose text contains `text_part` on the latest bot message with a keyboard in
  that user's chat (or on `message=`) and pushes its callback query.
- `FakeUser(id, language_code="en", first_name=...)` is the sender of an update.
- `api.calls`: a snapshot list of `Call(method, params, files, result, error, at)`; `params`
  are decoded (JSON fields parsed, integer fields as int), `files` maps multipart part names
  to `Upload(filename, content_type, data)`, and `call.upload()` gives the (only) upload.
- `api.wait_for(method, predicate=None, timeout=10.0, since=0) -> Call`: blocks until a call
  of `method` (after index `since`) matches `predicate(call)`; raises AssertionError with the
  calls seen on timeout. `await api.wait_for_async(...)` is the same for async tests.
  `api.mark() -> int` is the current call count, to use as `since`.
- `api.messages_to(chat_id)`: texts sent by the bot to a chat, in order.
- `api.fail_next(method, error_code, description, retry_after=None, times=1)`: the next
  `times` calls of `method` fail with that Telegram error (the call is still recorded, with
  `error` set).
- `api.block(chat_id)` / `api.unblock(chat_id)`: the user blocked the bot: every call with
  that `chat_id` fails with 403 "Forbidden: bot was blocked by the user" until unblocked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024

# Fields aiogram (and Telegram) send as JSON-serialised strings inside form bodies.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "media",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "reply_to_message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "duration",
        "cache_time",
        "max_connections",
    }
)


@dataclass(frozen=True, slots=True)
class FakeUser:
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


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Upload] = field(default_factory=dict)
    result: Any = None
    error: dict[str, Any] | None = None
    at: float = 0.0

    def upload(self) -> Upload:
        """The single uploaded file of this call (sendVoice/sendAudio)."""
        if len(self.files) != 1:
            raise AssertionError(f"{self.method} carried {len(self.files)} uploads, not one")
        return next(iter(self.files.values()))

    @property
    def text(self) -> str:
        return str(self.params.get("text", self.params.get("caption", "")))


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int


@dataclass(slots=True)
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    times: int


class FakeBotAPI:
    """A Bot API server on 127.0.0.1; see the module docstring for its test-facing API."""

    def __init__(
        self,
        token: str = "123456789:TEST-fake-token-for-tests",
        *,
        bot_username: str = "voiceclone_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._blocked: set[int] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}  # language_code ("" = default)
        self.webhook_url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._updates_event: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None
        self.url = ""

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Start serving in the running loop; returns the base URL."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._updates_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self._host}:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self, timeout: float = 10.0) -> str:
        """Run the server in a daemon thread with its own event loop (for sync tests)."""
        ready = threading.Event()
        errors: list[BaseException] = []

        async def serve() -> None:
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as error:  # reported to the starting thread
                errors.append(error)
                ready.set()
                return
            ready.set()
            await self._thread_stop.wait()
            await self.close()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("fake Bot API did not start in time")
        if errors:
            raise errors[0]
        return self.url

    def stop(self) -> None:
        """Stop a server started with `start_in_thread`."""
        if self._thread is None or self._loop is None or self._thread_stop is None:
            return
        self._loop.call_soon_threadsafe(self._thread_stop.set)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        self.start_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------ test-facing API

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        with self._lock:
            return len(self._calls)

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method]

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

    def push_update(self, update: dict[str, Any]) -> int:
        with self._changed:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
        self._wake_pollers()
        return int(update["update_id"])

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        *,
        times: int = 1,
    ) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(error_code, description, retry_after, times)
            )

    def block(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> Call:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for call in self._calls[since:]:
                    if call.method == method and (predicate is None or predicate(call)):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{c.method} {c.params}" for c in self._calls[since:]]
                    raise AssertionError(
                        f"no matching {method} within {timeout}s; calls seen:\n" + "\n".join(seen)
                    )
                self._changed.wait(min(left, 0.2))

    async def wait_for_async(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> Call:
        # Polling keeps this usable when the server runs in the same loop as the waiter.
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.wait_for(method, predicate, timeout=0, since=since)
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(0.02)

    def messages_to(self, chat_id: int) -> list[str]:
        return [
            c.text
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText")
            and c.params.get("chat_id") == chat_id
            and c.error is None
        ]

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
        return dict(max(candidates, key=lambda m: (m.get("edit_date", 0), m["message_id"])))

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button on a message."""
        markup = message.get("reply_markup") or {}
        return [
            (b.get("text", ""), b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    # ------------------------------------------------------------------------ update builders

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

    def text_update(self, user: FakeUser, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._incoming_message(user, **content)

    def command_update(self, user: FakeUser, command: str, args: str = "") -> dict[str, Any]:
        text = f"/{command.lstrip('/')}" + (f" {args}" if args else "")
        return self.text_update(user, text)

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
    ) -> dict[str, Any]:
        voice = {**self._file_fields(file_id, file_size), "duration": duration}
        voice["mime_type"] = mime_type
        return self._incoming_message(user, voice=voice)

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

    def callback_update(
        self, user: FakeUser, data: str, message: dict[str, Any] | None = None
    ) -> dict[str, Any]:
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

    def send_text(self, user: FakeUser, text: str) -> dict[str, Any]:
        update = self.text_update(user, text)
        self.push_update(update)
        return update

    def send_command(self, user: FakeUser, command: str, args: str = "") -> dict[str, Any]:
        update = self.command_update(user, command, args)
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

    # ------------------------------------------------------------------------------ internals

    def _wake_pollers(self) -> None:
        loop, event = self._loop, self._updates_event
        if loop is None or event is None:
            return
        if threading.get_ident() == self._loop_thread_id:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    def _record(self, call: Call) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    @staticmethod
    def _decode_value(key: str, value: Any) -> Any:
        if isinstance(value, str) and key in _JSON_FIELDS:
            try:
                return json.loads(value)
            except ValueError:
                return value
        if isinstance(value, str) and key in _INT_FIELDS:
            try:
                return int(value)
            except ValueError:
                return value
        return value

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        content_type = request.content_type
        if request.method == "POST" and request.can_read_body:
            if content_type == "application/json":
                params.update(await request.json())
            elif content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if part is None or part.name is None:  # type: ignore[union-attr]
                        continue
                    if part.filename:  # type: ignore[union-attr]
                        data = await part.read()  # type: ignore[union-attr]
                        files[part.name] = Upload(  # type: ignore[union-attr]
                            part.filename,  # type: ignore[union-attr]
                            part.headers.get("Content-Type"),  # type: ignore[union-attr]
                            bytes(data),
                        )
                    else:
                        params[part.name] = await part.text()  # type: ignore[union-attr]
            else:
                params.update(dict(await request.post()))
        return {k: self._decode_value(k, v) for k, v in params.items()}, files

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        call = Call(method=method, params=params, files=files, at=time.time())
        failure = self._take_failure(method)
        with self._lock:
            blocked = params.get("chat_id") in self._blocked
        if failure is None and blocked:
            failure = _Failure(403, "Forbidden: bot was blocked by the user", None, 1)
        if failure is not None:
            call.error = {"error_code": failure.error_code, "description": failure.description}
            self._record(call)
            return self._error(failure.error_code, failure.description, failure.retry_after)
        if method.lower() == "getupdates":
            # Polls are not recorded: there are many and tests never need them.
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        handler = getattr(self, f"_m_{method.lower()}", None)
        try:
            result = handler(params, files) if handler is not None else True
        except _BadRequestError as error:
            call.error = {"error_code": 400, "description": str(error)}
            self._record(call)
            return self._error(400, str(error))
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        with self._lock:
            stored = self._files_by_path.get(request.match_info["path"])
        self._record(Call("download", {"file_path": request.match_info["path"]}, at=time.time()))
        if stored is None:
            return self._error(404, "Not Found")
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._updates_event is not None
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = self._updates[:limit]
                if not pending:
                    self._updates_event.clear()
            if pending:
                return pending
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            try:
                await asyncio.wait_for(self._updates_event.wait(), timeout=left)
            except TimeoutError:
                return []

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
            raise _BadRequestError("Bad Request: chat not found")
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
                raise _BadRequestError(f"Bad Request: file {value} not found in the request")
            return part
        if key in files:
            return files[key]
        if isinstance(value, str) and value in self._files:
            return Upload(None, None, self._files[value].data)
        raise _BadRequestError(f"Bad Request: there is no {key} in the request")

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

    # Method handlers: `_m_<lowercased method>(params, files) -> result`.

    def _m_getme(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return {**self._bot_user(), "can_join_groups": True, "supports_inline_queries": False}

    def _m_sendmessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        text = params.get("text")
        if not text:
            raise _BadRequestError("Bad Request: message text is empty")
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
            raise _BadRequestError("Bad Request: invalid file_id")
        if stored.file_size > TELEGRAM_DOWNLOAD_LIMIT:
            raise _BadRequestError("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _edited(self, params: dict[str, Any], **changes: Any) -> Any:
        key = (params.get("chat_id"), params.get("message_id"))
        with self._lock:
            message = self._messages.get(key)  # type: ignore[arg-type]
            if message is None:
                raise _BadRequestError("Bad Request: message to edit not found")
            updated = {**message, **{k: v for k, v in changes.items() if v is not None}}
            if "reply_markup" in changes and changes["reply_markup"] is None:
                updated.pop("reply_markup", None)
            if updated == message:
                raise _BadRequestError(
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            updated["edit_date"] = int(time.time() * 1000)
            self._messages[key] = updated  # type: ignore[index]
            return dict(updated)

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


class _BadRequestError(Exception):
    """A 400 answer with Telegram's description."""


def iter_texts(calls: list[Call]) -> Iterator[str]:
    """Texts of the bot's sendMessage/editMessageText calls."""
    for call in calls:
        if call.method in ("sendMessage", "editMessageText"):
            yield call.text
