"""The limits on `/check`: one check at a time per user, and a budget per minute.

Why not the requests ledger (storage.requests.admit), which limits speech and recordings: its
rows are the history behind the admin figures (requests per day, failure rate, synthesis
time), which a check is not part of, and its `kind` column is fenced by a CHECK constraint
that SQLite can only widen by rebuilding the table (as v4 did), which would also rewrite
whatever another migration adds to it meanwhile. A check is a fraction of a second of worker
time that the bot awaits, like a recording; so the limits are kept in Redis instead, by one
script, so that a burst of forwarded notes is counted one after the other (of twenty at
once, one runs).

The keys name the user by a keyed hash, not by id: like the request rows of the last minute,
the per-minute budget outlives `/forget` until it expires (forgetting must not reset a
limit), and holds nothing that names the user meanwhile. `/forget` takes back a running
check (its job holds the user's file id) and frees the one-at-a-time slot.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis

PREFIX = "voiceclone:bot:check:"
WINDOW_SECONDS = 60

# KEYS: busy, window; ARGV: token, now (s), window (s), per minute, busy ttl (s)
_ADMIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'busy' end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'rate' end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
return 'ok'
"""
# KEYS: busy; ARGV: token
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class CheckRefusal(StrEnum):
    busy = "busy"  # a check of theirs is running
    rate = "rate"  # the minute's budget is spent


@dataclass(frozen=True, slots=True)
class CheckTicket:
    """An admitted check: `token` names its job (worker.api.check_job_id)."""

    token: str
    refusal: CheckRefusal | None = None


class CheckGate:
    def __init__(
        self, redis: aioredis.Redis, secret: str, *, per_minute: int, busy_seconds: float
    ) -> None:
        self._redis = redis
        self._key = hashlib.sha256(f"check-gate:{secret}".encode()).digest()
        self.per_minute = per_minute
        self.busy_seconds = max(1, int(busy_seconds))

    def _user_key(self, user_id: int) -> str:
        return hashlib.blake2b(str(user_id).encode(), key=self._key, digest_size=12).hexdigest()

    def busy_key(self, user_id: int) -> str:
        return f"{PREFIX}busy:{self._user_key(user_id)}"

    def window_key(self, user_id: int) -> str:
        return f"{PREFIX}window:{self._user_key(user_id)}"

    async def admit(self, user_id: int) -> CheckTicket:
        token = secrets.token_hex(8)
        answer = await self._redis.eval(
            _ADMIT,
            2,
            self.busy_key(user_id),
            self.window_key(user_id),
            token,
            f"{time.time():.6f}",
            WINDOW_SECONDS,
            self.per_minute,
            self.busy_seconds,
        )
        found = answer.decode() if isinstance(answer, bytes) else str(answer)
        if found == "ok":
            return CheckTicket(token)
        return CheckTicket("", CheckRefusal(found))

    async def release(self, user_id: int, token: str) -> None:
        await self._redis.eval(_RELEASE, 1, self.busy_key(user_id), token)

    async def running(self, user_id: int) -> str | None:
        """The token of the user's running check, if one runs (for `/forget`)."""
        raw = await self._redis.get(self.busy_key(user_id))
        return None if raw is None else raw.decode()

    async def forget(self, user_id: int) -> str | None:
        """Free the user's one-at-a-time slot; the token of the check that held it."""
        token = await self.running(user_id)
        await self._redis.delete(self.busy_key(user_id))
        return token
