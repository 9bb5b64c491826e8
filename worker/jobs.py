"""The two job functions RQ runs, by the dotted paths in worker.api (EMBED_JOB, SYNTH_JOB).

Plain functions of plain dicts: the bot enqueues `EmbedRequest.to_dict()` or
`SynthRequest.to_dict()` and never imports this module. Failures are raised, not caught here:
the worker's exception handler decides whether a retry can help (worker/failures.py).
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from worker.api import EmbedRequest, SynthRequest
from worker.embed import run_embed
from worker.runtime import resident_runtime
from worker.synth import run_synth


def embed_job(request: dict[str, Any]) -> dict[str, Any]:
    """EmbedResult.to_dict() of the recording named in `request`; EmbedError on bad input."""
    return run_embed(resident_runtime(), EmbedRequest(**request)).to_dict()


def synth_job(request: dict[str, Any]) -> dict[str, Any]:
    """Synthesize `request`, send it to the user and return the SynthOutcome as a dict."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("synth_job runs inside an RQ worker (it needs its job id)")
    return run_synth(resident_runtime(), SynthRequest.from_dict(request), job.id).to_dict()
