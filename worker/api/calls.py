"""What the bot does to the queue besides enqueueing: take a job back, clear a finished one out
of Redis, read a settled outcome, count the ready workers, void work already queued.

Each call is one script or one command on the keys of worker/api/keys.py, so that it comes
either before or after a worker's own step on the same keys (worker/queue/delivery.py), never
in the middle of it. Light on purpose (redis and rq only): the bot's process imports it.

What `/cancel` can promise, from one script (`cancel`): a job still in the queue is removed
("removed"); a job a worker holds is flagged and will not be sent ("flagged", true because the
worker checks the flag in `begin_upload`, atomically with its upload mark); a job whose upload
has begun or that is settled cannot be taken back ("sending", "done").

The marks that stop work already queued: a user who asked to be forgotten, a voice taken back.
The bot writes them here; the worker reads them before it synthesizes and again inside the
upload's fenced step (worker/queue/revocation.py), so whatever the order of events, nothing
is sent once a mark is written.

- `forgotten:<keyed hash of the user id>` (`forgotten_key`): the `created_at` (storage's
  clock, Unix seconds) of the newest user row that `/forget` deleted. The key names the user by
  a hash keyed with the bot token (as bot/checks.py does), so that nothing left after `/forget`
  names them; the bot computes it and the job carries it (`SynthRequest.forget_mark`). A job
  also carries the `created_at` of the row it was made for (`SynthRequest.user_since`); it is
  void if that is not later than the mark. A request admitted before the forget, whatever
  moment it reaches the queue, carries an older row's time; the same person coming back later
  gets a new row, and their new requests run. The mark is the user's, not a job's: purging a
  job's keys leaves it.
- `revoked-voice:<voice>`: a voice that jobs may no longer speak with. `*` (EVERYONE) when
  nobody may (the voice was deleted, or its owner forgotten); the owner's id when only its
  owner still may (withdrawn from the bank). A job carries the ids of the voices it speaks with
  (`SynthRequest.voice_ids`); another user's job with a revoked voice is settled with
  `voice_gone` and its user told the voice is no longer available.

Both marks expire after MARK_TTL, longer than any job lives (a request older than three hours
is taken back by the bot's sweeper; retries add minutes). Voice ids are never reused
(AUTOINCREMENT), so an expired mark cannot void a new voice.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from enum import StrEnum

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.results import Result

from worker.api.jobs import QUEUE, SERIALIZER
from worker.api.keys import (
    PURGE_PENDING,
    WORKERS_KEY,
    audio_key,
    cancel_key,
    lease_key,
    lost_key,
    revoked_voice_key,
    settled_key,
    upload_key,
)
from worker.api.payloads import SynthOutcome

log = logging.getLogger(__name__)

CANCEL_TTL = 24 * 3600
MARK_TTL = 7 * 24 * 3600  # of the forget and revoked-voice marks
EVERYONE = "*"  # a revoked voice's mark when nobody may speak with it any more

# KEYS: settled, queue, upload, cancel; ARGV[1] job id, ARGV[2] ttl
_CANCEL = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'done' end
if redis.call('LREM', KEYS[2], 0, ARGV[1]) > 0 then return 'removed' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'sending' end
redis.call('SET', KEYS[4], '1', 'EX', ARGV[2])
return 'flagged'
"""

# KEYS[1] forgotten mark; ARGV[1] the row's created_at. Keeps the newest of the two.
_FORGET = """
local before = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > before then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class Cancel(StrEnum):
    REMOVED = "removed"  # it was still queued: nothing will run
    FLAGGED = "flagged"  # a worker holds it and will drop it before sending
    SENDING = "sending"  # its upload has begun: too late
    DONE = "done"  # settled already


def cancel(redis: Redis, job_id: str) -> Cancel:
    """Take back a job if it can still be taken back; see the module docstring."""
    queue_key = Queue(QUEUE, connection=redis, serializer=SERIALIZER).key
    keys = [settled_key(job_id), queue_key, upload_key(job_id), cancel_key(job_id)]
    found = redis.register_script(_CANCEL)(keys=keys, args=[job_id, CANCEL_TTL])
    return Cancel(found.decode() if isinstance(found, bytes) else found)


def settled_outcome(redis: Redis, job_id: str) -> SynthOutcome | None:
    """The outcome recorded for `job_id`, or None while it is not settled."""
    raw = redis.get(settled_key(job_id))
    return SynthOutcome.from_dict(json.loads(raw)) if raw else None


def purge(redis: Redis, job_id: str) -> bool:
    """Remove what Redis holds of a job whose request is over: the job with its payload (the
    user's text and voice), its results (RQ 2 keeps them in a stream of their own, which
    `Job.delete` leaves behind: an embed job's holds the embedding and the recording), and
    every delivery key.

    A job that a worker still holds keeps everything (its settled mark is what stops a rerun
    from sending twice, its cancel flag what stops the send): the job id goes into
    PURGE_PENDING for the bot's sweeper to try again. False in that case.
    """
    try:
        job: Job | None = Job.fetch(job_id, connection=redis, serializer=SERIALIZER)
    except NoSuchJobError:
        job = None
    except (RedisError, ValueError, TypeError) as error:  # unreadable: it goes all the same
        log.warning("job %s is unreadable (%s); deleting its hash", job_id, error)
        redis.delete(Job.key_for(job_id))
        job = None
    held = redis.exists(lease_key(job_id))
    if held or (job is not None and job.get_status(refresh=False) == JobStatus.STARTED):
        redis.sadd(PURGE_PENDING, job_id)
        return False
    if job is not None:
        job.delete()
    redis.delete(
        settled_key(job_id),
        audio_key(job_id),
        upload_key(job_id),
        cancel_key(job_id),
        lost_key(job_id),
        lease_key(job_id),
        Result.get_key(job_id),
    )
    redis.srem(PURGE_PENDING, job_id)
    return True


def purge_pending(redis: Redis) -> int:
    """Try again the purges that waited for a worker; how many are still waiting."""
    waiting = 0
    for raw in redis.smembers(PURGE_PENDING):
        if not purge(redis, raw.decode()):
            waiting += 1
    return waiting


def ready_count_command() -> tuple[str, str, str, str]:
    """The one command that counts ready workers (for sync and async clients alike): a ZCOUNT
    of the heartbeats that have not run out (worker/queue/presence.py writes them)."""
    return ("ZCOUNT", WORKERS_KEY, str(time.time()), "+inf")


def mark_forgotten(redis: Redis, mark: str, created_at: float) -> None:
    """Void every job made for the user row created at `created_at` (or an older one) of the
    user whose mark is named `mark` (`forgotten_key`)."""
    redis.register_script(_FORGET)(keys=[mark], args=[repr(created_at), MARK_TTL])


def revoke_voices(redis: Redis, voice_ids: Iterable[int], *, owner_id: int | None = None) -> None:
    """Stop jobs speaking with `voice_ids`: everyone's, or with `owner_id`, all but that
    owner's (a voice withdrawn from the bank). A voice deleted outright stays revoked for all
    even if it is withdrawn after (it cannot be: it is gone), so `*` is never narrowed."""
    ids = list(voice_ids)
    if not ids:
        return
    with redis.pipeline() as pipe:
        for voice_id in ids:
            key = revoked_voice_key(voice_id)
            if owner_id is None:
                pipe.set(key, EVERYONE, ex=MARK_TTL)
            else:
                pipe.set(key, str(owner_id), ex=MARK_TTL, nx=True)
        pipe.execute()
    log.info("voices %s revoked%s", ids, "" if owner_id is None else f" for all but {owner_id}")


def restore_voice(redis: Redis, voice_id: int, owner_id: int) -> None:
    """A voice published again: others' jobs may use it again (unless it was revoked for all,
    which a voice that still exists never is)."""
    key = revoked_voice_key(voice_id)
    if redis.get(key) == str(owner_id).encode():
        redis.delete(key)
