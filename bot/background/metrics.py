"""Prometheus metrics of the whole service, served by the bot on METRICS_PORT (`/metrics`).

Why the bot serves the workers' figures too: every synth job's outcome comes to the bot
(worker.api.SynthOutcome on the results list, with its queue wait, synthesis time, audio
length and error code) and the bot awaits every recording and check itself, so the bot
already sees each job once, whichever worker ran it. One scrape target then covers any
number of workers on any number of hosts, and a GPU host behind a firewall needs no port
open to the Prometheus server. What only Redis knows (the queue, the workers alive, the
dead letters) is read when Prometheus scrapes: three cheap calls.

    jobs_total{kind, outcome}        counter: synth | embed | check, "ok" or an error code
    refusals_total{reason}           counter: recordings refused (no_speech, too_short, ...)
    queue_wait_seconds               histogram: enqueued -> a worker started it (synth)
    synthesis_seconds                histogram: model time (synth)
    upload_seconds                   histogram: the rest, to Telegram's answer (synth)
    realtime_factor                  histogram: synthesis seconds per second of audio
    queue_depth{kind}                gauge: recordings (and checks) and speech waiting
    workers_alive                    gauge: workers with their models loaded
    dead_letters                     gauge: outcomes no one could read (bot/background/sweeper.py)

All names carry the `voiceclone_` prefix. The registry is this object's own (no global
state), so tests and several bots in one process never share counts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from redis.exceptions import RedisError

from bot.queue import JobQueue
from worker.api import SynthOutcome

log = logging.getLogger(__name__)

PREFIX = "voiceclone"
METRICS_PATH = "/metrics"
# Recording refusals: the codes that mean "this recording cannot become a voice".
REFUSAL_CODES = frozenset(
    {"not_audio", "too_large", "too_long", "too_short", "silent", "clipped", "no_speech",
     "decode_timeout"}
)  # fmt: skip
SECONDS_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
RTF_BUCKETS = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)


class ServiceMetrics:
    """The service's figures in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Counter(
            f"{PREFIX}_jobs", "Jobs finished, by kind and outcome", ["kind", "outcome"], registry=r
        )
        self.refusals = Counter(
            f"{PREFIX}_refusals", "Recordings refused, by reason", ["reason"], registry=r
        )
        self.queue_wait = Histogram(
            f"{PREFIX}_queue_wait_seconds",
            "Speech requests: enqueued to started by a worker",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.synthesis = Histogram(
            f"{PREFIX}_synthesis_seconds",
            "Speech requests: model time",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.upload = Histogram(
            f"{PREFIX}_upload_seconds",
            "Speech requests: after the models to Telegram's answer (finishing, encoding, upload)",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.rtf = Histogram(
            f"{PREFIX}_realtime_factor",
            "Speech requests: synthesis seconds per second of audio",
            buckets=RTF_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            f"{PREFIX}_queue_depth", "Jobs waiting in the queue", ["kind"], registry=r
        )
        self.workers = Gauge(f"{PREFIX}_workers_alive", "Workers ready to work", registry=r)
        self.dead_letters = Gauge(
            f"{PREFIX}_dead_letters", "Outcomes that could not be read", registry=r
        )

    def observe_outcome(self, outcome: SynthOutcome) -> None:
        """A speech request's outcome, as the bot records it (once per request)."""
        self.jobs.labels("synth", "ok" if outcome.ok else outcome.error_code or "internal").inc()
        if not outcome.ok:
            return
        self.queue_wait.observe(outcome.queue_seconds)
        self.synthesis.observe(outcome.synth_seconds)
        rest = outcome.total_seconds - outcome.queue_seconds - outcome.synth_seconds
        self.upload.observe(max(0.0, rest))
        if outcome.audio_seconds > 0:
            self.rtf.observe(outcome.synth_seconds / outcome.audio_seconds)

    def observe_job(self, kind: str, error_code: str | None) -> None:
        """A recording ("embed") or watermark check ("check") the bot waited for."""
        self.jobs.labels(kind, error_code or "ok").inc()
        if kind == "embed" and error_code in REFUSAL_CODES:
            self.refusals.labels(error_code).inc()

    async def refresh(self, jobs: JobQueue) -> None:
        """The figures only Redis knows, read now."""
        recordings, speech = await jobs.queue_lengths()
        self.queue_depth.labels("recordings").set(recordings)
        self.queue_depth.labels("speech").set(speech)
        self.workers.set(await jobs.workers_ready())
        self.dead_letters.set(await jobs.unreadable_outcomes())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_handler(
    metrics: ServiceMetrics, jobs: JobQueue
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        try:
            await metrics.refresh(jobs)
        except RedisError as error:  # the counters are still worth having
            log.warning("metrics: Redis unavailable (%s); queue figures are stale", error)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
        )

    return handle


async def serve_metrics(
    metrics: ServiceMetrics, jobs: JobQueue, host: str, port: int
) -> web.AppRunner:
    """Start the endpoint (http://host:port/metrics); the caller cleans the runner up."""
    app = web.Application()
    app.router.add_get(METRICS_PATH, metrics_handler(metrics, jobs))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics on http://%s:%s%s", host, port, METRICS_PATH)
    return runner
