"""docker/worker-entrypoint.sh: weights first, then the worker, and never the worker on a failure.

The script runs here under /bin/sh with a stand-in `python` first on PATH that records its
arguments, so what the container would run is observed, not read off the script's text.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.compose_files import ROOT

ENTRYPOINT = ROOT / "docker" / "worker-entrypoint.sh"


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """A `python` that appends its arguments to calls.log and fails when they say so."""
    if shutil.which("sh") is None:
        pytest.skip("no POSIX sh here")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "python"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$$ $*" >> "$CALLS_LOG"\n'
        'case "$*" in *"$FAIL_ON"*) [ -n "$FAIL_ON" ] && exit 7 ;; esac\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    return bin_dir


@dataclass(frozen=True)
class Run:
    status: int
    calls: list[str]  # the fake python's arguments, one string per call
    pids: list[int]  # the process id of each call
    pid: int  # the entrypoint's own process id


def run_entrypoint(
    bin_dir: Path, *command: str, fail_on: str = "", weights_dir: str | None = "/weights"
) -> Run:
    log = bin_dir.parent / "calls.log"
    log.unlink(missing_ok=True)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "CALLS_LOG": str(log),
        "FAIL_ON": fail_on,
    }
    if weights_dir is not None:
        env["SV2TTS_WEIGHTS_DIR"] = weights_dir
    process = subprocess.Popen(["sh", str(ENTRYPOINT), *command], env=env)
    status = process.wait(timeout=30)
    lines = [line.split(" ", 1) for line in log.read_text().splitlines()] if log.exists() else []
    return Run(status, [args for _, args in lines], [int(pid) for pid, _ in lines], process.pid)


def test_downloads_the_weights_then_runs_the_worker(fake_python: Path) -> None:
    run = run_entrypoint(fake_python, "python", "-m", "worker")
    assert run.status == 0
    assert run.calls == ["-m sv2tts download --no-progress -v --weights-dir /weights", "-m worker"]


def test_downloads_into_the_configured_weights_dir(fake_python: Path) -> None:
    run = run_entrypoint(fake_python, "python", "-m", "worker", weights_dir="/srv/w")
    assert run.calls[0] == "-m sv2tts download --no-progress -v --weights-dir /srv/w"
    run = run_entrypoint(fake_python, "python", "-m", "worker", weights_dir=None)
    assert run.calls[0] == "-m sv2tts download --no-progress -v --weights-dir /weights"


def test_failed_download_stops_before_the_worker(fake_python: Path) -> None:
    run = run_entrypoint(fake_python, "python", "-m", "worker", fail_on="download")
    assert run.status == 7
    assert run.calls == ["-m sv2tts download --no-progress -v --weights-dir /weights"]


def test_runs_any_command_after_the_download(fake_python: Path) -> None:
    """`docker compose run --rm worker python -m sv2tts bench` gets weights, then the bench."""
    run = run_entrypoint(fake_python, "python", "-m", "sv2tts", "bench")
    assert run.status == 0
    assert run.calls[-1] == "-m sv2tts bench"


def test_worker_replaces_the_shell(fake_python: Path) -> None:
    """exec: the worker gets the shell's pid, so SIGTERM reaches it and it can finish its job."""
    run = run_entrypoint(fake_python, "python", "-m", "worker", fail_on="worker")
    assert run.status == 7
    download_pid, worker_pid = run.pids
    assert worker_pid == run.pid
    assert download_pid != run.pid


def test_download_arguments_are_ones_the_sv2tts_cli_accepts() -> None:
    from sv2tts.cli import build_parser

    line = next(
        line for line in ENTRYPOINT.read_text().splitlines() if line.startswith("python -m sv2tts")
    )
    arguments = shlex.split(line.replace("${SV2TTS_WEIGHTS_DIR:-/weights}", "/weights"))[3:]
    parsed = build_parser().parse_args(arguments)
    assert parsed.command == "download"
    assert parsed.weights_dir == Path("/weights")
    assert parsed.no_progress and parsed.verbose


@pytest.mark.parametrize("package", ["bot", "worker"])
def test_health_subcommand_exists(package: str) -> None:
    """docker-compose.yml's health checks call `python -m <package> health`."""
    result = subprocess.run(
        [sys.executable, "-m", package, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "health" in result.stdout
