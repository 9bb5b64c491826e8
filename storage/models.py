"""The dataclasses that go in and out of storage. Nothing here knows about SQL.

Times are timezone-aware UTC `datetime`s; the database keeps them as Unix seconds.
Embeddings are `numpy.ndarray`s of `EMBEDDING_DIM` float32 values.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

import numpy as np

from sv2tts.audio.measures import RecordingStats
from sv2tts.choices import TEMPO_RANGE, OutputFormat

EMBEDDING_DIM = 256
MAX_VOICE_NAME_CHARS = 64
MAX_LANGUAGE_CHARS = 16
MAX_ERROR_CODE_CHARS = 64

OUTPUT_FORMATS: tuple[OutputFormat, ...] = tuple(OutputFormat)
# A user's pace (`/speed`): the tempo factor the worker applies to their voice notes. The
# engine's own range (sv2tts.audio.codec.change_tempo), so that a stored pace is always one it
# takes.
PACE_RANGE: tuple[float, float] = TEMPO_RANGE
DEFAULT_PACE = 1.0


class RequestStatus(StrEnum):
    queued = "queued"  # created by the bot and enqueued
    running = "running"  # a worker picked it up
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


# A user's requests in these states count against `max_active_requests_per_user`.
ACTIVE_STATUSES: tuple[RequestStatus, ...] = (RequestStatus.queued, RequestStatus.running)

RequestKind = Literal["synth", "embed"]  # speech, or a recording becoming a voice


class Refusal(StrEnum):
    """Why `requests.admit` turned a request away."""

    busy = "busy"  # the user has as many requests running as they may
    rate = "rate"  # the user's budget for the last minute is spent
    full = "full"  # the whole service has as much queued work as it takes
    voices = "voices"  # the user has as many voices as they may (a recording for a new one)


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    max_active_per_user: int
    per_minute: int  # requests and recordings together, per user
    max_queued: int  # queued or running, all users together
    max_voices_per_user: int


@dataclass(frozen=True, slots=True)
class Admission:
    """A request row created (`request_id`), or the reason none was."""

    request_id: int | None
    refusal: Refusal | None = None


_INVISIBLE_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def validate_voice_name(name: str) -> str:
    """Return `name` unchanged if it is a usable voice name, else raise ValueError.

    Any Unicode is accepted except control characters (they break buttons and logs),
    format characters (bidi overrides, zero-width: they disguise a name) and line or
    paragraph separators; the name is stored exactly as given. What a user types is made
    into a name first by bot/names.py, whose output always passes here.
    """
    if not isinstance(name, str):
        raise ValueError("voice name must be a string")
    if not name.strip():
        raise ValueError("voice name is empty")
    if len(name) > MAX_VOICE_NAME_CHARS:
        raise ValueError(f"voice name is longer than {MAX_VOICE_NAME_CHARS} characters")
    if any(unicodedata.category(ch) in _INVISIBLE_IN_NAMES for ch in name):
        raise ValueError("voice name contains control, format or line separator characters")
    return name


def validate_pace(pace: float) -> float:
    """`pace` as a float if it is within PACE_RANGE, else ValueError."""
    low, high = PACE_RANGE
    value = float(pace)
    if not low <= value <= high:  # also false for NaN
        raise ValueError(f"pace must be within {low:g}..{high:g}, not {pace!r}")
    return value


@dataclass(frozen=True, slots=True)
class User:
    id: int  # Telegram user id
    language: str
    output_format: OutputFormat
    active_voice_id: int | None
    created_at: datetime
    last_seen_at: datetime
    blocked: bool
    pace: float = DEFAULT_PACE  # tempo of their voice notes (`/speed`), within PACE_RANGE


@dataclass(frozen=True, slots=True)
class Sample:
    """One analysed recording, as the bot gets it from the worker's EmbedResult.

    `audio` (the recording itself, e.g. `EmbedResult.recording_ogg`) is kept on disk
    when given, linked to the voice the sample creates or refines.
    """

    embedding: np.ndarray = field(compare=False, repr=False)
    encoder_id: str
    recording: RecordingStats  # what it measured: the engine's own type, as it came
    audio: bytes | None = field(default=None, compare=False, repr=False)
    audio_kind: str = "voice"  # Telegram kind: voice, audio, document, video_note
    audio_ext: str = "ogg"


@dataclass(frozen=True, slots=True)
class Voice:
    id: int
    owner_id: int | None  # None: a curated bank voice, owned by the deployment
    name: str
    embedding: np.ndarray = field(compare=False, repr=False)  # float32, L2-normalised
    encoder_id: str
    sample_count: int  # how many recordings were merged into the embedding
    speech_seconds: float  # total seconds of speech behind the embedding
    level_dbfs: float | None
    clipped_fraction: float | None
    public: bool
    consent_at: datetime | None  # when the owner agreed to publish (or the curator imported)
    curated: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Recording:
    id: int
    voice_id: int
    sha256: str
    ext: str
    kind: str
    duration: float
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    user_id: int
    voice_id: int | None
    kind: RequestKind
    text_length: int
    status: RequestStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queue_seconds: float | None
    synth_seconds: float | None
    audio_seconds: float | None
    total_seconds: float | None
    error_code: str | None
    likeness: float | None = None  # of the output to the voice, as the worker measured it


class OutcomeLike(Protocol):
    """What `requests.record_outcome` reads; `worker.api.SynthOutcome` has this shape."""

    @property
    def request_id(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def queue_seconds(self) -> float: ...
    @property
    def synth_seconds(self) -> float: ...
    @property
    def audio_seconds(self) -> float: ...
    @property
    def total_seconds(self) -> float: ...
    @property
    def likeness(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """The message that shows a long request's place and progress (bot/progress.py)."""

    request_id: int  # of a /say or /dialogue: its job is `synth-<request_id>`
    user_id: int
    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Note:
    """A voice note the bot sent the user, as inline mode lists it."""

    request_id: int
    user_id: int
    title: str  # the start of the text it speaks
    file_id: str  # Telegram's id of the sent voice note (or MP3)
    file_kind: str  # "voice" or "audio"
    duration: float
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class BankPage:
    voices: list[Voice]
    page: int  # 0-based, clamped into range
    page_size: int
    total: int  # matching voices over all pages

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_prev(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What `forget(user)` removed."""

    user_existed: bool
    voices: int
    recordings: int
    requests: int
    files: int


@dataclass(frozen=True, slots=True)
class DayCount:
    day: str  # ISO date, UTC
    requests: int
    failed: int


@dataclass(frozen=True, slots=True)
class Stats:
    users: int
    blocked_users: int
    active_users: int  # seen in the window
    voices: int
    public_voices: int
    curated_voices: int
    recordings: int
    requests: int  # in the window
    failed: int  # in the window
    failure_rate: float  # failed / (done + failed) in the window; 0.0 when none finished
    median_synth_seconds: float | None  # over finished requests in the window
    median_queue_seconds: float | None
    per_day: list[DayCount]  # oldest first, every day of the window (zeros included)
    window_days: int
    # over finished requests in the window that measured one (the worker's figure, v5 on)
    median_likeness: float | None = None


class MixRefusal(StrEnum):
    """Why `mixes.create` made no voice."""

    gone = "gone"  # a source is not the user's to use (deleted, withdrawn, someone else's)
    same = "same"  # the same voice twice
    encoders = "encoders"  # made by different speaker encoders: their embeddings do not mix
    voices = "voices"  # the user has as many voices as they may


@dataclass(frozen=True, slots=True)
class MixSource:
    """One of the two voices a mix was made from, as its owner may see it now."""

    voice_id: int | None  # None: the source was deleted
    name: str | None  # None: deleted, or no longer the viewer's to use (withdrawn from the bank)


@dataclass(frozen=True, slots=True)
class Mix:
    """A mixed voice's provenance: which two voices, and how much of each."""

    voice_id: int
    first: MixSource
    second: MixSource
    first_share: float  # of the first voice's embedding, in (0, 1); the second has the rest

    @property
    def second_share(self) -> float:
        return 1.0 - self.first_share


@dataclass(frozen=True, slots=True)
class MixResult:
    """The mixed voice made (`voice`), or the reason none was."""

    voice: Voice | None
    refusal: MixRefusal | None = None
