"""What crosses the queue: the job requests, their results and outcomes, the error codes.

Payloads are plain dicts made from these dataclasses and cross Redis as JSON (RQ's
`JSONSerializer`, on both sides: nothing in Redis is ever unpickled, so whoever can write to
Redis cannot run code in the bot or a worker). Jobs carry everything they need: a worker on
another host needs nothing but Redis and the Bot API.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from sv2tts.audio.measures import RecordingStats
from sv2tts.choices import OutputFormat, WatermarkVerdict

# Key of `job.meta` where the worker records a failed job's error code (one of ERROR_CODES),
# so the bot awaiting an embed job can tell the user what was wrong without parsing tracebacks.
ERROR_CODE_META = "error_code"

AudioKind = Literal["voice", "audio", "document", "video_note"]


def known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the keys `cls` does not have: a payload written by a newer bot or
    worker (a field added since) is still read by an older one during a rolling upgrade.
    A field that is missing still fails, as it must."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


@dataclass(frozen=True, slots=True)
class EmbedRequest:
    file_id: str
    kind: AudioKind
    file_size: int | None = None
    duration: float | None = None  # seconds, as Telegram reported it
    mime_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedRequest:
        return cls(**known_fields(cls, data))


@dataclass(frozen=True, slots=True)
class EmbedResult:
    """What `embed_job` returns (as a dict) on success."""

    embedding: list[float]  # 256 floats, L2-normalised
    encoder_id: str  # identity of the encoder weights (sha256 prefix of the file)
    recording: RecordingStats  # what the recording measured (the engine's own type)
    recording_ogg: bytes  # the decoded recording, 16 kHz mono OGG/Opus, for the bot to keep

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the recording as base64 text."""
        data = asdict(self)
        data["recording_ogg"] = base64.b64encode(self.recording_ogg).decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedResult:
        values = known_fields(cls, data)
        values["recording"] = RecordingStats(**known_fields(RecordingStats, values["recording"]))
        values["recording_ogg"] = base64.b64decode(values["recording_ogg"], validate=True)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What `check_job` returns (as a dict): whether a recording carries our watermark.

    The request is an EmbedRequest: the same file reference, fetched and decoded with the
    same limits as a recording that becomes a voice."""

    confidence: float  # the detector's output, 0..1
    verdict: WatermarkVerdict  # the worker's reading of it (sv2tts/watermark/model.py)
    seconds: float  # length of the audio checked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**known_fields(cls, data))


class JobError(Exception):
    """A job failed for a reason retrying will not fix; `code` is one of ERROR_CODES."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class EmbedError(JobError):
    """Raised by `embed_job` for bad input; `code` is one of ERROR_CODES."""


# Failure codes shared by both jobs; the bot turns each into a message in the user's language.
ERROR_CODES = (
    "not_audio",  # nothing decodable
    "too_large",  # over the byte limit
    "too_long",  # over the duration limit
    "too_short",  # under min speech seconds after VAD
    "silent",  # no speech at all
    "clipped",  # heavy clipping; recording unusable
    "no_speech",  # sound, but noise, a tone or music rather than a voice
    "decode_timeout",  # decoder ran past its time limit
    "nothing_to_say",  # text has nothing speakable
    "telegram_error",  # upload or download failed
    "weights_missing",  # the worker has no model weights
    "internal",  # anything else
    "timeout",  # the job ran past its time limit
    "delivery_unknown",  # Telegram did not confirm the upload; it may or may not have arrived
    "lost",  # the job vanished from Redis (its data was lost); nothing can run it again
    "cancelled",  # the user cancelled it (or asked to be forgotten) before it was sent
    "voice_gone",  # a voice it speaks with was deleted or withdrawn meanwhile
)


@dataclass(frozen=True, slots=True)
class DialogueTurn:
    """One line of a /dialogue script: `speaker` indexes SynthRequest.speakers."""

    speaker: int
    text: str


@dataclass(frozen=True, slots=True)
class SynthRequest:
    request_id: int  # storage's request row, echoed back in the outcome
    user_id: int
    chat_id: int
    reply_to_message_id: int | None
    text: str
    embedding: list[float]
    output_format: OutputFormat = OutputFormat.voice
    language: str = "en"  # for the apology text and the text front end's choice
    voice_name: str = ""
    enqueued_at: float = 0.0  # time.time() when the bot enqueued it
    extra: dict[str, Any] = field(default_factory=dict)
    # The user's tempo (`/speed`): the worker plays the finished speech this many times as
    # fast, pitch kept (sv2tts.audio.codec.change_tempo, 0.75..1.5).
    pace: float = 1.0
    # A dialogue (/dialogue): the voices' embeddings and the turns in script order; `text`
    # is then the whole script and `embedding` its first voice. Empty for /say.
    speakers: list[list[float]] = field(default_factory=list)
    turns: list[DialogueTurn] = field(default_factory=list)
    # What can void the job before it is sent (worker/queue/revocation.py): the created_at
    # (storage's clock) of the user row it was made for, and the ids of the voices it speaks
    # with.
    user_since: float = 0.0
    voice_ids: list[int] = field(default_factory=list)
    forget_mark: str = ""  # the name of the user's forget mark (worker.api.keys.forgotten_key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthRequest:
        values = known_fields(cls, data)
        turns = values.get("turns") or []
        values["turns"] = [DialogueTurn(**known_fields(DialogueTurn, turn)) for turn in turns]
        return cls(**values)


@dataclass(frozen=True, slots=True)
class SynthOutcome:
    request_id: int
    user_id: int
    ok: bool
    error_code: str | None = None
    queue_seconds: float = 0.0  # enqueued -> started
    synth_seconds: float = 0.0  # model time
    audio_seconds: float = 0.0  # length of the voice note
    total_seconds: float = 0.0  # enqueued -> uploaded
    sent_message_id: int | None = None
    job_id: str = ""  # whose keys the bot removes from Redis once it has recorded this
    sent_again: bool = False  # re-sent after an attempt that was cut off mid-upload
    # The cosine of the sent audio, embedded again by the speaker encoder, to the voice asked
    # for; None when it could not be measured (failures, nothing the encoder could embed).
    likeness: float | None = None
    # Telegram's file_id of the sent voice note ("voice") or MP3 ("audio"): inline mode sends
    # it again into other chats without uploading it anew.
    file_id: str | None = None
    file_kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthOutcome:
        return cls(**known_fields(cls, data))
