"""The contract between the bot and the workers, and the only part of `worker/` the bot imports.

- `jobs`: the queue, the job functions by dotted path, job ids, time limits, retries;
- `payloads`: requests, results, outcomes, the error codes (JSON across Redis, read tolerantly
  across versions);
- `progress`: how far a running synth job is;
- `keys`: the Redis keys both sides must agree on, beside RQ's own;
- `calls`: what the bot does to the queue besides enqueueing (cancel, purge, settled outcome,
  ready workers, the marks that void queued work).

Light on purpose (no torch, nothing of sv2tts but its light types): the bot's process loads
it. The worker's side of the same keys is `worker/queue/`; it imports this, never the reverse.
The names below are the ones both sides use most; the rest are in the submodules.
"""

from worker.api.calls import Cancel
from worker.api.jobs import (
    CHECK_JOB,
    EMBED_JOB,
    EMBED_JOB_TIMEOUT,
    JOB_FUNCTIONS,
    JOB_RETRY_INTERVALS,
    JOB_RETRY_MAX,
    QUEUE,
    SERIALIZER,
    SYNTH_JOB,
    SYNTH_TIMEOUT_BASE,
    check_job_id,
    embed_job_id,
    synth_job_id,
    synth_job_timeout,
)
from worker.api.keys import (
    RESULTS_DEAD,
    RESULTS_DEAD_COUNT,
    RESULTS_DEAD_KEPT,
    RESULTS_LIST,
    RESULTS_PROCESSING,
    progress_key,
)
from worker.api.payloads import (
    ERROR_CODE_META,
    ERROR_CODES,
    AudioKind,
    CheckResult,
    DialogueTurn,
    EmbedError,
    EmbedRequest,
    EmbedResult,
    JobError,
    SynthOutcome,
    SynthRequest,
)
from worker.api.progress import PROGRESS_TTL, JobProgress

__all__ = [
    "CHECK_JOB",
    "EMBED_JOB",
    "EMBED_JOB_TIMEOUT",
    "ERROR_CODES",
    "ERROR_CODE_META",
    "JOB_FUNCTIONS",
    "JOB_RETRY_INTERVALS",
    "JOB_RETRY_MAX",
    "PROGRESS_TTL",
    "QUEUE",
    "RESULTS_DEAD",
    "RESULTS_DEAD_COUNT",
    "RESULTS_DEAD_KEPT",
    "RESULTS_LIST",
    "RESULTS_PROCESSING",
    "SERIALIZER",
    "SYNTH_JOB",
    "SYNTH_TIMEOUT_BASE",
    "AudioKind",
    "Cancel",
    "CheckResult",
    "DialogueTurn",
    "EmbedError",
    "EmbedRequest",
    "EmbedResult",
    "JobError",
    "JobProgress",
    "SynthOutcome",
    "SynthRequest",
    "check_job_id",
    "embed_job_id",
    "progress_key",
    "synth_job_id",
    "synth_job_timeout",
]
