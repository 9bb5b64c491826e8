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
check (its job holds the user's file id) and frees the one-at-a-time slot. A check whose wait
timed out while a worker still runs its job keeps the slot until the worker lets go of it:
"one at a time" counts the work, not the wait.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis

from worker.api import EMBED_JOB_TIMEOUT, check_job_id
from worker.delivery import lease_key

PREFIX = "voiceclone:bot:check:"
WINDOW_SECONDS = 60

# KEYS: busy, window; ARGV: token, now (s), window (s), per minute, busy ttl (s), the prefix
# of a check job's lease key. A slot `held:<token>` (see _RELEASE) is free once that check's
# job holds no lease any more.
_ADMIT = """
local busy = redis.call('GET', KEYS[1])
if busy then
  if string.sub(busy, 1, 5) ~= 'held:' then return 'busy' end
  if redis.call('EXISTS', ARGV[6] .. string.sub(busy, 6)) == 1 then return 'busy' end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'rate' end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
return 'ok'
"""
# KEYS: busy, the check job's lease; ARGV: token, hold ttl (s). The bot stops waiting; if a
# worker still runs the check (the wait timed out), the slot stays taken until it lets go.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[1], 'held:' .. ARGV[1], 'EX', ARGV[2])
  return -1
end
return redis.call('DEL', KEYS[1])
"""
# The most a check job can still run after the bot stopped waiting: its own time limit.
HOLD_SECONDS = EMBED_JOB_TIMEOUT + 30


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
            lease_key(check_job_id("")),
        )
        found = answer.decode() if isinstance(answer, bytes) else str(answer)
        if found == "ok":
            return CheckTicket(token)
        return CheckTicket("", CheckRefusal(found))

    async def release(self, user_id: int, token: str) -> None:
        """The bot is done with the check; its slot frees now, or once a worker that still
        runs its job lets go of it."""
        lease = lease_key(check_job_id(token))
        await self._redis.eval(_RELEASE, 2, self.busy_key(user_id), lease, token, HOLD_SECONDS)

    async def running(self, user_id: int) -> str | None:
        """The token of the user's running check, if one runs (for `/forget`)."""
        raw = await self._redis.get(self.busy_key(user_id))
        return None if raw is None else raw.decode().removeprefix("held:")

    async def forget(self, user_id: int) -> str | None:
        """Free the user's one-at-a-time slot; the token of the check that held it."""
        token = await self.running(user_id)
        await self._redis.delete(self.busy_key(user_id))
        return token
