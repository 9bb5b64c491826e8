"""Exactly one answer per synth request, whatever crashes and retries happen around it.

A synth job is settled once: when its voice note was uploaded, or when it failed for good.
Settling sets `voiceclone:synth-settled:<job id>` (SET NX) and pushes the SynthOutcome onto
RESULTS_LIST in one Lua script, so the bot records each request once. A job that runs again
after a worker died (or after a retried Telegram error) first looks at that key and, if it
is set, returns the recorded outcome instead of uploading a second voice note.

The encoded audio is kept for a while under `voiceclone:synth-audio:<job id>`, so that a
retry after a failed upload sends the same voice note without synthesizing it again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from redis import Redis

from worker.api import RESULTS_LIST, SynthOutcome

log = logging.getLogger(__name__)

SETTLED_PREFIX = "voiceclone:synth-settled:"
AUDIO_PREFIX = "voiceclone:synth-audio:"
SETTLED_TTL = 7 * 24 * 3600  # longer than any job can wait in a queue or between retries
AUDIO_TTL = 3600  # longer than the last retry interval

# KEYS[1] settled key, KEYS[2] results list; ARGV[1] outcome JSON, ARGV[2] ttl.
_SETTLE_ONCE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class EncodedAudio:
    """A finished voice note (or MP3) and the figures that go into its outcome."""

    data: bytes
    duration: float  # seconds
    synth_seconds: float  # model time spent making it


def settle(redis: Redis, job_id: str, outcome: SynthOutcome) -> bool:
    """Record `outcome` as the job's answer; False if the job was settled before."""
    payload = json.dumps(outcome.to_dict())
    first = bool(
        redis.eval(_SETTLE_ONCE, 2, SETTLED_PREFIX + job_id, RESULTS_LIST, payload, SETTLED_TTL)
    )
    if first:
        redis.delete(AUDIO_PREFIX + job_id)
    return first


def settled_outcome(redis: Redis, job_id: str) -> SynthOutcome | None:
    """The outcome recorded for `job_id`, or None while it is not settled."""
    raw = redis.get(SETTLED_PREFIX + job_id)
    return SynthOutcome.from_dict(json.loads(raw)) if raw else None


def keep_audio(redis: Redis, job_id: str, audio: EncodedAudio) -> None:
    redis.hset(
        AUDIO_PREFIX + job_id,
        mapping={
            "data": audio.data,
            "duration": audio.duration,
            "synth_seconds": audio.synth_seconds,
        },
    )
    redis.expire(AUDIO_PREFIX + job_id, AUDIO_TTL)


def kept_audio(redis: Redis, job_id: str) -> EncodedAudio | None:
    """Audio made by an earlier attempt of this job, if one got that far."""
    fields = redis.hgetall(AUDIO_PREFIX + job_id)
    if not fields or b"data" not in fields:
        return None
    return EncodedAudio(
        data=fields[b"data"],
        duration=float(fields[b"duration"]),
        synth_seconds=float(fields[b"synth_seconds"]),
    )
