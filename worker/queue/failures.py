"""Which failures are worth a retry, what code each one gets, and the answer to a lost request.

The jobs do not catch their own failures: they raise, and the worker's exception handler
(worker/queue/resident.py) applies this policy. Only failures that prove nothing reached the user
keep the retries the bot gave the job: Telegram's own 429 and 5xx answers, a connection that could
not be made, Redis gone for a moment, a worker that died mid-job. An upload whose answer never
came (the request went out, then the connection broke or timed out) may well have arrived, so
it is not retried: the user is told it may not have arrived (`delivery_unknown`). Anything
else, bad input above all, fails at once. When a synth job fails for good, the user gets one
short apology (none for a cancelled one: they were told when they cancelled) and the bot gets
a failed outcome.
"""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.exceptions import AbandonedJobError
from rq.timeouts import JobTimeoutException

from worker.api import ERROR_CODES, JobError, SynthOutcome, SynthRequest
from worker.messages import apology
from worker.queue.delivery import settle
from worker.queue.revocation import void_reason
from worker.telegram import BotApi, TelegramError, TelegramTransientError, TelegramUnconfirmed

log = logging.getLogger(__name__)

TRANSIENT = (TelegramTransientError, AbandonedJobError, RedisConnectionError, RedisTimeoutError)


def is_transient(error: BaseException) -> bool:
    """True when the same job may well succeed if it runs again a little later."""
    return isinstance(error, TRANSIENT)


def error_code(error: BaseException) -> str:
    """The ERROR_CODES entry that describes `error` to the bot and the user."""
    if isinstance(error, JobError):
        return error.code
    if isinstance(error, JobTimeoutException):
        return "timeout"
    if isinstance(error, TelegramUnconfirmed):
        return "delivery_unknown"
    if isinstance(error, TelegramError):
        return "telegram_error"
    code = getattr(error, "code", None)  # sv2tts's AudioError and WeightsError carry one
    if isinstance(code, str) and code in ERROR_CODES:
        return code
    return "internal"


def _forgotten(redis: Redis, request: SynthRequest) -> bool:
    try:
        return void_reason(redis, request) == "forgotten"
    except RedisError as error:
        log.warning("could not check whether user %s was forgotten: %s", request.user_id, error)
        return False


def failed_outcome(request: SynthRequest, code: str, job_id: str = "") -> SynthOutcome:
    waited = time.time() - request.enqueued_at if request.enqueued_at else 0.0
    return SynthOutcome(
        request_id=request.request_id,
        user_id=request.user_id,
        ok=False,
        error_code=code,
        total_seconds=waited,
        job_id=job_id,
    )


def settle_failed_synth(
    redis: Redis,
    telegram: BotApi,
    job_id: str,
    request: SynthRequest,
    code: str,
    *,
    token: str | None = None,
) -> bool:
    """Record the failure and apologise to the user, once; False if already settled, or if
    `token` no longer holds the job's lease (its new holder will answer)."""
    if not settle(redis, job_id, failed_outcome(request, code, job_id), token=token):
        log.info("job %s: settled elsewhere; nothing more to tell", job_id)
        return False
    if code == "cancelled" or _forgotten(redis, request):
        return True  # told when they cancelled; a forgotten user hears nothing more
    try:
        telegram.send_message(
            request.chat_id, apology(code, request.language), request.reply_to_message_id
        )
    except TelegramError as error:
        log.warning("job %s: could not apologise to chat %s: %s", job_id, request.chat_id, error)
    return True
