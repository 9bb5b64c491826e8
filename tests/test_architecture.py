"""The arrows between the folders run one way (ARCHITECTURE.md), read from the code itself.

    bot ──▶ worker.api (the contract) ◀── the rest of worker/ ──▶ sv2tts
     │         (jobs, payloads, keys, calls)                           ▲
     ▼                                                                 │
    storage ───────────────────────────────────────────────────────────┘  (its light types only)
    service: what every process stands on; it imports none of the others

Every `import` in every shipped module is checked, including those inside functions; and the
bot process is started for real to see that it never loads torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("bot", "worker", "storage", "service", "sv2tts")

# package -> the packages (or modules) of the project it may import
ALLOWED: dict[str, tuple[str, ...]] = {
    "sv2tts": ("sv2tts",),
    "service": ("service",),
    "storage": ("storage", "sv2tts.audio.measures", "sv2tts.choices", "sv2tts.embedding"),
    "worker": ("worker", "service", "sv2tts"),
    "bot": ("bot", "service", "storage", "sv2tts", "worker"),
}
# What of the worker the bot's process may load: the contract (its calls on the queue
# included). The offline `bank-import` command reuses the worker's own embedding code, loaded
# inside it.
BOT_MAY_LOAD_FROM_WORKER = ("worker.api",)
BOT_OFFLINE_TOOLS = ("bot/bank_import.py",)
CONTRACT_MAY_IMPORT = ("worker.api", "sv2tts.choices", "sv2tts.audio.measures")
MAX_LINES = 450
# A network in one file (nanoGPT's rule) and the text rule tables may be longer.
LONG_ON_PURPOSE = {
    "sv2tts/synthesizer/model.py",
    "sv2tts/text/russian.py",
    "sv2tts/text/english.py",
}


def shipped_modules() -> list[Path]:
    return sorted(p for package in SHIPPED for p in (ROOT / package).rglob("*.py"))


def project_imports(path: Path) -> list[str]:
    """Dotted names of the project's modules that `path` imports (anywhere in it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return [n for n in names if n.split(".")[0] in (*SHIPPED, "tests")]


def allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reaches_into_the_worker(package: str, relative: str, name: str) -> bool:
    """A bot module (other than the offline tools) importing what is not the worker's API."""
    if package != "bot" or not name.startswith("worker") or relative in BOT_OFFLINE_TOOLS:
        return False
    return not allowed(name, BOT_MAY_LOAD_FROM_WORKER)


def test_every_shipped_module_is_looked_at() -> None:
    """Every Python package the repository tracks is either shipped (and checked here) or the
    tests: a new top-level package cannot slip past the rules by not being listed."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    tops = {name.split("/")[0] for name in tracked if "/" in name}
    assert tops - {"tests"} <= set(SHIPPED), sorted(tops - {"tests", *SHIPPED})
    looked_at = {p.relative_to(ROOT).as_posix() for p in shipped_modules()}
    assert {name for name in tracked if name.split("/")[0] in SHIPPED} <= looked_at
    assert sum(1 for p in shipped_modules() if project_imports(p)) > 60


@pytest.mark.parametrize("package", SHIPPED)
def test_imports_run_down_the_picture_only(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for name in project_imports(path):
            if not allowed(name, ALLOWED[package]):
                wrong.append(f"{relative} imports {name}")
            elif reaches_into_the_worker(package, relative, name):
                wrong.append(f"{relative} imports {name}, not the worker's public API")
    assert wrong == []


def test_the_contract_imports_nothing_else_of_the_worker() -> None:
    """The bot loads `worker.api` alone: it stands on sv2tts's light types and nothing else
    of the worker (the worker's side imports the contract, never the reverse)."""
    wrong = [
        f"{path.relative_to(ROOT).as_posix()} imports {name}"
        for path in sorted((ROOT / "worker" / "api").rglob("*.py"))
        for name in project_imports(path)
        if not allowed(name, CONTRACT_MAY_IMPORT)
    ]
    assert wrong == []


def test_no_shipped_module_is_too_long_to_read() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): n
        for path in shipped_modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) <= LONG_ON_PURPOSE, long


MAX_MODULES_SIDE_BY_SIDE = 20


def test_no_folder_is_one_flat_room() -> None:
    """No package, shipped or test, holds more than 20 modules side by side (its __init__ not
    counted): past that a newcomer searches instead of reading the folder names."""
    crowded = {}
    for top in (*SHIPPED, "tests"):
        for folder in [ROOT / top, *(d for d in (ROOT / top).rglob("*") if d.is_dir())]:
            modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            if len(modules) > MAX_MODULES_SIDE_BY_SIDE and "__pycache__" not in folder.parts:
                crowded[folder.relative_to(ROOT).as_posix()] = len(modules)
    assert crowded == {}


ENGINE = ("sv2tts.encoder", "sv2tts.synthesizer", "sv2tts.vocoder", "sv2tts.watermark")


# The one check that light processes stay light: what each imports, in a fresh interpreter.
@pytest.mark.parametrize(
    ("modules", "forbidden"),
    [
        # the bot's process, its entry point and the offline bank import included
        ("bot.app, bot.__main__, bot.handlers, bot.bank_import", ("torch", "librosa", *ENGINE)),
        ("bot.app", ("tests",)),
        ("service.local", ("torch", "librosa", "bot", "worker", "storage", "tests")),
        ("storage", ("torch", "librosa", "bot", "worker", "tests")),
        ("worker.api", ("torch", "librosa", "bot", "tests", *ENGINE)),
        # the parts of the engine the bot and storage use
        (
            "sv2tts, sv2tts.text, sv2tts.audio.codec, sv2tts.audio.measures, sv2tts.choices, "
            "sv2tts.errors, sv2tts.embedding, sv2tts.devices",
            ("torch", "librosa"),
        ),
        ("sv2tts.audio.recording", ("torch",)),
    ],
)
def test_light_processes_load_nothing_heavy(modules: str, forbidden: tuple[str, ...]) -> None:
    code = (
        f"import sys\nimport {modules}\n"
        f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') "
        f"for f in {forbidden!r}))\n"
        "assert not bad, bad[:10]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
