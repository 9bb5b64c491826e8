"""`python -m worker.bench`: synth jobs per minute and latency through real worker processes.

N synth jobs are enqueued at once and run by one, then by two `python -m worker` processes,
against an embedded Redis and a small Bot API sink of its own on loopback (the uploads land
there; it needs nothing of the test suite, so the bench runs inside the worker image too).
Latency is from the request being enqueued to its voice note being uploaded.

Weights: by default the tiny random synthesizer and vocoder of ../shared/sv2tts-reference
(`--reference-dir`; with the real speaker encoder), which measures the worker's own overhead
(queue, Redis, encoding, upload) more than the models. `--full-size` writes full-size networks
with random weights (the published shapes, from the models' own default configs) as a custom
model: the real models' cost, except that random weights never predict a stop, so each
sentence decodes to the synthesizer's step limit (12 frames a character, about twice real
speech): an upper bound.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue

from service.embedded_redis import EmbeddedRedis
from sv2tts.cpuinfo import cpu_info
from worker.api import QUEUE, SERIALIZER, SYNTH_JOB, SynthRequest, synth_job_timeout
from worker.bench.sink import BotApiSink
from worker.bench.weights import weights_for
from worker.queue.presence import ready_workers

DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog."
ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_REFERENCE = ROOT.parent / "shared" / "sv2tts-reference"
BENCH_TOKEN = "1:bench"


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


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
    return value


@contextlib.contextmanager
def worker_processes(count: int, env: dict[str, str], logs: Path) -> Iterator[list[int]]:
    """`count` worker processes (each in a session of its own), stopped with SIGTERM after."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(count):
            with (logs / f"worker-{n}.log").open("wb") as log:
                started.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "worker"],
                        env=env,
                        cwd=ROOT,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield [process.pid for process in started]
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def run_once(
    api: BotApiSink, redis_url: str, env: dict[str, str], workers: int, jobs: int, text: str
) -> RunResult:
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    with (
        tempfile.TemporaryDirectory(prefix="worker-bench-logs-") as logs,
        worker_processes(workers, env, Path(logs)) as pids,
    ):
        for pid in pids:
            wait_until(
                lambda pid=pid: any(w.get("pid") == pid for w in ready_workers(redis)),
                600,
                f"worker {pid} to load its models (log in {logs})",
            )
        since = len(api.uploads)
        queue = Queue(QUEUE, connection=redis, serializer=SERIALIZER)
        requests = [synth_request(n, text) for n in range(jobs)]
        first = time.time()
        for request in requests:
            queue.enqueue(SYNTH_JOB, request.to_dict(), job_timeout=synth_job_timeout(text) * 10)
        uploads = wait_until(
            lambda: (found := api.uploads_since(since)) and len(found) >= jobs and found,
            3600,
            f"{jobs} voice notes",
        )
    sent = {upload.chat_id: upload.at for upload in uploads}
    latencies = [sent[r.chat_id] - r.enqueued_at for r in requests]
    audio = sum(upload.duration for upload in uploads)
    return RunResult(workers, jobs, max(sent.values()) - first, latencies, audio)


def describe(result: RunResult) -> str:
    return (
        f"{result.workers} worker(s): {result.jobs} jobs in {result.wall_seconds:.1f} s = "
        f"{result.jobs_per_minute:.1f} jobs/min; latency p50 {result.percentile(0.5):.1f} s, "
        f"p95 {result.percentile(0.95):.1f} s; {result.audio_seconds / result.jobs:.1f} s of "
        f"audio per job"
    )


def worker_env(api: BotApiSink, redis_url: str, weights: Path, args: argparse.Namespace) -> dict:
    """Only what a worker needs: nothing of a developer's environment or .env leaks in."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        BOT_TOKEN=BENCH_TOKEN,
        TELEGRAM_API_URL=api.url,
        REDIS_URL=redis_url,
        SV2TTS_WEIGHTS_DIR=str(weights),
        DEVICE=args.device,
        OMP_NUM_THREADS=str(args.threads),
        LOG_LEVEL="WARNING",
    )
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.bench", description=__doc__)
    parser.add_argument("--jobs", type=int, default=12, help="synth jobs per run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--full-size", action="store_true", help="full-size random weights")
    parser.add_argument("--weights-dir", help="use these weights instead (e.g. pretrained)")
    parser.add_argument(
        "--reference-dir",
        default=str(DEFAULT_REFERENCE),
        help="where the tiny reference checkpoints are (the default weights)",
    )
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads per worker (OMP_NUM_THREADS)"
    )
    args = parser.parse_args(argv)
    kind = (
        f"weights in {args.weights_dir}"
        if args.weights_dir
        else "FULL-SIZE RANDOM weights (decoding runs to the step limit: an upper bound)"
        if args.full_size
        else "TINY random weights (measures the worker's overhead, not the real models)"
    )
    print(f"worker bench: {args.jobs} jobs of {len(args.text)} characters, {kind}")
    print(f"device {args.device}, {args.threads} torch thread(s) per worker")
    print(f"CPU: {cpu_info().describe()}")
    with (
        tempfile.TemporaryDirectory(prefix="worker-bench-") as scratch,
        EmbeddedRedis(None, persist=False) as redis,
        BotApiSink() as api,
    ):
        weights = weights_for(args, Path(scratch))
        env = worker_env(api, redis.url, weights, args)
        for workers in args.workers:
            print(describe(run_once(api, redis.url, env, workers, args.jobs, args.text)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
