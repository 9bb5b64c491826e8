"""Two training processes on one machine, set up as torchrun sets them up (the environment
variables of its rendezvous), for the distributed tests."""

from __future__ import annotations

import os
import socket
import sys

from sv2tts.cli import main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def train_as_rank(rank: int, world_size: int, port: int, args: list[str]) -> None:
    """`python -m sv2tts train ARGS...` as process `rank` of `world_size` (a forked child)."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    sys.exit(main(["train", *args]))
