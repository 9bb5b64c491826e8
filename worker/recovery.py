"""Jobs whose worker died (SIGKILL, OOM, power loss) go back on their queue within seconds.

RQ notices a dead worker's job only when its StartedJobRegistry entry expires, which for an
in-process worker is the job's whole timeout plus a minute later, and only at the next
registry cleaning (every 10 minutes). Too slow for a user waiting on a voice note. So each of
our workers holds a short lease (`voiceclone:job-lease:<job id>`, refreshed every few
seconds by its housekeeping thread) on the job it runs, taken before RQ registers the job as
started and dropped after RQ has moved it on. A started job without a lease therefore has no
live worker: any worker may claim it (ZREM of its registry entry decides who) and put it back
at the front of its queue, spending one of the retries the bot gave it. Without retries left
it is handed to RQ's own abandoned-job path, which fails it and runs the exception handlers
(the user gets an apology).

This assumes only our worker class runs these queues: a plain `rq worker` holds no lease.

One window stays open: listening on two queues, RQ pops a job with BLPOP (it keeps no
intermediate list for several queues), so a worker killed in the instant between that pop and
taking the lease loses the job; its status stays "queued" with no queue holding it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.utils import parse_composite_key

log = logging.getLogger(__name__)

LEASE_PREFIX = "voiceclone:job-lease:"
DEFAULT_LEASE_SECONDS = 15


def lease_key(job_id: str) -> str:
    return LEASE_PREFIX + job_id


class JobLease:
    """The lease on the job this worker is running, shared with its housekeeping thread."""

    def __init__(self, redis: Redis, holder: str, seconds: int = DEFAULT_LEASE_SECONDS) -> None:
        self._redis = redis
        self._holder = holder
        self.seconds = seconds
        self._lock = threading.Lock()
        self._job_id: str | None = None

    def take(self, job_id: str) -> None:
        with self._lock:
            self._job_id = job_id
            self._redis.set(lease_key(job_id), self._holder, ex=self.seconds)

    def drop(self) -> None:
        with self._lock:
            if self._job_id is not None:
                self._redis.delete(lease_key(self._job_id))
            self._job_id = None

    def refresh(self) -> None:
        with self._lock:
            if self._job_id is not None:
                self._redis.set(lease_key(self._job_id), self._holder, ex=self.seconds)


ExceptionHandler = Callable[..., object]


def orphaned_entries(redis: Redis, queue: Queue) -> list[str]:
    """Started-registry entries (`job_id:execution_id`) of `queue` that no worker leases."""
    entries = [e.decode() for e in redis.zrange(queue.started_job_registry.key, 0, -1)]
    return [e for e in entries if not redis.exists(lease_key(parse_composite_key(e)[0]))]


def recover_orphans(
    redis: Redis, queues: Sequence[Queue], exception_handlers: Sequence[ExceptionHandler] = ()
) -> list[str]:
    """Requeue (or fail, without retries left) every started job that lost its worker."""
    recovered: list[str] = []
    for queue in queues:
        registry = queue.started_job_registry
        for entry in orphaned_entries(redis, queue):
            job_id = parse_composite_key(entry)[0]
            if not redis.zrem(registry.key, entry):
                continue  # another worker claimed it first
            try:
                job = Job.fetch(job_id, connection=redis, serializer=queue.serializer)
            except NoSuchJobError:
                continue
            if job.retries_left:
                job.retries_left -= 1
                queue.enqueue_job(job, at_front=True)
                log.warning(
                    "job %s lost its worker; queued again (%s retries left)",
                    job_id,
                    job.retries_left,
                )
            else:
                log.warning("job %s lost its worker and has no retries left; failing it", job_id)
                redis.zadd(registry.key, {entry: 0})  # expired now: RQ's cleanup fails it
                registry.cleanup(exception_handlers=list(exception_handlers))
            recovered.append(job_id)
    return recovered
