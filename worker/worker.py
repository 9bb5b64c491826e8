"""The RQ worker class: models resident in the process, failures settled by policy.

RQ's default `Worker` forks a child ("work horse") per job. Our jobs need ~400 MB of weights
already in memory and, on a GPU host, a CUDA context, which a forked child cannot inherit;
forking would mean loading the models again for every job. So this worker subclasses
`SimpleWorker`, which runs each job in the worker process itself, and the models are loaded
once, before the first job (worker/runtime.py). The cost: a job that crashes the interpreter
takes the worker with it, which is what the job leases (worker/recovery.py) are for.

Beside RQ's loop, a housekeeping thread keeps the readiness heartbeat the bot looks for,
refreshes the lease on the running job, requeues jobs of dead workers, and moves retries
whose backoff has elapsed back onto their queues. RQ would do the last in a forked scheduler
process; forking a process that holds the models and a CUDA context is what we avoid, and a
forked scheduler would outlive a killed worker. So RQ's `RQScheduler` does it here, in-thread.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.worker import SimpleWorker

from worker.api import (
    ERROR_CODE_META,
    SYNTH_JOB,
    WORKER_HEARTBEAT_PREFIX,
    WORKER_HEARTBEAT_TTL,
    SynthRequest,
)
from worker.failures import error_code, is_transient, settle_failed_synth
from worker.recovery import JobLease, recover_orphans
from worker.runtime import Runtime

log = logging.getLogger(__name__)

PROMOTE_LOCK = "voiceclone:retry-promotion-lock"


class ResidentWorker(SimpleWorker):
    """Runs jobs in-process with the models of `runtime`; see the module docstring for why."""

    def __init__(
        self,
        queues: Sequence[str],
        *,
        runtime: Runtime,
        connection: Redis,
        lease_seconds: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(list(queues), connection=connection, **kwargs)
        self.runtime = runtime
        self.lease = JobLease(runtime.redis, self.name, lease_seconds)
        self.push_exc_handler(self.apply_failure_policy)

    def execute_job(self, job: Job, queue: Queue) -> None:
        # The lease is taken before RQ registers the job as started and dropped after RQ has
        # finished with it, so a started job without a lease always means a dead worker.
        self.lease.take(job.id)
        try:
            super().execute_job(job, queue)
        finally:
            self.lease.drop()

    def apply_failure_policy(
        self,
        job: Job,
        exc_type: type[BaseException],
        error: BaseException,
        traceback: TracebackType | Any,
    ) -> bool:
        """Keep retries only for transient failures; settle a synth job that failed for good."""
        code = error_code(error)
        if not is_transient(error):
            job.retries_left = 0
        job.meta[ERROR_CODE_META] = code
        try:
            job.save_meta()
        except RedisError as redis_error:
            log.warning("job %s: could not record its error code: %s", job.id, redis_error)
        if job.should_retry:
            log.warning("job %s failed (%s), will retry: %s", job.id, code, error)
        elif job.func_name == SYNTH_JOB:
            try:
                request = SynthRequest.from_dict(job.args[0])
            except (IndexError, TypeError) as bad:
                log.error("job %s: cannot read its request to answer the user: %s", job.id, bad)
                return True
            settle_failed_synth(self.runtime.redis, self.runtime.telegram, job.id, request, code)
        return True


class Housekeeper(threading.Thread):
    """Heartbeat, lease, orphan recovery and due retries, every `interval` seconds."""

    def __init__(
        self,
        worker: ResidentWorker,
        *,
        interval: float = 2.0,
        recover_every: int = 3,
    ) -> None:
        super().__init__(name="housekeeper", daemon=True)
        self._worker = worker
        self._redis = worker.runtime.redis
        self._interval = interval
        self._recover_every = recover_every
        self._stopping = threading.Event()
        self._heartbeat_key = WORKER_HEARTBEAT_PREFIX + worker.name
        self._heartbeat_value = json.dumps(
            {"name": worker.name, "pid": worker.pid, **worker.runtime.describe()}
        )
        # RQ's scheduler guards its work with per-queue locks that outlive a killed holder by
        # a minute; retries would wait that long after a crash. A lock shorter than one tick
        # does the same job here: one worker at a time moves due jobs, and a dead one's
        # lock is gone before the next tick.
        self._scheduler = RQScheduler(worker.queue_names(), connection=self._redis)
        self._scheduler.prepare_registries(worker.queue_names())
        self._promote_lock_ms = max(100, int(interval * 750))

    def run(self) -> None:
        ticks = 0
        while True:
            try:
                self.tick(recover=ticks % self._recover_every == 0)
            except RedisError as error:
                log.warning("housekeeping: Redis is unreachable: %s", error)
            except Exception:
                log.exception("housekeeping failed; trying again at the next tick")
            ticks += 1
            if self._stopping.wait(self._interval):
                return

    def tick(self, *, recover: bool) -> None:
        self.beat()
        self._worker.lease.refresh()
        if recover:
            recover_orphans(self._redis, self._worker.queues, [self._worker.apply_failure_policy])
        self.enqueue_due_retries()

    def beat(self) -> None:
        self._redis.set(self._heartbeat_key, self._heartbeat_value, ex=WORKER_HEARTBEAT_TTL)

    def enqueue_due_retries(self) -> None:
        """Put jobs whose retry backoff is over back on their queues (one worker at a time)."""
        if self._redis.set(PROMOTE_LOCK, self._worker.name, nx=True, px=self._promote_lock_ms):
            self._scheduler.enqueue_scheduled_jobs()

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=self._interval + 5)
        try:
            self._redis.delete(self._heartbeat_key)
        except RedisError as error:
            log.warning("could not withdraw the heartbeat: %s", error)
