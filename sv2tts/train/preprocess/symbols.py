"""The text front end a training set is written for, chosen by name or by a sidecar json.

    frontend, language = named_frontend("english")     # the public checkpoint's 66 symbols
    frontend, language = named_frontend("path/to/synthesizer.json")  # symbols + cleaners there

The names come from the engine's text package (`sv2tts.text`), which owns the symbol sets:
"english" is its default front end; any other name is asked of `sv2tts.text.frontend_named`
(the registered sets with their cleaners and language, e.g. "russian") or, failing that, of
a registry in `sv2tts.text.symbols` (`SYMBOL_SETS`, `symbol_set_named`), so that a set added
there is usable here without a change to this module. A path to a json file is read like a
checkpoint's sidecar (`symbols`, `cleaners`, `language`).

`with_stress(frontend)`: a Russian front end with the engine's shared stress model attached
(where `sv2tts.text.stress` provides one), so that training text is stressed as inference
text will be; it loads a model, so workers call it once each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sv2tts.text
from sv2tts.text import TextFrontend, default_text_frontend, frontend_from_config, symbols
from sv2tts.text.symbols import TextFrontendError

DEFAULT_SYMBOLS_NAME = "english"


def _from_registry(name: str) -> Any:
    for owner, function in (
        (sv2tts.text, "frontend_named"),
        (symbols, "symbol_set_named"),
        (symbols, "named_symbol_set"),
    ):
        lookup = getattr(owner, function, None)
        if callable(lookup):
            return lookup(name)
    registry = getattr(symbols, "SYMBOL_SETS", None)
    if isinstance(registry, Mapping) and name in registry:
        return registry[name]
    return None


def _language_of(frontend: TextFrontend, declared: object) -> str:
    if isinstance(declared, str) and declared:
        return declared
    return "ru" if any(name.startswith("russian") for name in frontend.cleaners) else "en"


def named_frontend(name: str) -> tuple[TextFrontend, str]:
    """(front end, language code) for a symbol-set name or a sidecar json path."""
    if name == DEFAULT_SYMBOLS_NAME:
        return default_text_frontend(), "en"
    path = Path(name)
    if name.endswith(".json") and path.is_file():
        config = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise TextFrontendError(f"{path}: must be a JSON object")
        front = {k: config[k] for k in ("symbols", "cleaners") if k in config}
        frontend = frontend_from_config(front)
        return frontend, _language_of(frontend, config.get("language"))
    found = None
    try:
        found = _from_registry(name)
    except (KeyError, ValueError) as error:
        raise TextFrontendError(f"unknown symbol set {name!r}: {error}") from error
    if isinstance(found, TextFrontend):
        return found, _language_of(found, getattr(found, "language", None))
    if found is not None and hasattr(found, "encode") and hasattr(found, "cleaners"):
        return found, _language_of(found, getattr(found, "language", None))
    if isinstance(found, Mapping):
        frontend = frontend_from_config(
            {k: found[k] for k in ("symbols", "cleaners") if k in found}
        )
        return frontend, _language_of(frontend, found.get("language"))
    if found is not None and hasattr(found, "symbols"):  # a SymbolSet-like object
        frontend = frontend_from_config({"symbols": list(found.symbols)})
        return frontend, _language_of(frontend, None)
    raise TextFrontendError(
        f"unknown symbol set {name!r}: use {DEFAULT_SYMBOLS_NAME!r}, a name sv2tts.text knows, "
        "or a json file with 'symbols' and 'cleaners'"
    )


def with_stress(frontend: TextFrontend, language: str) -> TextFrontend:
    """`frontend` with the engine's shared stress model, for Russian; else as it is."""
    attach = getattr(frontend, "with_stresser", None)
    if language != "ru" or not callable(attach):
        return frontend
    try:
        from sv2tts.text.stress import shared_stresser  # type: ignore[attr-defined]
    except ImportError:
        return frontend
    return attach(shared_stresser())
