"""`python -m worker.bench`: synth jobs per minute and latency through real worker processes.

N synth jobs are enqueued at once and run by one, then by two `python -m worker` processes,
against an embedded Redis and the fake Bot API server of the test suite (the uploads land
there). Latency is from the request being enqueued to its voice note being uploaded.

Weights: by default the tiny random synthesizer and vocoder of ../shared/sv2tts-reference
(with the real speaker encoder), which measures the worker's own overhead (queue, Redis,
encoding, upload) more than the models. `--full-size` writes full-size networks with random
weights (shapes from state_dicts.json) as a custom model: the real models' cost, except that
random weights never predict a stop, so each sentence decodes to the synthesizer's step limit
(12 frames a character, about twice real speech): an upper bound.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from rq import Queue

from worker.api import SYNTH_JOB, SYNTH_QUEUE, SynthRequest, synth_job_timeout
from worker.embedded_redis import EmbeddedRedis

DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog."


@dataclass(frozen=True, slots=True)
class RunResult:
    workers: int
    jobs: int
    wall_seconds: float
    latencies: list[float]
    audio_seconds: float

    @property
    def jobs_per_minute(self) -> float:
        return 60.0 * self.jobs / self.wall_seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def full_size_random_weights(dest: Path, shapes: Path) -> Path:
    """Full-size synthesizer and vocoder with random weights, marked as a custom model."""
    import torch

    from sv2tts.standins import random_model_state, read_reference_shapes

    dest.mkdir(parents=True, exist_ok=True)
    for component in ("synthesizer", "vocoder"):
        state = random_model_state(read_reference_shapes(shapes, component), seed=1)
        torch.save({"model_state": state}, dest / f"{component}.pt")
        (dest / f"{component}.json").write_text("{}")  # the default (published) dims
    return dest


def weights_for(args: argparse.Namespace, scratch: Path) -> Path:
    from tests.conftest import REFERENCE

    if args.weights_dir:
        return Path(args.weights_dir)
    if not REFERENCE.is_dir():
        raise SystemExit(f"the tiny checkpoints are in {REFERENCE}, which is absent")
    if args.full_size:
        return full_size_random_weights(scratch / "weights", REFERENCE / "state_dicts.json")
    from tests.fakes.weights import make_tiny_weights_dir

    return make_tiny_weights_dir(scratch / "weights")


def synth_request(n: int, text: str) -> SynthRequest:
    return SynthRequest(
        request_id=n,
        user_id=n,
        chat_id=100_000 + n,
        reply_to_message_id=None,
        text=text,
        embedding=[1 / 16] * 256,
        enqueued_at=time.time(),
    )


def run_once(
    api: object, redis_url: str, env: dict[str, str], workers: int, jobs: int, text: str
) -> RunResult:
    from tests.fakes.processes import Processes, wait_for_ready_worker, wait_until

    redis = Redis.from_url(redis_url)
    redis.flushdb()
    with tempfile.TemporaryDirectory(prefix="worker-bench-logs-") as logs:
        procs = Processes(Path(logs))
        try:
            started = [procs.start_worker(env) for _ in range(workers)]
            for proc in started:
                wait_for_ready_worker(redis, 600, pid=proc.pid)
            since = api.mark()  # type: ignore[attr-defined]
            queue = Queue(SYNTH_QUEUE, connection=redis)
            requests = [synth_request(n, text) for n in range(jobs)]
            first = time.time()
            for request in requests:
                queue.enqueue(
                    SYNTH_JOB, request.to_dict(), job_timeout=synth_job_timeout(text) * 10
                )

            def uploads() -> list:
                calls = api.calls_of("sendVoice", since=since)  # type: ignore[attr-defined]
                return calls if len(calls) >= jobs else []

            calls = wait_until(uploads, 3600, f"{jobs} voice notes", interval=0.2)
        finally:
            procs.stop_all()
    sent = {c.params["chat_id"]: c.at for c in calls}
    latencies = [sent[r.chat_id] - r.enqueued_at for r in requests]
    audio = sum(float(c.params.get("duration", 0)) for c in calls)
    return RunResult(workers, jobs, max(sent.values()) - first, latencies, audio)


def describe(result: RunResult) -> str:
    return (
        f"{result.workers} worker(s): {result.jobs} jobs in {result.wall_seconds:.1f} s = "
        f"{result.jobs_per_minute:.1f} jobs/min; latency p50 {result.percentile(0.5):.1f} s, "
        f"p95 {result.percentile(0.95):.1f} s; {result.audio_seconds / result.jobs:.1f} s of "
        f"audio per job"
    )


@contextlib.contextmanager
def bench_services() -> Iterator[tuple[object, str]]:
    from tests.fakes.botapi import FakeBotAPI

    with EmbeddedRedis(None, persist=False) as redis, FakeBotAPI() as api:
        yield api, redis.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.bench", description=__doc__)
    parser.add_argument("--jobs", type=int, default=12, help="synth jobs per run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--full-size", action="store_true", help="full-size random weights")
    parser.add_argument("--weights-dir", help="use these weights instead (e.g. pretrained)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads per worker (OMP_NUM_THREADS)"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakes

    from tests.fakes.processes import service_env

    kind = (
        f"weights in {args.weights_dir}"
        if args.weights_dir
        else "FULL-SIZE RANDOM weights (decoding runs to the step limit: an upper bound)"
        if args.full_size
        else "TINY random weights (measures the worker's overhead, not the real models)"
    )
    print(f"worker bench: {args.jobs} jobs of {len(args.text)} characters, {kind}")
    print(f"device {args.device}, {args.threads} torch thread(s) per worker")
    from sv2tts.cpuinfo import cpu_info

    print(f"CPU: {cpu_info().describe()}")
    with (
        tempfile.TemporaryDirectory(prefix="worker-bench-") as scratch,
        bench_services() as (
            api,
            redis_url,
        ),
    ):
        weights = weights_for(args, Path(scratch))
        env = service_env(
            bot_api=api,
            redis_url=redis_url,
            data_dir=Path(scratch) / "data",
            weights_dir=weights,
            DEVICE=args.device,
            OMP_NUM_THREADS=str(args.threads),
            LOG_LEVEL="WARNING",
        )
        for workers in args.workers:
            print(describe(run_once(api, redis_url, env, workers, args.jobs, args.text)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
