"""The contract between the bot and the workers: the queue, job payloads, results.

This module is imported by the bot, so it must stay light (no torch, no sv2tts). Jobs are
enqueued by dotted path (`worker.jobs.embed_job`), so the bot never imports the job code.
Payloads are plain dicts made from these dataclasses and cross Redis as JSON (RQ's
`JSONSerializer`, on both sides: nothing in Redis is ever unpickled, so whoever can write to
Redis cannot run code in the bot or a worker). A worker on another host needs nothing but Redis
and the Bot API.

One queue, embed jobs at its front. RQ takes a job from a single queue with BLMOVE into an
intermediate list, so a job a worker has taken but not yet started is still somewhere in Redis
(worker/recovery.py finds it if that worker dies); from two queues RQ pops with BLPOP, and a
worker killed right after the pop takes the job with it. Putting the short embed jobs at the
front keeps "voices first" without a second queue.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from rq.serializers import JSONSerializer

from sv2tts.choices import OutputFormat
from sv2tts.measures import RecordingStats

QUEUE = "voiceclone"
SERIALIZER = JSONSerializer

EMBED_JOB = "worker.jobs.embed_job"
SYNTH_JOB = "worker.jobs.synth_job"
CHECK_JOB = "worker.jobs.check_job"
# The only functions a worker runs (worker/worker.py refuses any other name a job carries,
# without importing it): JSON keeps pickles out of Redis, not code, since a job names the
# function to call. A dialogue is a synth job with turns, not a function of its own.
JOB_FUNCTIONS = frozenset({EMBED_JOB, SYNTH_JOB, CHECK_JOB})


def embed_job_id(request_id: int) -> str:
    """Jobs are named after their request row, so the bot can find (and delete) them."""
    return f"embed-{request_id}"


def synth_job_id(request_id: int) -> str:
    return f"synth-{request_id}"


def check_job_id(token: str) -> str:
    """A watermark check has no request row (bot/checks.py says why): a random token names it."""
    return f"check-{token}"


# The worker pushes one JSON SynthOutcome per finished or failed synth job onto this list;
# the bot moves each to RESULTS_PROCESSING, records it in storage (the bot is the only writer)
# and only then removes it, so an outcome survives a bot that dies halfway.
RESULTS_LIST = "voiceclone:synth-results"
RESULTS_PROCESSING = "voiceclone:synth-results:processing"
# An outcome the bot cannot read (not JSON, not an outcome, wrong types) is set aside here
# (the latest RESULTS_DEAD_KEPT, as found) and counted, so one bad entry never stops the rest.
RESULTS_DEAD = "voiceclone:synth-results:dead"
RESULTS_DEAD_COUNT = "voiceclone:synth-results:dead:count"
RESULTS_DEAD_KEPT = 100

# Retry policy for both jobs, for the bot to pass as `Retry(max=..., interval=...)`. The worker
# spends it only on failures that prove nothing reached the user (Telegram 429/5xx, a refused
# connection) and on a worker that died mid-job; bad input fails at once, whatever retries the
# job carries.
JOB_RETRY_MAX = 3
JOB_RETRY_INTERVALS = (5, 15, 60)
# Key of `job.meta` where the worker records a failed job's error code (one of ERROR_CODES),
# so the bot awaiting an embed job can tell the user what was wrong without parsing tracebacks.
ERROR_CODE_META = "error_code"

EMBED_JOB_TIMEOUT = 120  # seconds: download, decode (itself time-limited) and one encoder pass
# Synthesis time grows with the text. The per-character figure is a CPU worst case for the
# full-size models (WaveRNN is the slow part); a GPU worker finishes far inside it.
SYNTH_TIMEOUT_BASE = 60
SYNTH_TIMEOUT_PER_CHAR = 1.0


def synth_job_timeout(text: str | int) -> int:
    """Seconds a synth job for `text` (or a text of that many characters) may run."""
    chars = text if isinstance(text, int) else len(text)
    return int(SYNTH_TIMEOUT_BASE + SYNTH_TIMEOUT_PER_CHAR * max(0, chars))


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


WatermarkVerdict = Literal["found", "absent", "unclear"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What `check_job` returns (as a dict): whether a recording carries our watermark.

    The request is an EmbedRequest: the same file reference, fetched and decoded with the
    same limits as a recording that becomes a voice."""

    confidence: float  # the detector's output, 0..1
    verdict: WatermarkVerdict  # the worker's reading of it (sv2tts/watermark.py)
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
    # fast, pitch kept (sv2tts.audio.change_tempo, 0.75..1.5).
    pace: float = 1.0
    # A dialogue (/dialogue): the voices' embeddings and the turns in script order; `text`
    # is then the whole script and `embedding` its first voice. Empty for /say.
    speakers: list[list[float]] = field(default_factory=list)
    turns: list[DialogueTurn] = field(default_factory=list)
    # What can void the job before it is sent (worker/revocation.py): the created_at (storage's
    # clock) of the user row it was made for, and the ids of the voices it speaks with.
    user_since: float = 0.0
    voice_ids: list[int] = field(default_factory=list)
    forget_mark: str = ""  # the name of the user's forget mark (revocation.forgotten_key)

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


# Progress of a synth job a worker is making (worker/progress.py writes it, the bot's status
# message reads it: bot/progress.py): one small hash per job, rewritten at most every second
# or two while the job runs, gone with the job (and after PROGRESS_TTL at the latest).
PROGRESS_TTL = 15 * 60


def progress_key(job_id: str) -> str:
    return f"voiceclone:progress:{job_id}"


@dataclass(frozen=True, slots=True)
class JobProgress:
    """How far a job is: `percent` 0..100, `seconds_left` None when not known yet."""

    percent: int
    seconds_left: int | None

    def to_hash(self) -> dict[str, str]:
        left = -1 if self.seconds_left is None else self.seconds_left
        return {"percent": str(self.percent), "left": str(left)}

    @classmethod
    def from_hash(cls, data: dict[bytes, bytes] | dict[str, str]) -> JobProgress | None:
        """The progress in a hash read from Redis, or None when it is absent or unreadable
        (Redis is not trusted: numbers are parsed and bounded, nothing else is read)."""
        values = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in data.items()
        }
        try:
            percent = int(values["percent"])
            left = int(values.get("left", "-1"))
        except (KeyError, ValueError):
            return None
        if not 0 <= percent <= 100:
            return None
        return cls(percent, None if left < 0 else min(left, 24 * 3600))
