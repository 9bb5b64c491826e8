"""The wire of the fake Bot API: an aiohttp server on loopback, the call log, and long polling.

`BotAPIServer` answers `POST|GET /bot<token>/<method>` with form-encoded, JSON or multipart
bodies (aiogram sends complex fields as JSON strings; uploads as multipart with
`voice=attach://<part>`) and `GET /file/bot<token>/<file_path>`. It records every call (except
the many getUpdates polls) as a `Call`, fails the calls that tests scripted to fail or that
go to a blocked chat, and serves `getUpdates` from the updates that tests push.

What each method does is not decided here: a call of `<Method>` goes to the handler
`_m_<method lowercased>(params, files)` of the subclass (tests.fakes.botapi.methods), and a
download to its `_download(file_path)`; a method without a handler answers `true`.
Replies are `{"ok": true, "result": ...}`; errors are Telegram's shape
`{"ok": false, "error_code": N, "description": "...", "parameters": {"retry_after": N}}`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

DEFAULT_TOKEN = "123456789:TEST-fake-token-for-tests"
DEFAULT_BOT_USERNAME = "voiceclone_test_bot"

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
        "results",
        "button",
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


class BadRequestError(Exception):
    """Raised by a method handler: a 400 answer with Telegram's description."""


@dataclass(slots=True)
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    times: int


class BotAPIServer:
    """The HTTP side and the call log; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self._host = host
        self._port = port
        # One lock for all state, the server's and the subclasses'; `_changed` wakes
        # `wait_for` when a call is recorded.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._failures: dict[str, list[_Failure]] = {}
        self._blocked: set[int] = set()
        self._lost_answers: dict[str, int] = {}
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

    def __enter__(self) -> Self:
        self.start_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------- the test's controls

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

    def lose_answer_next(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` succeed (a message is delivered, recorded with
        its result) but their answer never reaches the caller: the connection is cut before
        it, as a network failure after Telegram has done the work would."""
        with self._lock:
            self._lost_answers[method] = self._lost_answers.get(method, 0) + times

    def block(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    # --------------------------------------------------------------------------- the call log

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        with self._lock:
            return len(self._calls)

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method]

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

    # ------------------------------------------------------------------------------ internals

    def _download(self, file_path: str) -> bytes | None:
        """The file at `file_path`, None if there is none (the subclass keeps the files)."""
        return None

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
        except BadRequestError as error:
            call.error = {"error_code": 400, "description": str(error)}
            self._record(call)
            return self._error(400, str(error))
        call.result = result
        self._record(call)
        with self._lock:
            lose = self._lost_answers.get(method, 0) > 0
            if lose:
                self._lost_answers[method] -= 1
        if lose and request.transport is not None:
            request.transport.abort()  # the work is done; the caller never hears of it
        return web.json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        data = self._download(request.match_info["path"])
        self._record(Call("download", {"file_path": request.match_info["path"]}, at=time.time()))
        if data is None:
            return self._error(404, "Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

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
