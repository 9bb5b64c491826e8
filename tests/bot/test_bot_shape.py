"""The bot's shape, read from its code (issue 22): handlers reach what they share through the
services that bot/app.py builds once and the Dispatcher hands in (bot/services/), not through
one another, and no function takes a bag of collaborators by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

HANDLERS = ROOT / "bot" / "handlers"
HANDLERS_PACKAGE = "bot.handlers"
# The package's __init__ gathers the routers in their order: the one module that may.
GATHERER = HANDLERS / "__init__.py"
MAX_PARAMETERS = 6  # not counting self; an aiogram handler's are injected, one by one
ROUTER_OBSERVERS = {"message", "callback_query", "inline_query", "error", "edited_message"}


def handler_modules() -> list[Path]:
    return sorted(p for p in HANDLERS.glob("*.py") if p != GATHERER)


def imported_modules(path: Path) -> list[str]:
    """Dotted names `path` imports (anywhere in it); a relative import as `.name`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names += [
                f"{base}.{alias.name}" if base != "." else f".{alias.name}" for alias in node.names
            ]
    return names


def imports_a_handler(name: str) -> bool:
    return (
        name.startswith(".") or name == HANDLERS_PACKAGE or name.startswith(f"{HANDLERS_PACKAGE}.")
    )


def test_there_are_handler_modules_to_look_at() -> None:
    assert len(handler_modules()) >= 10


@pytest.mark.parametrize("path", handler_modules(), ids=lambda p: p.name)
def test_no_handler_module_imports_another(path: Path) -> None:
    """What two handlers share belongs in a service (bot/services/) or a small module of
    bot/, where both import it from."""
    found = [name for name in imported_modules(path) if imports_a_handler(name)]
    assert not found, f"bot/handlers/{path.name} imports handler modules: {found}"


def test_the_check_sees_a_handler_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from bot.handlers.say import x\nimport bot.handlers.forget\nfrom . import check\n"
        "from bot.handlers import register\nfrom bot.screens import show_screen\n"
    )
    found = [name for name in imported_modules(sample) if imports_a_handler(name)]
    assert found == [
        "bot.handlers.say.x",
        "bot.handlers.forget",
        ".check",
        "bot.handlers.register",
    ]


def is_handler(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Registered on a router (`@router.message(...)`): aiogram injects its parameters."""
    for decorator in function.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Attribute) and call.attr in ROUTER_OBSERVERS:
            return True
    return False


def parameter_count(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = function.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return len([name for name in names if name not in ("self", "cls")])


def test_no_function_takes_a_bag_of_collaborators() -> None:
    """A function that needs the Bot, settings, storage, the queue... is a service's method,
    which holds them (bot/services/); its callers pass what the call is about."""
    too_many = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or is_handler(node):
                continue
            if parameter_count(node) > MAX_PARAMETERS:
                relative = path.relative_to(ROOT)
                too_many.append(f"{relative}:{node.lineno} {node.name}")
    assert not too_many, f"more than {MAX_PARAMETERS} parameters: {too_many}"
