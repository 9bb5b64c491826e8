"""Jobs whose worker died (SIGKILL, OOM, power loss) go back on the queue within seconds.

Between being taken and being finished, a job is always in one of two places: the queue's
intermediate list (RQ moves it there with BLMOVE when a worker takes it, see worker/api/jobs.py)
until RQ registers it as started, then the StartedJobRegistry. The worker running it holds a
lease (worker/queue/delivery.py), taken right after the BLMOVE and dropped after RQ has moved the
job on, and refreshed every few seconds by its housekeeping thread. An entry in either place
with no lease therefore has no live worker, or a worker in the few milliseconds between the
BLMOVE and taking the lease: so an entry is put back only when it is seen without a lease
twice, at least GRACE_SECONDS apart.

RQ itself notices a dead worker's job only when its registry entry expires (the job's whole
timeout later) and fails it; for a user waiting on a voice note that is far too slow.

Putting an orphan back is one Lua script: the entry leaves its place, the job's status becomes
queued, one retry is spent and the job goes to the front of the queue, all or nothing, so a
worker killed while recovering cannot strand the job in between. A job that has no retry left
is still put back, marked lost: its next run fails it through the normal path, which answers
the user (worker/queue/failures.py).

This assumes only our worker class runs these jobs: a plain `rq worker` holds no lease.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis import Redis
from rq import Queue
from rq.utils import parse_composite_key

from worker.api.keys import key, lease_key, lost_key

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 15
DEFAULT_RELEASE_AFTER = 8.0  # a stopping worker's job: seconds to finish before it goes back
GRACE_SECONDS = 3.0


def suspect_key(job_id: str) -> str:
    return key("suspect", job_id)


# KEYS: source, queue, job hash, lease, suspect, lost
# ARGV: member of source, job id, 'list' | 'zset', grace seconds
_RECOVER = """
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('DEL', KEYS[5])
  return 'alive'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local first = redis.call('GET', KEYS[5])
if not first then
  redis.call('SET', KEYS[5], tostring(now), 'EX', 3600)
  return 'suspect'
end
if now - tonumber(first) < tonumber(ARGV[4]) then return 'suspect' end
local removed
if ARGV[3] == 'list' then
  removed = redis.call('LREM', KEYS[1], 0, ARGV[2])
else
  removed = redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('DEL', KEYS[5])
if removed == 0 then return 'gone' end
if redis.call('EXISTS', KEYS[3]) == 0 then return 'nojob' end
local left = tonumber(redis.call('HGET', KEYS[3], 'retries_left') or '0') or 0
if left > 0 then
  redis.call('HSET', KEYS[3], 'retries_left', tostring(left - 1))
else
  redis.call('SET', KEYS[6], '1', 'EX', 86400)
end
redis.call('HSET', KEYS[3], 'status', 'queued')
redis.call('LPUSH', KEYS[2], ARGV[2])
return 'requeued'
"""


def _entries(redis: Redis, queue: Queue) -> list[tuple[str, str, str, str]]:
    """(source key, member, job id, kind) of every job taken from `queue` and not finished."""
    found = []
    for raw in redis.lrange(queue.intermediate_queue_key, 0, -1):
        job_id = raw.decode()
        found.append((queue.intermediate_queue_key, job_id, job_id, "list"))
    registry = queue.started_job_registry.key
    for raw in redis.zrange(registry, 0, -1):
        member = raw.decode()
        found.append((registry, member, parse_composite_key(member)[0], "zset"))
    return found


def recover_orphans(
    redis: Redis, queues: Sequence[Queue], grace: float = GRACE_SECONDS
) -> list[str]:
    """Put back every job that lost its worker; the ids of those put back."""
    script = redis.register_script(_RECOVER)
    recovered: list[str] = []
    for queue in queues:
        for source, member, job_id, kind in _entries(redis, queue):
            keys = [
                source,
                queue.key,
                queue.job_class.key_for(job_id),
                lease_key(job_id),
                suspect_key(job_id),
                lost_key(job_id),
            ]
            found = script(keys=keys, args=[member, job_id, kind, grace])
            found = found.decode() if isinstance(found, bytes) else found
            if found == "requeued":
                lost = redis.exists(lost_key(job_id))
                log.warning(
                    "job %s lost its worker; queued again%s",
                    job_id,
                    " (no retries left: it will fail with an apology)" if lost else "",
                )
                recovered.append(job_id)
            elif found == "nojob":
                log.info("dropped an entry of job %s, which no longer exists", job_id)
    return recovered
