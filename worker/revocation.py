"""What must stop work already queued: a user who asked to be forgotten, a voice taken back.

The bot writes these marks; the worker reads them before it synthesizes and again inside the
upload's fenced step (worker/delivery.py, `begin_upload`), so whatever the order of events,
nothing is sent once a mark is written.

- `forgotten:<keyed hash of the user id>`: the `created_at` (storage's clock, Unix seconds) of
  the newest user row that `/forget` deleted. The key names the user by a hash keyed with the
  bot token (as bot/checks.py does), so that nothing left after `/forget` names them; the bot
  computes it and the job carries it (`SynthRequest.forget_mark`). A job also carries the
  `created_at` of the row it was made for (`SynthRequest.user_since`); it is void if that is
  not later than the mark. A request admitted before the forget, whatever moment it reaches
  the queue, carries an older row's time; the same person coming back later gets a new row,
  and their new requests run. The mark is the user's, not a job's: purging a job's keys
  leaves it.
- `revoked-voice:<voice>`: a voice that jobs may no longer speak with. `*` when nobody may
  (the voice was deleted, or its owner forgotten); the owner's id when only its owner still
  may (withdrawn from the bank). A job carries the ids of the voices it speaks with
  (`SynthRequest.voice_ids`); another user's job with a revoked voice is settled with
  `voice_gone` and its user told the voice is no longer available.

Both marks expire after MARK_TTL, longer than any job lives (a request older than three hours
is taken back by the bot's sweeper; retries add minutes). Voice ids are never reused
(AUTOINCREMENT), so an expired mark cannot void a new voice.

Light on purpose (redis only): the bot imports it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from redis import Redis

from worker.api import SynthRequest

log = logging.getLogger(__name__)

PREFIX = "voiceclone:"
MARK_TTL = 7 * 24 * 3600
EVERYONE = "*"

# KEYS[1] forgotten mark; ARGV[1] the row's created_at. Keeps the newest of the two.
_FORGET = """
local before = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > before then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""

# The Lua body that `begin_upload` and `void_reason` share: KEYS from `first` on are the
# forgotten mark, then one revoked-voice key per voice; ARGV from `arg` on: user_since, user id.
VOID_CHECK = """
local function void_reason(first, arg)
  local forgotten = redis.call('GET', KEYS[first])
  if forgotten and tonumber(forgotten) >= tonumber(ARGV[arg]) then return 'forgotten' end
  for i = first + 1, #KEYS do
    local revoked = redis.call('GET', KEYS[i])
    if revoked and (revoked == '*' or revoked ~= ARGV[arg + 1]) then return 'voice_gone' end
  end
  return false
end
"""


FORGOTTEN_PREFIX = f"{PREFIX}forgotten:"
_NEVER_WRITTEN = f"{FORGOTTEN_PREFIX}-"  # what a job without a (valid) mark name checks


def forgotten_key(user_id: int, secret: str) -> str:
    """The name of the user's forget mark: a hash of their id keyed with `secret` (the token)."""
    key = hashlib.sha256(f"forget-mark:{secret}".encode()).digest()
    digest = hashlib.blake2b(str(user_id).encode(), key=key, digest_size=16).hexdigest()
    return FORGOTTEN_PREFIX + digest


def revoked_voice_key(voice_id: int) -> str:
    return f"{PREFIX}revoked-voice:{voice_id}"


def void_keys(request: SynthRequest) -> list[str]:
    """The marks that can void `request`, in VOID_CHECK's order."""
    mark = request.forget_mark
    mark = (
        mark if mark.startswith(FORGOTTEN_PREFIX) and mark != FORGOTTEN_PREFIX else _NEVER_WRITTEN
    )
    return [mark, *(revoked_voice_key(v) for v in request.voice_ids)]


def void_args(request: SynthRequest) -> list[str]:
    return [repr(float(request.user_since)), str(request.user_id)]


def void_reason(redis: Redis, request: SynthRequest) -> str | None:
    """ "forgotten", "voice_gone", or None while the request may still be answered."""
    script = VOID_CHECK + "return void_reason(1, 1)"
    found = redis.register_script(script)(keys=void_keys(request), args=void_args(request))
    if not found:
        return None
    return found.decode() if isinstance(found, bytes) else str(found)


def mark_forgotten(redis: Redis, mark: str, created_at: float) -> None:
    """Void every job made for the user row created at `created_at` (or an older one) of the
    user whose mark is named `mark` (`forgotten_key`)."""
    redis.register_script(_FORGET)(keys=[mark], args=[repr(created_at), MARK_TTL])


def revoke_voices(redis: Redis, voice_ids: Iterable[int], *, owner_id: int | None = None) -> None:
    """Stop jobs speaking with `voice_ids`: everyone's, or with `owner_id`, all but that
    owner's (a voice withdrawn from the bank). A voice deleted outright stays revoked for all
    even if it is withdrawn after (it cannot be: it is gone), so `*` is never narrowed."""
    ids = list(voice_ids)
    if not ids:
        return
    with redis.pipeline() as pipe:
        for voice_id in ids:
            key = revoked_voice_key(voice_id)
            if owner_id is None:
                pipe.set(key, EVERYONE, ex=MARK_TTL)
            else:
                pipe.set(key, str(owner_id), ex=MARK_TTL, nx=True)
        pipe.execute()
    log.info("voices %s revoked%s", ids, "" if owner_id is None else f" for all but {owner_id}")


def restore_voice(redis: Redis, voice_id: int, owner_id: int) -> None:
    """A voice published again: others' jobs may use it again (unless it was revoked for all,
    which a voice that still exists never is)."""
    key = revoked_voice_key(voice_id)
    if redis.get(key) == str(owner_id).encode():
        redis.delete(key)
