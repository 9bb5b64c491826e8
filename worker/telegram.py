"""A small synchronous Bot API client for the worker: getFile, download, chat actions, uploads.

Why not aiogram here: RQ runs a job as a plain function in the worker's main thread, under a
SIGALRM time limit. aiogram's Bot is async, so it would need an event loop in a side thread
and every call marshalled across it (and the chat-action ticker would be a third party to
that loop). The worker makes five kinds of calls; a blocking client on `urllib` does them in
the job's own thread, lets the download stop at a byte limit while streaming, and maps every
failure to an exception class in one place: transient (Telegram's 429 or 5xx answer, a
connection that could not be made or broke while sending: nothing was delivered, RQ may retry
the job), unconfirmed (a message was sent and no answer came: it may have been delivered, so
it must not be sent again blindly) or permanent (anything else: retrying will not help).

The token is part of every URL, so no URL leaves this module unmasked: errors carry the method
name and Telegram's description, never the address.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
# A connection that failed or broke off midway: worth another try later (HTTPError, also an
# OSError, is caught before these).
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)
# Methods that deliver something to the user: an answer lost after the request went out
# leaves them unconfirmed, not failed.
_SENDING = frozenset({"sendVoice", "sendAudio", "sendMessage", "sendDocument"})


class TelegramError(Exception):
    """A Bot API call failed; `status` is the HTTP status (0 for a network failure)."""

    def __init__(self, method: str, description: str, status: int = 0) -> None:
        super().__init__(f"{method}: {description}" + (f" (HTTP {status})" if status else ""))
        self.method = method
        self.description = description
        self.status = status


class TelegramTransientError(TelegramError):
    """Worth retrying later: rate limited (429), a server error (5xx) or the network."""

    def __init__(
        self, method: str, description: str, status: int = 0, retry_after: float | None = None
    ) -> None:
        super().__init__(method, description, status)
        self.retry_after = retry_after


class TelegramPermanentError(TelegramError):
    """Retrying will not help: bad request, blocked by the user, file too big, and so on."""


class TelegramUnconfirmed(TelegramError):
    """A message went out and no answer came back (timeout, connection lost while waiting):
    Telegram may well have delivered it."""


@dataclass(frozen=True, slots=True)
class RemoteFile:
    file_id: str
    file_path: str
    file_size: int | None


@dataclass(frozen=True, slots=True)
class SentMedia:
    """A voice note or audio file Telegram accepted: its message, and the file_id under which
    Telegram keeps the upload (sending that id again costs no second upload)."""

    message_id: int
    file_id: str | None


def sent_media(result: Any, kind: str) -> SentMedia:
    media = result.get(kind) if isinstance(result, dict) else None
    file_id = media.get("file_id") if isinstance(media, dict) else None
    return SentMedia(int(result["message_id"]), file_id if isinstance(file_id, str) else None)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file for a multipart field: name as Telegram will show it, bytes, MIME type."""

    filename: str
    data: bytes
    content_type: str


def mask_token(text: str, token: str) -> str:
    """`text` with the bot token replaced, for anything that might end up in a log."""
    return text.replace(token, "<token>") if token else text


def multipart_body(
    fields: Mapping[str, Any], files: Mapping[str, Upload] | None = None
) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data request, as aiogram sends it.

    Complex values (dicts, lists) are JSON strings, as the Bot API expects in form fields.
    """
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, dict | list) else str(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + text.encode()
            + b"\r\n"
        )
    for name, upload in (files or {}).items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{upload.filename}"\r\nContent-Type: {upload.content_type}\r\n\r\n'
            ).encode()
            + upload.data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def reply_parameters(message_id: int | None) -> dict[str, Any] | None:
    """Reply to the user's request, but still deliver if they deleted it meanwhile."""
    if message_id is None:
        return None
    return {"message_id": message_id, "allow_sending_without_reply": True}


class BotApi:
    """Blocking Bot API calls against `base_url` (official or self-hosted server)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 60.0) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def call(
        self,
        method: str,
        fields: Mapping[str, Any] | None = None,
        files: Mapping[str, Upload] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """The `result` of a Bot API method; TelegramError subclasses on any failure."""
        body, content_type = multipart_body(fields or {}, files)
        request = urllib.request.Request(
            f"{self._base}/bot{self._token}/{method}",
            data=body,
            headers={"Content-Type": content_type},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self._timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as error:
            payload = self._error_payload(error)
            raise self._classify(method, error.code, payload) from None
        except urllib.error.URLError as error:
            # urllib wraps what fails while connecting and sending: the request is incomplete.
            reason = mask_token(str(error.reason), self._token)
            raise TelegramTransientError(method, reason) from None
        except (*_NETWORK_ERRORS, ValueError) as error:
            # The request was sent; its answer broke off, timed out or was not JSON.
            reason = mask_token(str(error) or type(error).__name__, self._token)
            if method in _SENDING:
                raise TelegramUnconfirmed(method, f"no answer: {reason}") from None
            raise TelegramTransientError(method, reason) from None
        if not isinstance(payload, dict) or not payload.get("ok"):
            raise self._classify(method, 200, payload if isinstance(payload, dict) else {})
        return payload.get("result")

    def _error_payload(self, error: urllib.error.HTTPError) -> dict[str, Any]:
        try:
            data = json.loads(error.read())
        except (ValueError, OSError):
            return {}
        return data if isinstance(data, dict) else {}

    def _classify(self, method: str, status: int, payload: Mapping[str, Any]) -> TelegramError:
        code = int(payload.get("error_code") or status)
        description = mask_token(str(payload.get("description") or "no description"), self._token)
        if code == 429 or code >= 500:
            params = payload.get("parameters") or {}
            retry_after = params.get("retry_after") if isinstance(params, dict) else None
            return TelegramTransientError(method, description, code, retry_after)
        return TelegramPermanentError(method, description, code)

    # --- the calls the worker makes ----------------------------------------------------

    def get_file(self, file_id: str) -> RemoteFile:
        result = self.call("getFile", {"file_id": file_id})
        path = result.get("file_path") if isinstance(result, dict) else None
        if not path:
            raise TelegramPermanentError("getFile", "the file is not available for download")
        return RemoteFile(file_id=file_id, file_path=path, file_size=result.get("file_size"))

    def download(self, file_path: str, *, max_bytes: int) -> bytes:
        """The file's bytes; TelegramPermanentError('too large') past `max_bytes`."""
        url = f"{self._base}/file/bot{self._token}/{file_path}"
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and int(declared) > max_bytes:
                    raise FileTooLarge(int(declared), max_bytes)
                return _read_at_most(response, max_bytes)
        except urllib.error.HTTPError as error:
            raise self._classify("download", error.code, self._error_payload(error)) from None
        except _NETWORK_ERRORS as error:
            reason = getattr(error, "reason", error)
            raise TelegramTransientError("download", mask_token(str(reason), self._token)) from None

    def send_chat_action(self, chat_id: int, action: str) -> None:
        self.call("sendChatAction", {"chat_id": chat_id, "action": action}, timeout=10.0)

    def send_message(self, chat_id: int, text: str, reply_to: int | None = None) -> int:
        fields = {"chat_id": chat_id, "text": text, "reply_parameters": reply_parameters(reply_to)}
        return int(self.call("sendMessage", fields)["message_id"])

    def send_voice(
        self,
        chat_id: int,
        ogg: bytes,
        *,
        duration: int,
        reply_to: int | None = None,
        caption: str | None = None,
    ) -> SentMedia:
        fields = {
            "chat_id": chat_id,
            "duration": duration,
            "reply_parameters": reply_parameters(reply_to),
            "caption": caption,
        }
        files = {"voice": Upload("voice.ogg", ogg, "audio/ogg")}
        return sent_media(self.call("sendVoice", fields, files), "voice")

    def send_audio(
        self,
        chat_id: int,
        mp3: bytes,
        *,
        duration: int,
        title: str,
        reply_to: int | None = None,
        caption: str | None = None,
    ) -> SentMedia:
        fields = {
            "chat_id": chat_id,
            "duration": duration,
            "title": title,
            "reply_parameters": reply_parameters(reply_to),
            "caption": caption,
        }
        files = {"audio": Upload("speech.mp3", mp3, "audio/mpeg")}
        return sent_media(self.call("sendAudio", fields, files), "audio")


class FileTooLarge(TelegramPermanentError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__("download", f"file of {size} bytes is over the limit of {limit}")
        self.size = size
        self.limit = limit


def _read_at_most(stream: Any, max_bytes: int) -> bytes:
    """Read until EOF, refusing to hold more than `max_bytes` whatever the headers said."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise FileTooLarge(total, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
