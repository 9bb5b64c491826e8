"""The bot's side of the job queue: enqueue embed/synth jobs by dotted path, watch them.

RQ's client is synchronous; every call that touches Redis runs in a thread
(`asyncio.to_thread`) so the event loop never blocks. Cheap checks that run on every message
(worker heartbeat, pending recordings) use the asyncio Redis client instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from rq import Queue, Retry
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from worker.api import (
    EMBED_JOB,
    EMBED_JOB_TIMEOUT,
    EMBED_QUEUE,
    ERROR_CODE_META,
    ERROR_CODES,
    JOB_RETRY_INTERVALS,
    JOB_RETRY_MAX,
    SYNTH_JOB,
    SYNTH_QUEUE,
    WORKER_HEARTBEAT_PREFIX,
    EmbedRequest,
    EmbedResult,
    SynthRequest,
    synth_job_timeout,
)

log = logging.getLogger(__name__)

KEY_PREFIX = "voiceclone:bot:"
PENDING_TTL_SECONDS = 15 * 60
# The worker spends retries only on transient failures; bad input fails at once.
RETRY = Retry(max=JOB_RETRY_MAX, interval=list(JOB_RETRY_INTERVALS))
POLL_SECONDS = 0.25
_ERROR_CODE_IN_TRACEBACK = re.compile(r"(?:Embed|Job)Error: (\w+)")
_OPEN_STATUSES = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
    JobStatus.CREATED,
}


def synth_job_id(request_id: int) -> str:
    """Synth jobs are named after their request row, so the bot can find them again."""
    return f"synth-{request_id}"


@dataclass(frozen=True, slots=True)
class EmbedOutcome:
    result: EmbedResult | None
    error_code: str | None  # one of ERROR_CODES, or "timeout"


@dataclass(frozen=True, slots=True)
class QueueTimeouts:
    embed_wait_seconds: float  # how long the bot waits for an embedding before giving up
    result_ttl_seconds: int  # how long finished and failed jobs stay in Redis


def error_code_of(job: Job) -> str:
    """The worker's error code for a failed job: job.meta first, then the traceback."""
    code = job.meta.get(ERROR_CODE_META)
    if isinstance(code, str) and code in ERROR_CODES:
        return code
    found = _ERROR_CODE_IN_TRACEBACK.search(job.exc_info or "")
    if found and found.group(1) in ERROR_CODES:
        return found.group(1)
    return "internal"


class JobQueue:
    def __init__(self, redis_url: str, timeouts: QueueTimeouts) -> None:
        self._sync = redis.Redis.from_url(redis_url)
        self.redis = aioredis.Redis.from_url(redis_url)
        self.timeouts = timeouts
        self.embed_queue = Queue(EMBED_QUEUE, connection=self._sync)
        self.synth_queue = Queue(SYNTH_QUEUE, connection=self._sync)

    async def close(self) -> None:
        await self.redis.aclose()
        await asyncio.to_thread(self._sync.close)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # ---------------------------------------------------------------- workers and limits

    async def workers_ready(self) -> int:
        count = 0
        async for _ in self.redis.scan_iter(match=f"{WORKER_HEARTBEAT_PREFIX}*", count=100):
            count += 1
        return count

    # ------------------------------------------------- recordings waiting for a decision

    async def put_pending(self, user_id: int, request: EmbedRequest) -> None:
        key = f"{KEY_PREFIX}pending:{user_id}"
        await self.redis.set(key, json.dumps(request.to_dict()), ex=PENDING_TTL_SECONDS)

    async def take_pending(self, user_id: int) -> EmbedRequest | None:
        raw = await self.redis.getdel(f"{KEY_PREFIX}pending:{user_id}")
        return None if raw is None else EmbedRequest(**json.loads(raw))

    async def drop_pending(self, user_id: int) -> bool:
        return bool(await self.redis.delete(f"{KEY_PREFIX}pending:{user_id}"))

    # -------------------------------------------------------------------------- embedding

    async def embed(self, request: EmbedRequest) -> EmbedOutcome:
        """Enqueue an embed job and wait for it (at most `embed_wait_seconds`)."""
        job = await asyncio.to_thread(
            self.embed_queue.enqueue,
            EMBED_JOB,
            request.to_dict(),
            job_id=f"embed-{uuid.uuid4().hex}",
            job_timeout=EMBED_JOB_TIMEOUT,
            result_ttl=self.timeouts.result_ttl_seconds,
            failure_ttl=self.timeouts.result_ttl_seconds,
            retry=RETRY,
        )
        deadline = time.monotonic() + self.timeouts.embed_wait_seconds
        while time.monotonic() < deadline:
            status = await asyncio.to_thread(_status_or_none, job)
            if status == JobStatus.FINISHED:
                value = await asyncio.to_thread(job.return_value, True)
                return EmbedOutcome(_embed_result(value), None)
            if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, None):
                code = await asyncio.to_thread(_refreshed_error_code, job)
                return EmbedOutcome(None, code)
            await asyncio.sleep(POLL_SECONDS)
        await asyncio.to_thread(_cancel_quietly, job)
        return EmbedOutcome(None, "timeout")

    # ------------------------------------------------------------------------- synthesis

    async def enqueue_synth(self, request: SynthRequest) -> int | None:
        """Enqueue; returns the 1-based place in the synth queue (None if unknown)."""
        job = await asyncio.to_thread(
            self.synth_queue.enqueue,
            SYNTH_JOB,
            request.to_dict(),
            job_id=synth_job_id(request.request_id),
            job_timeout=synth_job_timeout(request.text),
            result_ttl=self.timeouts.result_ttl_seconds,
            failure_ttl=self.timeouts.result_ttl_seconds,
            retry=RETRY,
            description=f"synth request {request.request_id} ({len(request.text)} chars)",
        )
        position = await asyncio.to_thread(job.get_position)
        return None if position is None else position + 1

    async def synth_state(self, request_id: int) -> JobStatus | None:
        """The synth job's status, None when the job is gone (expired or never existed)."""
        return await asyncio.to_thread(self._synth_state, request_id)

    def _synth_state(self, request_id: int) -> JobStatus | None:
        try:
            job = Job.fetch(synth_job_id(request_id), connection=self._sync)
        except NoSuchJobError:
            return None
        return _status_or_none(job)

    async def cancel_synth(self, request_id: int) -> bool:
        """Cancel a synth job that no worker has started; False if it is running or over."""
        return await asyncio.to_thread(self._cancel_synth, request_id)

    def _cancel_synth(self, request_id: int) -> bool:
        try:
            job = Job.fetch(synth_job_id(request_id), connection=self._sync)
        except NoSuchJobError:
            return True  # nothing left to run
        if _status_or_none(job) in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            return _cancel_quietly(job)
        return False

    async def queue_lengths(self) -> tuple[int, int]:
        return await asyncio.to_thread(lambda: (len(self.embed_queue), len(self.synth_queue)))


def is_open(status: JobStatus | None) -> bool:
    return status in _OPEN_STATUSES


def _status_or_none(job: Job) -> JobStatus | None:
    try:
        return job.get_status(refresh=True)
    except (NoSuchJobError, InvalidJobOperation):
        return None


def _refreshed_error_code(job: Job) -> str:
    try:
        job.refresh()
    except NoSuchJobError:
        return "internal"
    return error_code_of(job)


def _cancel_quietly(job: Job) -> bool:
    try:
        job.cancel()
    except (InvalidJobOperation, NoSuchJobError):
        return False
    return True


def _embed_result(value: Any) -> EmbedResult | None:
    if isinstance(value, EmbedResult):
        return value
    if isinstance(value, dict):
        try:
            return EmbedResult.from_dict(value)
        except TypeError:
            log.error("embed job returned an unexpected dict: keys %s", sorted(value))
    return None
