"""`python -m sv2tts text`: the words (with stress) and the symbols each sentence becomes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from sv2tts.cli import main
from sv2tts.text import DEFAULT_SYMBOLS, RUSSIAN_SYMBOLS


def text_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["text", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def stress_model() -> None:
    if importlib.util.find_spec("silero_stress") is None:
        pytest.skip("silero-stress is not installed (pip install silero-stress)")


def test_text_shows_stressed_cyrillic_words_and_the_english_models_symbols(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, stress_model: None
) -> None:
    out = text_json(capsys, "--weights-dir", str(tmp_path), "Молоко на столе. Hello, 5 cats.")
    assert out["frontend"]["symbol_set"] == "english"
    russian, english = out["sentences"]
    assert russian["words"] == "Молок+о н+а стол+е."
    assert russian["stressed"] is True
    assert russian["cleaned"] == ["malako na staleh."]
    assert "".join(russian["symbols"][0]) == "malako na staleh.~"
    assert DEFAULT_SYMBOLS.decode(russian["ids"][0]) == "malako na staleh."
    assert english["language"] == "en" and english["words"] == "hello, five cats."


def test_text_reads_a_russian_checkpoints_sidecar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "synthesizer.pt").write_bytes(b"not loaded by this command")
    (tmp_path / "synthesizer.json").write_text(json.dumps({"symbols": "russian"}))
    out = text_json(capsys, "--weights-dir", str(tmp_path), "--no-stress", "В 5 утра.")
    assert out["frontend"]["symbol_set"] == "russian"
    assert out["frontend"]["language"] == "ru"
    (sentence,) = out["sentences"]
    assert sentence["words"] == "В пять утра."
    assert RUSSIAN_SYMBOLS.decode(sentence["ids"][0]) == "в пять утра."


def test_text_with_a_named_front_end_prints_each_sentence(
    capsys: pytest.CaptureFixture[str], stress_model: None
) -> None:
    assert main(["text", "--symbols", "russian", "Еще хорошо!", "Да."]) == 0
    printed = capsys.readouterr().out
    assert "1. Еще хорошо!" in printed and "2. Да." in printed
    assert "words:   Ещ+ё хорош+о!" in printed
    assert "symbols: ещ+ё хорош+о!" in printed


def test_text_refuses_an_unknown_symbol_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["text", "--symbols", "klingon", "Привет"]) != 0
    assert "unknown symbol set 'klingon'" in capsys.readouterr().err
