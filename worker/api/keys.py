"""The names of the Redis keys the bot and the workers both read or write, beside RQ's own.

Per job (`<job>` is its id: worker/api/jobs.py), each changed by one Lua script so that the
bot and any number of workers see one order of events (worker/queue/delivery.py tells the
whole story):

- `lease:<job>`: the token of the worker execution running the job, with a TTL.
- `upload:<job>`: set, under the lease, right before a voice note is uploaded.
- `cancel:<job>`: the user cancelled a job that a worker already holds.
- `settled:<job>`: the job's outcome, set once together with pushing it onto RESULTS_LIST.
- `audio:<job>`: the encoded voice note, kept until the job is settled.
- `lost:<job>`: set by recovery on a job that lost its worker with no retries left.
- `progress:<job>`: how far a synth job is (worker/api/progress.py).

Per user and per voice, the marks that void work already queued (worker/api/calls.py writes
them, worker/queue/revocation.py reads them): `forgotten:<keyed hash of the user id>` and
`revoked-voice:<voice>`. Per worker, its readiness heartbeat: `worker:<name>` and the sorted
set WORKERS_KEY (worker/queue/presence.py).
"""

from __future__ import annotations

import hashlib

PREFIX = "voiceclone:"

# The worker pushes one JSON SynthOutcome per finished or failed synth job onto this list;
# the bot moves each to RESULTS_PROCESSING, records it in storage (the bot is the only writer)
# and only then removes it, so an outcome survives a bot that dies halfway.
RESULTS_LIST = PREFIX + "synth-results"
RESULTS_PROCESSING = RESULTS_LIST + ":processing"
# An outcome the bot cannot read (not JSON, not an outcome, wrong types) is set aside here
# (the latest RESULTS_DEAD_KEPT, as found) and counted, so one bad entry never stops the rest.
RESULTS_DEAD = RESULTS_LIST + ":dead"
RESULTS_DEAD_COUNT = RESULTS_DEAD + ":count"
RESULTS_DEAD_KEPT = 100

PURGE_PENDING = PREFIX + "purge-pending"  # job ids whose purge waits for a worker to let go

WORKERS_KEY = PREFIX + "workers"
WORKER_INFO_PREFIX = PREFIX + "worker:"


def key(kind: str, job_id: str) -> str:
    return f"{PREFIX}{kind}:{job_id}"


def lease_key(job_id: str) -> str:
    return key("lease", job_id)


def settled_key(job_id: str) -> str:
    return key("settled", job_id)


def audio_key(job_id: str) -> str:
    return key("audio", job_id)


def upload_key(job_id: str) -> str:
    return key("upload", job_id)


def cancel_key(job_id: str) -> str:
    return key("cancel", job_id)


def lost_key(job_id: str) -> str:
    """Set by recovery on a job that lost its worker with no retries left: its next run fails
    it (with the apology) instead of running it a fifth time."""
    return key("lost", job_id)


def progress_key(job_id: str) -> str:
    return key("progress", job_id)


FORGOTTEN_PREFIX = f"{PREFIX}forgotten:"


def forgotten_key(user_id: int, secret: str) -> str:
    """The name of the user's forget mark: a hash of their id keyed with `secret` (the token)."""
    secret_key = hashlib.sha256(f"forget-mark:{secret}".encode()).digest()
    digest = hashlib.blake2b(str(user_id).encode(), key=secret_key, digest_size=16).hexdigest()
    return FORGOTTEN_PREFIX + digest


def revoked_voice_key(voice_id: int) -> str:
    return f"{PREFIX}revoked-voice:{voice_id}"
