"""The queue and the jobs on it: names, ids, time limits, retries.

Jobs are enqueued by dotted path (`worker.jobs.embed_job`), so the bot never imports the job
code. These dotted names are stored in Redis with every job: they must not change.

One queue, embed jobs at its front. RQ takes a job from a single queue with BLMOVE into an
intermediate list, so a job a worker has taken but not yet started is still somewhere in Redis
(worker/queue/recovery.py finds it if that worker dies); from two queues RQ pops with BLPOP,
and a worker killed right after the pop takes the job with it. Putting the short embed jobs at
the front keeps "voices first" without a second queue.
"""

from __future__ import annotations

from rq.serializers import JSONSerializer

QUEUE = "voiceclone"
SERIALIZER = JSONSerializer

EMBED_JOB = "worker.jobs.embed_job"
SYNTH_JOB = "worker.jobs.synth_job"
CHECK_JOB = "worker.jobs.check_job"
# The only functions a worker runs (worker/queue/resident.py refuses any other name a job
# carries, without importing it): JSON keeps pickles out of Redis, not code, since a job names
# the function to call. A dialogue is a synth job with turns, not a function of its own.
JOB_FUNCTIONS = frozenset({EMBED_JOB, SYNTH_JOB, CHECK_JOB})


def embed_job_id(request_id: int) -> str:
    """Jobs are named after their request row, so the bot can find (and delete) them."""
    return f"embed-{request_id}"


def synth_job_id(request_id: int) -> str:
    return f"synth-{request_id}"


def check_job_id(token: str) -> str:
    """A watermark check has no request row (bot/checks.py says why): a random token names it."""
    return f"check-{token}"


# Retry policy for both jobs, for the bot to pass as `Retry(max=..., interval=...)`. The worker
# spends it only on failures that prove nothing reached the user (Telegram 429/5xx, a refused
# connection) and on a worker that died mid-job; bad input fails at once, whatever retries the
# job carries.
JOB_RETRY_MAX = 3
JOB_RETRY_INTERVALS = (5, 15, 60)

EMBED_JOB_TIMEOUT = 120  # seconds: download, decode (itself time-limited) and one encoder pass
# Synthesis time grows with the text. The per-character figure is a CPU worst case for the
# full-size models (WaveRNN is the slow part); a GPU worker finishes far inside it.
SYNTH_TIMEOUT_BASE = 60
SYNTH_TIMEOUT_PER_CHAR = 1.0


def synth_job_timeout(text: str | int) -> int:
    """Seconds a synth job for `text` (or a text of that many characters) may run."""
    chars = text if isinstance(text, int) else len(text)
    return int(SYNTH_TIMEOUT_BASE + SYNTH_TIMEOUT_PER_CHAR * max(0, chars))
