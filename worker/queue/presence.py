"""Which workers have their models loaded: a heartbeat each, and one sorted set to count them.

A ready worker refreshes `voiceclone:worker:<name>` (its description, as JSON, with a short
TTL) and its member in the sorted set `voiceclone:workers` (score: when the heartbeat
expires). The bot asks "is any worker ready?" on every request: one ZCOUNT, not a scan of the
keyspace. A worker that dies stops refreshing; its member falls out of the count when its score
passes, and is removed at the next heartbeat of any worker.

The bot counts them with the contract's `ready_count_command` (worker/api/calls.py); the key
names are the contract's too (worker/api/keys.py).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from worker.api.keys import WORKER_INFO_PREFIX, WORKERS_KEY

log = logging.getLogger(__name__)

HEARTBEAT_TTL = 30  # seconds; a worker refreshes its heartbeat every few seconds


def beat(redis: Redis, name: str, info: dict[str, Any], ttl: int = HEARTBEAT_TTL) -> None:
    now = time.time()
    with redis.pipeline() as pipe:
        pipe.set(WORKER_INFO_PREFIX + name, json.dumps(info), ex=ttl)
        pipe.zadd(WORKERS_KEY, {name: now + ttl})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now)
        pipe.execute()


def withdraw(redis: Redis, name: str) -> None:
    with redis.pipeline() as pipe:
        pipe.delete(WORKER_INFO_PREFIX + name)
        pipe.zrem(WORKERS_KEY, name)
        pipe.execute()


def withdraw_quietly(redis: Redis, name: str) -> None:
    """`withdraw`, for a process on its way out: a Redis that is gone only costs a log line."""
    try:
        withdraw(redis, name)
    except RedisError as error:
        log.warning("could not withdraw the heartbeat of %s: %s", name, error)


def ready_workers(redis: Redis) -> list[dict[str, Any]]:
    """The descriptions of the workers whose heartbeat is current."""
    names = [n.decode() for n in redis.zrangebyscore(WORKERS_KEY, time.time(), "+inf")]
    if not names:
        return []
    raws = redis.mget([WORKER_INFO_PREFIX + name for name in names])
    return [json.loads(raw) for raw in raws if raw]
