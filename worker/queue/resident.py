"""The RQ worker class: models resident in the process, failures settled by policy.

RQ's default `Worker` forks a child ("work horse") per job. Our jobs need ~400 MB of weights
already in memory and, on a GPU host, a CUDA context, which a forked child cannot inherit;
forking would mean loading the models again for every job. So this worker subclasses
`SimpleWorker`, which runs each job in the worker process itself, and the models are loaded
once, before the first job (worker/runtime.py). The cost: a job that crashes the interpreter
takes the worker with it, which is what the job leases (worker/queue/delivery.py,
worker/queue/recovery.py) are for.

Beside RQ's loop, a housekeeping thread keeps the readiness heartbeat the bot counts, refreshes
the lease on the running job, puts back the jobs of dead workers, and moves retries whose
backoff has elapsed back onto the queue. RQ would do the last in a forked scheduler process;
forking a process that holds the models and a CUDA context is what we avoid, and a forked
scheduler would outlive a killed worker. So RQ's `RQScheduler` does it here, in-thread.

Stopping (SIGTERM or SIGINT): RQ's warm shutdown lets the running job finish. If it has not
finished after `release_after` seconds, the job is handed back (to the front of the queue,
under the same lease check as an upload, so never in the middle of sending) and the process
exits: whoever runs the job next starts it afresh, without waiting for a lease to run out.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DeserializationError
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.worker import SimpleWorker

from worker.api import ERROR_CODE_META, JOB_FUNCTIONS, SERIALIZER, SYNTH_JOB, SynthRequest
from worker.api.keys import lease_key, upload_key
from worker.queue import presence
from worker.queue.delivery import LeaseLost
from worker.queue.failures import error_code, is_transient, settle_failed_synth
from worker.queue.recovery import DEFAULT_RELEASE_AFTER, recover_orphans
from worker.runtime import Runtime

log = logging.getLogger(__name__)

PROMOTE_LOCK = "voiceclone:retry-promotion-lock"
PUBSUB_POLL_SECONDS = 1.0
# Job hash fields that name more functions for RQ to import and call; none of our jobs has them.
CALLBACK_FIELDS = ("success_callback_name", "failure_callback_name", "stopped_callback_name")

# KEYS: lease, upload mark, intermediate list, started registry, queue, job hash
# ARGV: token, job id
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('LREM', KEYS[3], 0, ARGV[2])
for _, member in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  if string.sub(member, 1, string.len(ARGV[2]) + 1) == ARGV[2] .. ':' then
    redis.call('ZREM', KEYS[4], member)
  end
end
redis.call('HSET', KEYS[6], 'status', 'queued')
redis.call('LPUSH', KEYS[5], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
"""


class ResidentWorker(SimpleWorker):
    """Runs jobs in-process with the models of `runtime`; see the module docstring for why."""

    def __init__(
        self,
        queues: Sequence[str],
        *,
        runtime: Runtime,
        connection: Redis,
        release_after: float = DEFAULT_RELEASE_AFTER,
        **kwargs: Any,
    ) -> None:
        super().__init__(list(queues), connection=connection, serializer=SERIALIZER, **kwargs)
        self.runtime = runtime
        self.lease = runtime.lease
        self.release_after = release_after
        self._release_timer: threading.Timer | None = None
        self.stop_asked = False  # RQ's loop also ends when Redis goes away; this tells which
        self.push_exc_handler(self.apply_failure_policy)

    def subscribe(self) -> None:
        """RQ's command channel, listened to as RQ does but with a 1 s poll: redis-py 8's
        `PubSubWorkerThread.stop()` waits for the poll in progress, so RQ's 60 s poll held
        every worker's stop (and every start-over after Redis went away) up to a minute."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )

    def execute_job(self, job: Job, queue: Queue) -> None:
        refusal = foreign_call(job)
        if refusal is not None:
            self.refuse(job, queue, refusal)
            return
        # The lease is taken before RQ registers the job as started and dropped after RQ has
        # finished with it, so a taken job without a lease always means a dead worker.
        if self.lease.take(job.id) is None:
            # Another live execution holds this job: we were handed a second copy of it (a
            # worker that stalled past its lease and came back). Leave it to the holder.
            log.warning("job %s is already running elsewhere; skipping this copy", job.id)
            self.connection.lrem(queue.intermediate_queue_key, 1, job.id)
            return
        try:
            super().execute_job(job, queue)
        finally:
            self.lease.drop()

    def refuse(self, job: Job, queue: Queue, refusal: str) -> None:
        """Drop a job that is not one of ours, unrun: only someone who can write to Redis puts
        one there, so it is logged as the attack it is, once (the job is gone after)."""
        log.warning(
            "job %s refused: %s; someone wrote it into Redis. Deleted unrun.", job.id, refusal
        )
        try:
            self.connection.lrem(queue.intermediate_queue_key, 0, job.id)
            job.delete()
        except RedisError as error:
            log.warning("could not delete the refused job %s: %s", job.id, error)

    def apply_failure_policy(
        self,
        job: Job,
        exc_type: type[BaseException],
        error: BaseException,
        traceback: TracebackType | Any,
    ) -> bool:
        """Keep retries only for transient failures; settle a synth job that failed for good."""
        if isinstance(error, LeaseLost):
            log.warning("job %s: %s; leaving it to its new holder", job.id, error)
            job.retries_left = 0  # nothing for this execution to retry: the holder has it
            return True
        code = error_code(error)
        if not is_transient(error):
            job.retries_left = 0
        job.meta[ERROR_CODE_META] = code
        try:
            job.save_meta()
        except RedisError as redis_error:
            log.warning("job %s: could not record its error code: %s", job.id, redis_error)
        try:
            function = job.func_name
        except DeserializationError:
            # Not JSON: planted or corrupted (it was never unpickled). Nothing to run or answer;
            # the bot's sweeper fails the request it belongs to, if any.
            log.error("job %s holds data that is not JSON; dropping it", job.id)
            job.retries_left = 0
            return True
        if job.should_retry:
            log.warning("job %s failed (%s), will retry: %s", job.id, code, error)
        elif function == SYNTH_JOB:
            try:
                request = SynthRequest.from_dict(job.args[0])
            except (IndexError, TypeError) as bad:
                log.error("job %s: cannot read its request to answer the user: %s", job.id, bad)
                return True
            settle_failed_synth(
                self.runtime.redis,
                self.runtime.telegram,
                job.id,
                request,
                code,
                token=self.lease.token,
            )
        return True

    # --- stopping ---------------------------------------------------------------------

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)
        if self.lease.job_id is not None and self._release_timer is None:
            log.info(
                "will hand the running job back if it is not done in %.0f s", self.release_after
            )
            self._release_timer = threading.Timer(self.release_after, self.release_and_exit)
            self._release_timer.daemon = True
            self._release_timer.start()

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        """A second stop request: hand the job back now rather than fail it mid-way (RQ's cold
        shutdown would raise inside the job, and the user would get an apology for nothing)."""
        if self.lease.job_id is None:
            super().request_force_stop(signum, frame)
            return
        self.release_and_exit()

    def release_and_exit(self) -> None:
        """Hand the running job back to the queue and end the process (see the docstring)."""
        job_id, token = self.lease.job_id, self.lease.token
        if job_id is None or token is None:
            return  # it finished meanwhile; RQ's loop is stopping on its own
        queue = Queue(self.queue_names()[0], connection=self.connection, serializer=SERIALIZER)
        keys = [
            lease_key(job_id),
            upload_key(job_id),
            queue.intermediate_queue_key,
            queue.started_job_registry.key,
            queue.key,
            Job.key_for(job_id),
        ]
        try:
            released = self.connection.register_script(_RELEASE)(keys=keys, args=[token, job_id])
        except RedisError as error:
            log.error("could not hand job %s back (%s); its lease will run out", job_id, error)
            released = 0
        if int(released) == -1:
            log.info("job %s is being sent; letting it finish", job_id)
            self._release_timer = threading.Timer(2.0, self.release_and_exit)
            self._release_timer.daemon = True
            self._release_timer.start()
            return
        if int(released) == 1:
            log.info("stopping: job %s handed back to the queue", job_id)
        presence.withdraw_quietly(self.connection, self.name)
        logging.shutdown()
        os._exit(0)


def foreign_call(job: Job) -> str | None:
    """Why `job` is not a call of one of our job functions (worker.api.JOB_FUNCTIONS), or None
    when it is. Reads the job's JSON and hash only: nothing it names is imported. Data that is
    not JSON passes here and fails in RQ's own path, still unread (RQ's JSONSerializer)."""
    try:
        name, instance = job.func_name, job.instance
    except DeserializationError:
        return None
    if not isinstance(name, str) or name not in JOB_FUNCTIONS:
        return f"it names the function {str(name)[:200]!r}"
    if instance is not None:
        return "it names an instance to call a method of"
    named = job.connection.hmget(job.key, list(CALLBACK_FIELDS))
    callbacks = [field for field, value in zip(CALLBACK_FIELDS, named, strict=True) if value]
    if callbacks:
        return f"it names callbacks ({', '.join(callbacks)})"
    return None


class Housekeeper(threading.Thread):
    """Heartbeat, lease, orphan recovery and due retries, every `interval` seconds."""

    def __init__(
        self,
        worker: ResidentWorker,
        *,
        interval: float = 2.0,
        recover_every: int = 2,
    ) -> None:
        super().__init__(name="housekeeper", daemon=True)
        self._worker = worker
        self._redis = worker.runtime.redis
        self._interval = interval
        self._recover_every = recover_every
        self._stopping = threading.Event()
        self._info = {"name": worker.name, "pid": worker.pid, **worker.runtime.describe()}
        # RQ's scheduler guards its work with per-queue locks that outlive a killed holder by
        # a minute; retries would wait that long after a crash. A lock shorter than one tick
        # does the same job here: one worker at a time moves due jobs, and a dead one's
        # lock is gone before the next tick.
        self._scheduler = RQScheduler(
            worker.queue_names(), connection=self._redis, serializer=SERIALIZER
        )
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
            recover_orphans(self._redis, self._worker.queues)
        self.enqueue_due_retries()

    def beat(self) -> None:
        presence.beat(self._redis, self._worker.name, self._info)

    def enqueue_due_retries(self) -> None:
        """Put jobs whose retry backoff is over back on their queues (one worker at a time)."""
        if self._redis.set(PROMOTE_LOCK, self._worker.name, nx=True, px=self._promote_lock_ms):
            self._scheduler.enqueue_scheduled_jobs()

    def stop(self, *, withdraw: bool = True) -> None:
        """Stop the thread; `withdraw` the heartbeat too, unless the process goes on (a new
        RQ worker is about to take over in it, with the same models ready)."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=self._interval + 5)
        if withdraw:
            presence.withdraw_quietly(self._redis, self._worker.name)


__all__ = ["DEFAULT_RELEASE_AFTER", "Housekeeper", "ResidentWorker"]
