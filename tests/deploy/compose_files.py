"""Reading the project's Compose files the way `docker compose` does, without Docker.

No Docker engine or Compose plugin is needed: variables are interpolated from an env mapping
(Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
`$VAR` and `$$`), override files are merged onto the base, and the result is checked against
the Compose Specification by the `compose-spec` package (a strict parser: unknown keys, wrong
types and bad durations are errors).

The merge is a subset of Compose's rules: mappings merge key by key, a scalar replaces a
scalar, and `!reset` removes the key. Compose merges some lists (ports, volumes, ...) by rules
of their own; rather than model them, `merge` refuses an override that sets a list the base
already has, so a test can never pass on a merge that Compose would do differently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "docker-compose.yml"
CPU = ROOT / "docker" / "compose.cpu.yml"
REDIS_PRIVATE = ROOT / "docker" / "compose.redis-private.yml"
WEBHOOK = ROOT / "docker" / "compose.webhook.yml"
REMOTE_WORKER = ROOT / "docker" / "compose.remote-worker.yml"
ENV_EXAMPLE = ROOT / ".env.example"

COMPOSE_FILES = (BASE, CPU, REDIS_PRIVATE, WEBHOOK, REMOTE_WORKER)

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
ENV_LINE = re.compile(r"^\s*(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


class MissingVariable(LookupError):
    """A `${VAR:?message}` whose variable is unset (or empty)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class Reset:
    """The value of a `!reset` tag: the key is removed from the merged file."""

    def __repr__(self) -> str:
        return "!reset"


RESET = Reset()


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!reset", lambda loader, node: RESET)


def env_file_entries(path: Path = ENV_EXAMPLE) -> list[tuple[str, str, bool]]:
    """(NAME, value, commented_out) for every `NAME=value` or `# NAME=value` line."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line)
        if match:
            entries.append((match["name"], match["value"], bool(match["commented"])))
    return entries


def env_file_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """What Compose reads from an env file: the lines that are not commented out."""
    return {name: value for name, value, commented in env_file_entries(path) if not commented}


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["bare"]:
            return env.get(match["bare"], "")
        name, op, arg = match["braced"], match["op"], match["arg"] or ""
        value = env.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if unset else str(value)
        if op in (":?", "?"):
            if unset:
                raise MissingVariable(name, arg or "required")
            return str(value)
        return value or ""

    return _VARIABLE.sub(substitute, text)


def variables_used(path: Path) -> set[str]:
    """The names of the variables a Compose file interpolates."""
    names = set()
    for match in _VARIABLE.finditer(path.read_text(encoding="utf-8")):
        name = match["braced"] or match["bare"]
        if name:
            names.add(name)
    return names


def load_yaml(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """One Compose file, interpolated, with `!reset` as RESET.

    Interpolation runs on the text before parsing, so that `target: ${PORT:-8080}` becomes the
    integer Compose makes of it.
    """
    document = yaml.load(interpolate(path.read_text(encoding="utf-8"), env), Loader=_Loader)
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return document


def merge(base: Any, override: Any, where: str = "") -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value is RESET:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = merge(merged[key], value, f"{where}.{key}")
            else:
                merged[key] = _without_resets(value)
        return merged
    if isinstance(base, list) or isinstance(override, list):
        raise NotImplementedError(
            f"{where}: an override sets a list the base already has; Compose merges lists by "
            "rules this test does not model"
        )
    return override


def _without_resets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_resets(v) for k, v in value.items() if v is not RESET}
    return value


def compose_config(env: Mapping[str, str], *paths: Path) -> dict[str, Any]:
    """The merged model of `docker compose -f A -f B ...`, validated against the spec."""
    merged: dict[str, Any] = {}
    for path in paths:
        merged = merge(merged, load_yaml(path, env))
    validate_against_spec(merged)
    return merged


def validate_against_spec(document: Mapping[str, Any]) -> dict[str, Any]:
    """compose-spec's parse of the document (raises ValueError when it breaks the spec)."""
    from compose_spec import PyOptions

    text = yaml.safe_dump(dict(document), sort_keys=False)
    parsed = PyOptions(apply_merge=True).from_yaml(text)
    parsed.validate()
    return parsed.to_dict()


def named_volume_mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """target path -> volume name, for the service's named-volume mounts (short or long form)."""
    mounts = {}
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            source, _, rest = entry.partition(":")
            target = rest.split(":")[0]
            if source and not source.startswith((".", "/", "~")):
                mounts[target] = source
        elif entry.get("type", "volume") == "volume" and entry.get("source"):
            mounts[entry["target"]] = entry["source"]
    return mounts
