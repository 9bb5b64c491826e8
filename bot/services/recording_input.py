"""What a message with audio asks a worker to read: a voice message, an audio file or
document, or a video note, and whether it is within the limits before anyone downloads it
(a recording to learn and a recording to /check alike)."""

from __future__ import annotations

from pathlib import PurePath

from aiogram import F
from aiogram.types import Message

from bot.locales import Texts
from bot.settings import Settings
from worker.api import EmbedRequest

# Messages that may hold audio (a document only if it is audio: `embed_request_of`).
AUDIO = F.voice | F.audio | F.video_note | F.document
AUDIO_EXTENSIONS = frozenset(
    {".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".wav", ".flac", ".webm", ".amr", ".wma"}
)


def embed_request_of(message: Message) -> EmbedRequest | None:
    """What the worker needs to fetch and read the recording; None if it is not audio."""
    if message.voice:
        v = message.voice
        return EmbedRequest(v.file_id, "voice", v.file_size, float(v.duration), v.mime_type)
    if message.audio:
        a = message.audio
        return EmbedRequest(a.file_id, "audio", a.file_size, float(a.duration), a.mime_type)
    if message.video_note:
        n = message.video_note
        return EmbedRequest(n.file_id, "video_note", n.file_size, float(n.duration), "video/mp4")
    if message.document and _is_audio_document(
        message.document.mime_type, message.document.file_name
    ):
        d = message.document
        return EmbedRequest(d.file_id, "document", d.file_size, None, d.mime_type)
    return None


def _is_audio_document(mime_type: str | None, file_name: str | None) -> bool:
    if mime_type and mime_type.startswith("audio/"):
        return True
    generic = mime_type in (None, "application/octet-stream")
    return generic and PurePath(file_name or "").suffix.lower() in AUDIO_EXTENSIONS


def limit_problem(request: EmbedRequest, settings: Settings, texts: Texts) -> str | None:
    """Refuse what is over the limits before anyone downloads it."""
    if request.file_size is not None and request.file_size > settings.max_audio_bytes:
        return texts.file_too_big.format(limit_mb=settings.max_audio_bytes // (1024 * 1024))
    if request.duration is not None and request.duration > settings.max_audio_seconds:
        return texts.recording_too_long.format(limit=settings.max_audio_seconds)
    return None
