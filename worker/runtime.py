"""What a worker process keeps resident: settings, the loaded models, a Bot API client, Redis.

RQ calls jobs as plain functions with plain arguments, so a job reaches the models through
`resident_runtime()`: the first call (made by `python -m worker` before it takes any job)
loads the weights, every later call in the process returns the same objects. That cache is
the one piece of process-wide state the worker has, and it is what "load once per process"
means.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from redis import Redis

from sv2tts.watermark.model import Watermarker, resident_watermarker
from worker.engine import Engine, load_engine
from worker.queue.delivery import JobLease
from worker.queue.recovery import DEFAULT_LEASE_SECONDS
from worker.settings import WorkerSettings, load_settings
from worker.telegram import BotApi

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: WorkerSettings
    engine: Engine
    telegram: BotApi
    redis: Redis
    lease: JobLease  # on the job this process runs (one at a time: no fork, no threads)
    watermarker: Watermarker  # marks every voice note, reads the mark for /check

    def describe(self) -> dict[str, Any]:
        """What the heartbeat and the readiness line say about this worker."""
        return {"host": socket.gethostname(), **self.engine.describe()}


def build_runtime(
    settings: WorkerSettings,
    engine: Engine,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    watermarker: Watermarker | None = None,
) -> Runtime:
    """`watermarker` None: the process's own (loaded once; WatermarkUnavailable without the
    resemble-perth wheel, so that no worker sends a note without the mark)."""
    redis = Redis.from_url(settings.require_redis_url())
    return Runtime(
        settings=settings,
        engine=engine,
        telegram=BotApi(settings.telegram_api_url, settings.bot_token.get_secret_value()),
        redis=redis,
        lease=JobLease(redis, f"{socket.gethostname()}:{os.getpid()}", lease_seconds),
        watermarker=watermarker or resident_watermarker(),
    )


@functools.cache
def resident_runtime() -> Runtime:
    """The process's runtime, loaded on first use (raises WeightsError if weights are bad)."""
    settings = load_settings()
    return build_runtime(settings, load_engine(settings))
