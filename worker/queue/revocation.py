"""The worker's side of the marks that void work already queued: a user who asked to be
forgotten, a voice taken back.

The bot writes the marks (worker/api/calls.py says what each means, and when it expires); the
worker reads them here before it synthesizes, and again inside the upload's fenced step
(worker/queue/delivery.py, `begin_upload`, which runs VOID_CHECK in its own script), so
whatever the order of events, nothing is sent once a mark is written.
"""

from __future__ import annotations

from redis import Redis

from worker.api import SynthRequest
from worker.api.keys import FORGOTTEN_PREFIX, revoked_voice_key

# The Lua body that `begin_upload` and `void_reason` share: KEYS from `first` on are the
# forgotten mark, then one revoked-voice key per voice; ARGV from `arg` on: user_since, user id.
# A revoked voice's mark is '*' (worker.api.calls.EVERYONE) or the id of the one owner who may.
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

_NEVER_WRITTEN = f"{FORGOTTEN_PREFIX}-"  # what a job without a (valid) mark name checks


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
