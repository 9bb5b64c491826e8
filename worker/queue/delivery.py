"""Every request ends once: leases, fencing, the upload mark, cancellation and settling.

A job's delivery state lives in a few small keys beside RQ's own, each changed by one Lua
script, so that the bot and any number of workers see one order of events:

- `lease:<job>`: the token of the worker execution running the job, with a TTL that its
  housekeeping thread refreshes only while the token is still its own. A dead worker's lease
  runs out and recovery (worker/queue/recovery.py) puts the job back; a worker that stalled past its
  lease has lost the job to whoever takes it next.
- `upload:<job>`: set, under the lease, right before a voice note is uploaded. The check of the
  lease (fencing: only the current holder uploads) and the mark are one step, `begin_upload`.
- `cancel:<job>`: the user cancelled a job that a worker already holds; the worker drops it at
  its next check instead of sending it.
- `settled:<job>`: the job's outcome, set once (SET NX) together with pushing it onto the
  results list, by the one execution that finished it.
- `audio:<job>`: the encoded voice note, kept until the job is settled, so that a retry after
  a failed upload sends the same note without synthesizing it again.

What a retry that finds an upload mark does (the mark is there, the job is not settled: an
earlier execution died between starting the upload and settling). Telegram has no way to ask
whether a message arrived, and the mark cannot tell a death before the request reached
Telegram from one after. We send the note again, with a caption saying it may arrive twice:
a user who gets nothing is worse off than one who gets the same note twice, labelled, and
the window is small (the upload itself: the settle follows its answer at once).

The bot's side of the same keys (cancel, purge, the settled outcome) is the contract's,
worker/api/calls.py; the key names are worker/api/keys.py.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from redis import Redis

from worker.api import RESULTS_LIST, SynthOutcome, SynthRequest
from worker.api.keys import audio_key, cancel_key, lease_key, settled_key, upload_key
from worker.queue.revocation import VOID_CHECK, void_args, void_keys

log = logging.getLogger(__name__)

SETTLED_TTL = 7 * 24 * 3600  # longer than any job can wait in a queue or between retries
AUDIO_TTL = 3600  # longer than the last retry interval
UPLOAD_MARK_TTL = 24 * 3600


# KEYS[1] lease; ARGV[1] token, ARGV[2] ttl ms
_TAKE_LEASE = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0"
# A lease that lapsed with nobody else holding it (Redis was away longer than its TTL, or this
# worker stalled) is taken again: a run that had taken the job over would hold it. Whatever
# recovery put back meanwhile finds it held and leaves it, or finds the job settled.
_REFRESH_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
return 0
"""
_DROP_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: settled, cancel, lease, upload, then the request's void marks (worker/queue/revocation.py);
# ARGV[1] token, ARGV[2] mark ttl, ARGV[3] lease ttl ms (0: a lapsed lease is not taken
# again), ARGV[4..5] the void check's arguments
_BEGIN_UPLOAD = (
    VOID_CHECK
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'settled' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'cancelled' end
local holder = redis.call('GET', KEYS[3])
if not holder and tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[3])
  holder = ARGV[1]
end
if holder ~= ARGV[1] then return 'fenced' end
if #KEYS > 4 then
  local void = void_reason(5, 4)
  if void then return void end
end
local before = redis.call('GET', KEYS[4])
redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[2])
if before then return 'again' end
return 'first'
"""
)
# KEYS: settled, results, audio, upload, cancel, lease; ARGV[1] outcome, ARGV[2] ttl,
# ARGV[3] token that must hold the lease ('' = settle whoever holds it).
_SETTLE = """
local holder = redis.call('GET', KEYS[6])
if ARGV[3] ~= '' and holder and holder ~= ARGV[3] then return -1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
  return 1
end
return 0
"""


class Upload(StrEnum):
    """What `begin_upload` found; only FIRST and AGAIN may upload."""

    FIRST = "first"
    AGAIN = "again"  # an earlier execution began an upload and died before settling
    SETTLED = "settled"  # another execution finished the job
    CANCELLED = "cancelled"
    FENCED = "fenced"  # this execution lost its lease: another worker has the job
    FORGOTTEN = "forgotten"  # its user asked to be forgotten (worker/queue/revocation.py)
    VOICE_GONE = "voice_gone"  # a voice it speaks with was revoked (worker/queue/revocation.py)


class LeaseLost(Exception):
    """This execution's lease ran out and another worker took the job: it must not send,
    settle or answer; the new holder does."""


def new_token(holder: str) -> str:
    return f"{holder}:{uuid.uuid4().hex[:12]}"


class JobLease:
    """The lease on the job this worker runs, shared with its housekeeping thread."""

    def __init__(self, redis: Redis, holder: str, seconds: float) -> None:
        self._redis = redis
        self._holder = holder
        self.seconds = seconds
        self._take = redis.register_script(_TAKE_LEASE)
        self._refresh = redis.register_script(_REFRESH_LEASE)
        self._drop = redis.register_script(_DROP_LEASE)
        self.job_id: str | None = None
        self.token: str | None = None

    @property
    def _ms(self) -> int:
        return int(self.seconds * 1000)

    def take(self, job_id: str) -> str | None:
        """A fresh token for `job_id`, or None when another live execution holds it."""
        token = new_token(self._holder)
        if not self._take(keys=[lease_key(job_id)], args=[token, self._ms]):
            return None
        self.job_id, self.token = job_id, token
        return token

    def refresh(self) -> bool:
        """Extend the lease if it is still ours; False if it was lost (or none is held)."""
        job_id, token = self.job_id, self.token
        if job_id is None or token is None:
            return False
        kept = bool(self._refresh(keys=[lease_key(job_id)], args=[token, self._ms]))
        if not kept:
            log.warning("lost the lease on job %s: another worker may have taken it", job_id)
        return kept

    def drop(self) -> None:
        job_id, token = self.job_id, self.token
        self.job_id = self.token = None
        if job_id is not None and token is not None:
            self._drop(keys=[lease_key(job_id)], args=[token])


def begin_upload(
    redis: Redis,
    job_id: str,
    token: str,
    request: SynthRequest | None = None,
    *,
    lease_seconds: float = 0.0,
) -> Upload:
    """Mark the upload as begun if this execution may send: it holds the lease (or, given
    `lease_seconds`, takes again one that lapsed with nobody else holding it), the job is
    neither settled nor cancelled, and (given `request`) nothing voids it. One step, so that a
    /cancel, a /forget or a voice taken back either comes before the mark and stops the send,
    or comes after it and finds the upload under way."""
    keys = [settled_key(job_id), cancel_key(job_id), lease_key(job_id), upload_key(job_id)]
    args: list[str | int] = [token, UPLOAD_MARK_TTL, int(lease_seconds * 1000)]
    if request is not None:
        keys += void_keys(request)
        args += void_args(request)
    found = redis.register_script(_BEGIN_UPLOAD)(keys=keys, args=args)
    return Upload(found.decode() if isinstance(found, bytes) else found)


_CLEAR_MARK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def clear_upload_mark(redis: Redis, job_id: str, token: str) -> None:
    """Telegram refused the upload (it answered with an error): nothing was sent, so a retry
    must not take the mark for a cut-off upload."""
    redis.register_script(_CLEAR_MARK)(keys=[upload_key(job_id)], args=[token])


def cancel_requested(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(cancel_key(job_id)))


def settle(redis: Redis, job_id: str, outcome: SynthOutcome, *, token: str | None = None) -> bool:
    """Record `outcome` as the job's answer and hand it to the bot; False if the job was settled
    before, or if `token` is given and another execution holds the lease (it has the job; a
    lease that lapsed with nobody holding it does not stop the settle)."""
    keys = [
        settled_key(job_id),
        RESULTS_LIST,
        audio_key(job_id),
        upload_key(job_id),
        cancel_key(job_id),
        lease_key(job_id),
    ]
    payload = json.dumps(outcome.to_dict())
    done = redis.register_script(_SETTLE)(keys=keys, args=[payload, SETTLED_TTL, token or ""])
    return int(done) == 1


@dataclass(frozen=True, slots=True)
class EncodedAudio:
    """A finished voice note (or MP3) and the figures that go into its outcome."""

    data: bytes
    duration: float  # seconds
    synth_seconds: float  # model time spent making it
    likeness: float | None = None  # of the final waveform to the voice (sv2tts/finish.py)


def keep_audio(redis: Redis, job_id: str, audio: EncodedAudio) -> None:
    fields: dict[str, bytes | float] = {
        "data": audio.data,
        "duration": audio.duration,
        "synth_seconds": audio.synth_seconds,
    }
    if audio.likeness is not None:  # a retry's caption shows the figure of the same note
        fields["likeness"] = audio.likeness
    with redis.pipeline() as pipe:
        pipe.hset(audio_key(job_id), mapping=fields)
        pipe.expire(audio_key(job_id), AUDIO_TTL)
        pipe.execute()


def kept_audio(redis: Redis, job_id: str) -> EncodedAudio | None:
    """Audio made by an earlier attempt of this job, if one got that far."""
    fields = redis.hgetall(audio_key(job_id))
    if not fields or b"data" not in fields:
        return None
    return EncodedAudio(
        data=fields[b"data"],
        duration=float(fields[b"duration"]),
        synth_seconds=float(fields[b"synth_seconds"]),
        likeness=float(fields[b"likeness"]) if b"likeness" in fields else None,
    )
