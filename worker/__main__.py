"""`python -m worker`: load the models, then take jobs from the queue until stopped.

`python -m worker health` exits 0 when some worker's readiness heartbeat is in Redis, 1 when
none is; `--this-host` counts only the workers of this host (a container's health check, so that
one stuck container among `--scale worker=N` does not pass on its neighbours' heartbeats).

`--download-missing` (what `make run` uses) first fetches the official weights that are missing,
so the first start of a laptop needs no separate `make weights`; offline, it says so and goes
on to the usual error.

Exit status 3 means the weights are missing or corrupt (or the resemble-perth package, which
holds the watermark network, is not installed): the log line names the file and the fix, and
restarting will not help until someone runs `make weights` (or installs the engine extra).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from service.settings import setup_logging
from worker.api import QUEUE
from worker.queue.presence import ready_workers
from worker.queue.recovery import DEFAULT_LEASE_SECONDS, DEFAULT_RELEASE_AFTER
from worker.settings import WorkerSettings, load_settings

log = logging.getLogger("worker")

EXIT_NO_WEIGHTS = 3


def weights_summary(weights: dict[str, Any]) -> str:
    """`encoder=pretrained.pt@39373b86598fa3da, ...`: which files, which bytes."""
    files = weights.get("files", {})
    return ", ".join(
        f"{name}={Path(f['file']).name}@{f['sha256']}{'' if f['official'] else ' (custom)'}"
        for name, f in files.items()
    ) or json.dumps(weights)


def health(settings: WorkerSettings, this_host_only: bool = False) -> int:
    try:
        workers = ready_workers(Redis.from_url(settings.require_redis_url(), socket_timeout=5))
    except RedisError as error:
        print(f"unhealthy: Redis is unreachable ({error})")
        return 1
    if this_host_only:
        host = socket.gethostname()
        workers = [info for info in workers if info.get("host") == host]
    if not workers:
        print("unhealthy: no worker is ready")
        return 1
    for info in workers:
        print(f"ready: {info.get('name')} on {info.get('device')} ({info.get('host')})")
    return 0


def exit_at_once(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def fetch_missing_weights(settings: WorkerSettings) -> None:
    """Download the official files that are absent; a failure is logged, not raised.

    Only presence is looked at here: the load that follows checks every file (size, sha256)
    and names the fix for a corrupt one, so nothing is resolved or hashed twice.
    """
    from sv2tts.weights.download import download_weights
    from sv2tts.weights.manifest import COMPONENTS, bundled_encoder_path, read_manifest

    manifest = read_manifest()
    folder = Path(settings.sv2tts_weights_dir)
    missing = [
        component
        for component in COMPONENTS
        if not (folder / manifest.spec(component).file).is_file()
        and not (component == "encoder" and bundled_encoder_path() is not None)
    ]
    if not missing:
        return
    log.info(
        "first start: downloading %s into %s/", ", ".join(missing), settings.sv2tts_weights_dir
    )
    try:
        download_weights(
            settings.sv2tts_weights_dir, components=missing, progress=sys.stderr.isatty()
        )
    except Exception as error:  # offline, a proxy, a full disk: the load below says what to do
        log.error("could not download the weights: %s", error)


def run(
    settings: WorkerSettings,
    lease_seconds: float,
    release_after: float,
    download_missing: bool = False,
) -> int:
    from sv2tts.watermark.model import WatermarkUnavailable
    from sv2tts.weights.manifest import WeightsError
    from worker.queue.resident import Housekeeper, ResidentWorker
    from worker.runtime import resident_runtime

    if download_missing:
        fetch_missing_weights(settings)
    log.info(
        "loading the models from %s/ on device %s", settings.sv2tts_weights_dir, settings.device
    )
    try:
        runtime = resident_runtime()
    except (WeightsError, WatermarkUnavailable) as error:
        log.error("cannot start: %s", error)
        return EXIT_NO_WEIGHTS
    runtime.lease.seconds = lease_seconds
    info = runtime.describe()
    log.info("ready on %s with weights %s", info["device"], weights_summary(info))
    # RQ's loop ends when Redis goes away mid-way (a restart, a failover). The models stay
    # loaded: once Redis answers again, a fresh RQ worker takes over in the same process.
    while True:
        worker = ResidentWorker(
            [QUEUE],
            runtime=runtime,
            connection=Redis.from_url(runtime.settings.require_redis_url()),
            release_after=release_after,
            log_job_description=False,  # job arguments hold user text and embeddings
        )
        if not work_until_stopped_or_cut_off(worker, Housekeeper(worker), settings.log_level):
            return 0
        wait_for_redis(runtime.redis)


def work_until_stopped_or_cut_off(worker: Any, housekeeper: Any, log_level: str) -> bool:
    """Run `worker` (a ResidentWorker); False when it stopped on request, True when Redis
    cut it off and it should start over."""
    # RQ installs its signal handlers only once its loop starts; a stop request that comes
    # earlier must still run the `finally` below, or a dead worker's heartbeat would linger.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, exit_at_once)
    cut_off = False
    try:
        housekeeper.tick(recover=True)
        housekeeper.start()
        worker.work(logging_level=log_level.upper())
        cut_off = not worker.stop_asked
    except RedisError as error:
        log.warning("Redis is unavailable (%s); waiting for it to come back", error)
        cut_off = True
    finally:
        housekeeper.stop(withdraw=not cut_off)  # a worker that goes on stays "ready"
        log.info("worker %s %s", worker.name, "cut off" if cut_off else "stopped")
    return cut_off


def wait_for_redis(redis: Redis, most: float = 10.0) -> None:
    """Until Redis answers a PING, trying again every second or two, then up to `most`."""
    delay = 1.0
    while True:
        try:
            if redis.ping():
                log.info("Redis is back")
                return
        except RedisError:
            pass
        time.sleep(delay)
        delay = min(most, delay * 1.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("run", "health"), default="run")
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=DEFAULT_LEASE_SECONDS,
        help="how long a dead worker's job waits before another worker takes it over",
    )
    parser.add_argument(
        "--release-after",
        type=float,
        default=DEFAULT_RELEASE_AFTER,
        help="on a stop request, seconds to let the running job finish before handing it back",
    )
    parser.add_argument(
        "--this-host", action="store_true", help="health: count only this host's workers"
    )
    parser.add_argument(
        "--download-missing",
        action="store_true",
        help="run: fetch missing official weights first (make run does this)",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings.log_level)
    if args.command == "health":
        return health(settings, this_host_only=args.this_host)
    return run(
        settings, args.lease_seconds, args.release_after, download_missing=args.download_missing
    )


if __name__ == "__main__":
    sys.exit(main())
