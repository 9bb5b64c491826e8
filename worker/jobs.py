"""The job functions RQ runs, by the dotted paths in worker.api (EMBED_JOB, SYNTH_JOB, CHECK_JOB).

Plain functions of plain dicts: the bot enqueues `EmbedRequest.to_dict()` or
`SynthRequest.to_dict()` and never imports this module. Failures are raised, not caught here:
the worker's exception handler decides whether a retry can help (worker/queue/failures.py).
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from worker.api import EmbedError, EmbedRequest, SynthRequest
from worker.check import run_check
from worker.embed import run_embed
from worker.queue.delivery import cancel_requested
from worker.runtime import resident_runtime
from worker.synth import run_synth


def embed_job(request: dict[str, Any]) -> dict[str, Any]:
    """EmbedResult.to_dict() of the recording named in `request`; EmbedError on bad input,
    and EmbedError("cancelled") when the bot stopped waiting meanwhile: a result nobody
    reads (it holds the recording) is not left in Redis."""
    runtime = resident_runtime()
    result = run_embed(runtime, EmbedRequest.from_dict(request)).to_dict()
    if cancel_requested(runtime.redis, current_job_id()):
        raise EmbedError("cancelled", "the bot stopped waiting for this recording")
    return result


def check_job(request: dict[str, Any]) -> dict[str, Any]:
    """CheckResult.to_dict() of the recording named in `request` (an EmbedRequest's dict);
    EmbedError on bad input, as for a recording."""
    return run_check(resident_runtime(), EmbedRequest.from_dict(request)).to_dict()


def synth_job(request: dict[str, Any]) -> dict[str, Any]:
    """Synthesize `request`, send it to the user and return the SynthOutcome as a dict."""
    return run_synth(
        resident_runtime(), SynthRequest.from_dict(request), current_job_id()
    ).to_dict()


def current_job_id() -> str:
    job = get_current_job()
    if job is None:
        raise RuntimeError("the jobs run inside an RQ worker (they need their job id)")
    return job.id
