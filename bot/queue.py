"""The bot's side of the job queue: enqueue embed, check and synth jobs by dotted path, watch them,
take them back, and clear out of Redis what a finished request no longer needs.

RQ's client is synchronous; every call that touches RQ runs in a thread (`asyncio.to_thread`)
so the event loop never blocks. Cheap checks that run on every message (is a worker ready?
a pending recording?) use the asyncio Redis client instead. Jobs go in and come out as JSON
(worker.api.SERIALIZER): nothing the bot reads from Redis is unpickled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from worker.api import (
    CHECK_JOB,
    EMBED_JOB,
    EMBED_JOB_TIMEOUT,
    ERROR_CODE_META,
    ERROR_CODES,
    JOB_RETRY_INTERVALS,
    JOB_RETRY_MAX,
    QUEUE,
    RESULTS_DEAD_COUNT,
    SERIALIZER,
    SYNTH_JOB,
    Cancel,
    CheckResult,
    EmbedRequest,
    EmbedResult,
    SynthOutcome,
    SynthRequest,
    calls,
    check_job_id,
    embed_job_id,
    synth_job_id,
    synth_job_timeout,
)

log = logging.getLogger(__name__)

KEY_PREFIX = "voiceclone:bot:"
PENDING_TTL_SECONDS = 15 * 60
# The worker spends retries only on failures that prove nothing was sent; bad input fails at once.
RETRY = Retry(max=JOB_RETRY_MAX, interval=list(JOB_RETRY_INTERVALS))
POLL_SECONDS = 0.25
# An embed job's result holds the recording: kept only as long as the bot may still read it.
EMBED_RESULT_TTL = 120
_ERROR_CODE_IN_TRACEBACK = re.compile(r"(?:Embed|Job)Error: (\w+)")


@dataclass(frozen=True, slots=True)
class EmbedOutcome:
    result: EmbedResult | None
    error_code: str | None  # one of ERROR_CODES, or "timeout"


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    result: CheckResult | None
    error_code: str | None  # one of ERROR_CODES, or "timeout"


@dataclass(frozen=True, slots=True)
class QueueTimeouts:
    embed_wait_seconds: float  # how long the bot waits for an embedding before giving up
    result_ttl_seconds: int  # how long failed jobs stay in Redis for inspection


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
        self.url = redis_url
        self.timeouts = timeouts
        self.queue = Queue(QUEUE, connection=self._sync, serializer=SERIALIZER)
        # Told (kind, error code or None) of every recording and check the bot waited for:
        # the metrics (bot/background/metrics.py).
        self.observer: Callable[[str, str | None], None] | None = None

    async def close(self) -> None:
        await self.redis.aclose()
        await asyncio.to_thread(self._sync.close)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # ---------------------------------------------------------------- workers and limits

    async def workers_ready(self) -> int:
        """How many workers have their models loaded: one ZCOUNT (worker/api/calls.py)."""
        return int(await self.redis.execute_command(*calls.ready_count_command()))

    # ------------------------------------------------- recordings waiting for a decision

    def _pending_key(self, user_id: int) -> str:
        return f"{KEY_PREFIX}pending:{user_id}"

    async def put_pending(self, user_id: int, request: EmbedRequest) -> None:
        await self.redis.set(
            self._pending_key(user_id), json.dumps(request.to_dict()), ex=PENDING_TTL_SECONDS
        )

    async def take_pending(self, user_id: int) -> EmbedRequest | None:
        raw = await self.redis.getdel(self._pending_key(user_id))
        return None if raw is None else EmbedRequest.from_dict(json.loads(raw))

    async def drop_pending(self, user_id: int) -> bool:
        return bool(await self.redis.delete(self._pending_key(user_id)))

    # -------------------------------------------------------------------------- embedding

    async def embed(self, request_id: int, request: EmbedRequest) -> EmbedOutcome:
        """Enqueue the embed job of request `request_id` (at the front: recordings are short
        and a user waits on them) and wait for it, at most `embed_wait_seconds`. Whatever
        happens, the job and its result (which holds the recording) leave Redis after."""
        job_id = embed_job_id(request_id)
        job = await self._enqueue_awaited(EMBED_JOB, request, job_id)
        value, code = await self._wait_and_drop(job)
        self._observe("embed", code)
        return EmbedOutcome(_embed_result(value) if code is None else None, code)

    async def check(self, token: str, request: EmbedRequest) -> CheckOutcome:
        """A watermark check of the file in `request` (job `check-<token>`), like `embed`:
        at the front of the queue, awaited at most `embed_wait_seconds`, then cleared out.
        The front, as for recordings: a short job a user waits on. It overtakes only other
        users' speech: a check is admitted only while its user has nothing else open
        (bot/checks.py)."""
        job = await self._enqueue_awaited(CHECK_JOB, request, check_job_id(token))
        value, code = await self._wait_and_drop(job)
        self._observe("check", code)
        return CheckOutcome(_check_result(value) if code is None else None, code)

    def _observe(self, kind: str, code: str | None) -> None:
        if self.observer is not None:
            self.observer(kind, code)

    async def _enqueue_awaited(self, function: str, request: EmbedRequest, job_id: str) -> Job:
        """A short job a user waits on (a recording, a check): at the front of the queue, its
        result (which may hold the user's audio) kept only as long as the bot may read it."""
        return await asyncio.to_thread(
            self.queue.enqueue,
            function,
            request.to_dict(),
            job_id=job_id,
            at_front=True,
            job_timeout=EMBED_JOB_TIMEOUT,
            result_ttl=EMBED_RESULT_TTL,
            failure_ttl=EMBED_RESULT_TTL,
            retry=RETRY,
        )

    async def _wait_and_drop(self, job: Job) -> tuple[Any, str | None]:
        """(return value, None) of a finished job, or (None, error code); the job leaves
        Redis after, taken back first if it may still run."""
        outcome: tuple[Any, str | None] | None = None
        try:
            outcome = await self._wait_for_result(job)
            return outcome
        finally:
            finished = outcome is not None and outcome[1] != "timeout"
            await asyncio.to_thread(self._drop, job.id, finished)

    async def _wait_for_result(self, job: Job) -> tuple[Any, str | None]:
        deadline = time.monotonic() + self.timeouts.embed_wait_seconds
        while time.monotonic() < deadline:
            status = await asyncio.to_thread(_status_or_none, job)
            if status == JobStatus.FINISHED:
                return await asyncio.to_thread(job.return_value, True), None
            if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, None):
                return None, await asyncio.to_thread(_refreshed_error_code, job)
            await asyncio.sleep(POLL_SECONDS)
        return None, "timeout"

    def _drop(self, job_id: str, finished: bool) -> None:
        """Take the job back if it may still run, then purge it (or leave that to the sweeper
        while a worker holds it)."""
        try:
            if not finished:
                calls.cancel(self._sync, job_id)
            calls.purge(self._sync, job_id)
        except RedisError as error:
            log.warning("could not clear job %s out of Redis: %s", job_id, error)

    # ------------------------------------------------------------------------- synthesis

    async def enqueue_synth(self, request: SynthRequest, symbols: int) -> int | None:
        """Enqueue; returns the 1-based place in the queue (None if unknown).

        `symbols`: what the synthesizer will read (bot.text_check.symbol_count of the spoken
        text), the unit of the job's time budget (`synth_job_timeout` counts one second per
        unit): a text's characters would undercount numbers spelled out eightfold.
        A finished synth job is deleted by RQ at once (result_ttl=0): its outcome travels
        through the results list, and its payload (text, voice) has no reason to stay.
        """
        job = await asyncio.to_thread(
            self.queue.enqueue,
            SYNTH_JOB,
            request.to_dict(),
            job_id=synth_job_id(request.request_id),
            job_timeout=synth_job_timeout(symbols),
            result_ttl=0,
            failure_ttl=self.timeouts.result_ttl_seconds,
            retry=RETRY,
            description=f"synth request {request.request_id} ({symbols} symbols)",
        )
        position = await asyncio.to_thread(job.get_position)
        return None if position is None else position + 1

    async def place_of(self, job_id: str) -> int | None:
        """The job's 1-based place in the queue, None when it is not waiting there: one LPOS."""
        found = await self.redis.lpos(self.queue.key, job_id)
        return None if found is None else int(found) + 1

    async def cancel(self, job_id: str) -> Cancel:
        """Take a job back if it still can be: see worker/api/calls.py for what each answer
        promises. A job taken out of the queue is purged at once."""
        found = await asyncio.to_thread(calls.cancel, self._sync, job_id)
        if found is Cancel.REMOVED:
            await asyncio.to_thread(calls.purge, self._sync, job_id)
        return found

    async def purge(self, job_ids: Iterable[str]) -> None:
        """Clear finished jobs out of Redis (those a worker still holds: later, by the sweeper)."""
        ids = list(job_ids)
        await asyncio.to_thread(lambda: [calls.purge(self._sync, job_id) for job_id in ids])

    async def mark_forgotten(self, mark: str, created_at: float) -> None:
        """Void every job made for the user row created at `created_at` (worker/api/calls.py;
        `mark` is the user's `forgotten_key`)."""
        await asyncio.to_thread(calls.mark_forgotten, self._sync, mark, created_at)

    async def revoke_voices(self, voice_ids: Iterable[int], *, owner_id: int | None = None) -> None:
        """Stop jobs speaking with `voice_ids` (all but `owner_id`'s, if given)."""
        ids = list(voice_ids)
        await asyncio.to_thread(calls.revoke_voices, self._sync, ids, owner_id=owner_id)

    async def restore_voice(self, voice_id: int, owner_id: int) -> None:
        await asyncio.to_thread(calls.restore_voice, self._sync, voice_id, owner_id)

    async def job_status(self, job_id: str) -> str | None:
        """RQ's status of the job, None when it is not in Redis."""
        status = await self.redis.hget(Job.key_for(job_id), "status")
        return None if status is None else status.decode()

    async def settled_outcome(self, job_id: str) -> SynthOutcome | None:
        """The job's settled outcome; None when there is none or it cannot be read (the
        sweeper then treats the request as one whose job is gone)."""
        try:
            return await asyncio.to_thread(calls.settled_outcome, self._sync, job_id)
        except (ValueError, TypeError, AttributeError) as error:
            log.error("job %s: its settled outcome is unreadable (%s)", job_id, error)
            return None

    async def purge_pending(self) -> int:
        return await asyncio.to_thread(calls.purge_pending, self._sync)

    async def unreadable_outcomes(self) -> int:
        """How many outcomes the bot could not read and set aside (bot/background/results.py)."""
        return int(await self.redis.get(RESULTS_DEAD_COUNT) or 0)

    async def queue_lengths(self) -> tuple[int, int]:
        """(recordings and checks, speech requests) waiting in the queue."""
        ids = await self.redis.lrange(self.queue.key, 0, -1)
        embed = sum(1 for job_id in ids if job_id.startswith((b"embed-", b"check-")))
        return embed, len(ids) - embed


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


def _embed_result(value: Any) -> EmbedResult | None:
    if isinstance(value, dict):
        try:
            return EmbedResult.from_dict(value)
        except (TypeError, KeyError, ValueError):
            log.error("embed job returned an unexpected dict: keys %s", sorted(value))
    return None


def _check_result(value: Any) -> CheckResult | None:
    if isinstance(value, dict):
        try:
            return CheckResult.from_dict(value)
        except (TypeError, KeyError, ValueError):
            log.error("check job returned an unexpected dict: keys %s", sorted(value))
    return None
