"""The limits on `/check`: the gate every heavy request passes, and a budget per minute.

One at a time and the global cap are those of speech and recordings (MAX_ACTIVE_REQUESTS_PER_USER,
MAX_QUEUED_REQUESTS), counted in one place: storage's admission (storage.requests.admit_check),
in the same transaction as a /say's or a recording's, so that a check with a /say open is
refused as a second /say is, a /say with a check open likewise, and checks take their share of
the global cap. A check is no row of the requests ledger, whose rows are the history behind
the admin figures (requests per day, failure rate, synthesis time), which a check is not part
of: it is held in storage's open-checks table while the bot waits for it.

The per-minute budget of checks is kept apart from the requests' one, in Redis, by one script
(of twenty at once, as many as the budget allows). Its keys name the user by a keyed hash,
not by id: like the request rows of the last minute, the budget outlives `/forget` until it
expires (forgetting must not reset a limit), and holds nothing that names the user meanwhile.
`/forget` takes back a running check (its job holds the user's file id) and frees its slot.
A check whose wait timed out while a worker still runs its job keeps its slot (and its share
of the global cap) until the worker lets go of the job's lease, or its time limit has passed:
"one at a time" counts the work, not the wait.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from storage import AdmissionLimits, Refusal, Storage
from worker.api import EMBED_JOB_TIMEOUT, check_job_id
from worker.api.keys import lease_key

PREFIX = "voiceclone:bot:check:"
WINDOW_SECONDS = 60
# The most a check job can still run after the bot stopped waiting: its own time limit.
HOLD_SECONDS = EMBED_JOB_TIMEOUT + 30

# KEYS: window; ARGV: token, now (s), window (s), per minute
_SPEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'rate' end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 'ok'
"""


@dataclass(frozen=True, slots=True)
class CheckTicket:
    """An admitted check: `token` names its job (worker.api.check_job_id). Refused: `refusal`
    says why (`busy` with `checking` true when what is open is a check of theirs)."""

    token: str
    refusal: Refusal | None = None
    checking: bool = False


class CheckGate:
    def __init__(
        self,
        redis: aioredis.Redis,
        store: Storage,
        secret: str,
        *,
        limits: AdmissionLimits,
    ) -> None:
        self._redis = redis
        self._store = store
        self._key = hashlib.sha256(f"check-gate:{secret}".encode()).digest()
        self.limits = limits
        # Checks the bot stopped waiting for while a worker still held their job:
        # token -> the time after which the slot goes whatever the lease says.
        self._held: dict[str, float] = {}

    @property
    def per_minute(self) -> int:
        return self.limits.per_minute

    def _user_key(self, user_id: int) -> str:
        return hashlib.blake2b(str(user_id).encode(), key=self._key, digest_size=12).hexdigest()

    def window_key(self, user_id: int) -> str:
        return f"{PREFIX}window:{self._user_key(user_id)}"

    async def admit(self, user_id: int) -> CheckTicket:
        token = secrets.token_hex(8)
        await self._free_let_go()
        refusal = await self._store.requests.admit_check(user_id, token, self.limits)
        if refusal is not None:
            checking = refusal is Refusal.busy and await self.running(user_id) is not None
            return CheckTicket("", refusal, checking)
        try:
            spent = await self._redis.eval(
                _SPEND,
                1,
                self.window_key(user_id),
                token,
                f"{time.time():.6f}",
                WINDOW_SECONDS,
                self.per_minute,
            )
        except BaseException:
            # Redis down, or the handler cancelled: the slot must not stay taken.
            await self._store.requests.end_check(token)
            raise
        if (spent.decode() if isinstance(spent, bytes) else str(spent)) != "ok":
            await self._store.requests.end_check(token)
            return CheckTicket("", Refusal.rate)
        return CheckTicket(token)

    async def release(self, user_id: int, token: str) -> None:
        """The bot is done with the check; its slot frees now, or once the worker that still
        runs its job lets go of it (checked at the next admission)."""
        if await self._redis.exists(lease_key(check_job_id(token))):
            self._held[token] = time.monotonic() + HOLD_SECONDS
            return
        await self._store.requests.end_check(token)

    async def _free_let_go(self) -> None:
        """End the held checks whose job no worker holds any more (or held too long)."""
        now = time.monotonic()
        for token, deadline in list(self._held.items()):
            if now < deadline and await self._redis.exists(lease_key(check_job_id(token))):
                continue
            del self._held[token]
            await self._store.requests.end_check(token)

    async def running(self, user_id: int) -> str | None:
        """The token of the user's running check, if one runs (for `/forget`)."""
        return await self._store.requests.open_check(user_id)

    async def forget(self, user_id: int) -> str | None:
        """Free the user's slot; the token of the check that held it."""
        tokens = await self._store.requests.end_checks_of(user_id)
        for token in tokens:
            self._held.pop(token, None)
        return tokens[0] if tokens else None
