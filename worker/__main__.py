"""`python -m worker`: load the models, then take jobs from `embed` then `synth` until stopped.

`python -m worker health` exits 0 when some worker's readiness heartbeat is in Redis, 1 when
none is; `--this-host` counts only the workers of this host (a container's health check, so that
one stuck container among `--scale worker=N` does not pass on its neighbours' heartbeats).

`--download-missing` (what `make run` uses) first fetches the official weights that are missing,
so the first start of a laptop needs no separate `make weights`; offline, it says so and goes
on to the usual error.

Exit status 3 means the weights are missing or corrupt: the log line names the file and the
fix, and restarting will not help until someone runs `make weights`.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from bot.settings import Settings, load_settings
from worker.api import QUEUES, WORKER_HEARTBEAT_PREFIX

log = logging.getLogger("worker")

EXIT_NO_WEIGHTS = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def ready_workers(redis: Redis) -> list[dict[str, object]]:
    """The heartbeats of workers whose models are loaded, newest information each."""
    found = []
    for key in redis.scan_iter(match=WORKER_HEARTBEAT_PREFIX + "*"):
        raw = redis.get(key)
        if raw:
            found.append(json.loads(raw))
    return found


def weights_summary(weights: dict[str, Any]) -> str:
    """`encoder=pretrained.pt@39373b86598fa3da, ...`: which files, which bytes."""
    files = weights.get("files", {})
    return ", ".join(
        f"{name}={Path(f['file']).name}@{f['sha256']}{'' if f['official'] else ' (custom)'}"
        for name, f in files.items()
    ) or json.dumps(weights)


def health(settings: Settings, this_host_only: bool = False) -> int:
    from worker.runtime import redis_url

    try:
        workers = ready_workers(Redis.from_url(redis_url(settings), socket_timeout=5))
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


def fetch_missing_weights(settings: Settings) -> None:
    """Download the official files that are absent; a failure is logged, not raised.

    Only presence is looked at here: the load that follows checks every file (size, sha256)
    and names the fix for a corrupt one, so nothing is resolved or hashed twice.
    """
    from sv2tts.download import download_weights
    from sv2tts.weights import COMPONENTS, bundled_encoder_path, read_manifest

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


def run(settings: Settings, lease_seconds: int, download_missing: bool = False) -> int:
    from sv2tts.weights import WeightsError
    from worker.runtime import resident_runtime
    from worker.worker import Housekeeper, ResidentWorker

    if download_missing:
        fetch_missing_weights(settings)
    log.info(
        "loading the models from %s/ on device %s", settings.sv2tts_weights_dir, settings.device
    )
    try:
        runtime = resident_runtime()
    except WeightsError as error:
        log.error("cannot start: %s", error)
        return EXIT_NO_WEIGHTS
    info = runtime.describe()
    log.info("ready on %s with weights %s", info["device"], weights_summary(info["weights"]))
    worker = ResidentWorker(
        QUEUES,
        runtime=runtime,
        connection=Redis.from_url(runtime.settings.redis_url or ""),
        lease_seconds=lease_seconds,
        log_job_description=False,  # job arguments hold user text and embeddings
    )
    housekeeper = Housekeeper(worker)
    # RQ installs its signal handlers only once its loop starts; a stop request that comes
    # earlier must still run the `finally` below, or a dead worker's heartbeat would linger.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, exit_at_once)
    try:
        housekeeper.tick(recover=True)
        housekeeper.start()
        worker.work(logging_level=settings.log_level.upper())
    finally:
        housekeeper.stop()  # also withdraws the heartbeat
        log.info("worker %s stopped", worker.name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("run", "health"), default="run")
    parser.add_argument(
        "--lease-seconds",
        type=int,
        default=15,
        help="how long a dead worker's job waits before another worker takes it over",
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
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    if args.command == "health":
        return health(settings, this_host_only=args.this_host)
    return run(settings, args.lease_seconds, download_missing=args.download_missing)


if __name__ == "__main__":
    sys.exit(main())
