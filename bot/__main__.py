"""`python -m bot`: run the bot; `bank-import DIR`: curate the bank; `health`: a quick check.

REDIS_URL must be set (the launcher `make run` starts an embedded server and sets it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from bot.settings import Settings, load_settings
from service.settings import setup_logging


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    bank = sub.add_parser("bank-import", help="add every recording in DIR to the bank")
    bank.add_argument("folder", type=Path, metavar="DIR")
    sub.add_parser("health", help="exit 0 if Redis answers and the database opens")
    return parser.parse_args(argv)


async def health(settings: Settings) -> int:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from storage import Storage

    client = Redis.from_url(settings.require_redis_url(), socket_timeout=5)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        print(f"unhealthy: Redis does not answer ({error})")
        return 1
    finally:
        await client.aclose()
    try:
        store = await Storage.open(settings.data_dir, collect_garbage=False)
        await store.close()
    except Exception as error:  # any failure to open is "unhealthy", with its reason
        print(f"unhealthy: the database does not open ({error})")
        return 1
    print("healthy")
    return 0


async def bank_import(settings: Settings, folder: Path) -> int:
    from bot.bank_import import engine_sample_maker, import_folder
    from storage import Storage

    if not folder.is_dir():
        print(f"not a folder: {folder}", file=sys.stderr)
        return 2
    make_sample = engine_sample_maker()
    # No garbage collection here: the bot may be running beside this import, and collecting
    # is the bot's own business at its start (storage.recordings.collect_garbage).
    async with await Storage.open(settings.data_dir, collect_garbage=False) as store:
        lines = await import_folder(folder, store, make_sample)
    for line in lines:
        print(f"{line.name}: {line.outcome}")
    if not lines:
        print(f"no recordings in {folder}")
    return 0 if any(not line.outcome.startswith("skipped") for line in lines) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = load_settings()
    setup_logging(settings.log_level)
    if args.command == "health":
        return asyncio.run(health(settings))
    if args.command == "bank-import":
        return asyncio.run(bank_import(settings, args.folder))
    settings.require_redis_url()
    from bot.app import run

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
