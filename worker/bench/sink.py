"""The Bot API as far as a worker needs it for synth jobs, on loopback, for the bench: it
needs nothing of the test suite, so the bench runs inside the worker image too."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Upload:
    chat_id: int
    at: float  # time.time() when the sink received it
    duration: float  # seconds, as the worker declared it


class BotApiSink:
    """The Bot API as far as a worker needs it for synth jobs, on loopback: every method
    answers ok, sendVoice and sendAudio are recorded with their arrival time."""

    def __init__(self) -> None:
        self.uploads: list[Upload] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="bot-api-sink", daemon=True)
        self.url = ""

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        if method in ("sendVoice", "sendAudio"):
            with self._lock:
                self.uploads.append(
                    Upload(
                        int(str(form["chat_id"])), time.time(), float(str(form.get("duration", 0)))
                    )
                )
        result: Any = True
        if method.startswith("send"):
            chat = {"id": int(str(form.get("chat_id", 0))), "type": "private"}
            result = {"message_id": len(self.uploads) + 1, "date": int(time.time()), "chat": chat}
        return web.json_response({"ok": True, "result": result})

    def _serve(self) -> None:
        async def main() -> None:
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/bot{token}/{method}", self._answer)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(main())

    def __enter__(self) -> BotApiSink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def uploads_since(self, count: int) -> list[Upload]:
        with self._lock:
            return self.uploads[count:]
