"""Symbol sets and front ends declared by a checkpoint's sidecar JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from sv2tts.text import (
    DEFAULT_SYMBOLS,
    EOS_INDEX,
    SymbolSet,
    SymbolSetError,
    TextFrontend,
    TextFrontendError,
    UnknownCleanerError,
    default_text_frontend,
    load_text_frontend,
    sidecar_path,
)

RUSSIAN_SYMBOLS = ["_", "~", *"абвгдеёжзийклмнопрстуфхцчшщъыьэюя", *"!'\"(),-.:;? "]


def write_sidecar(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "synthesizer.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def test_encode_maps_characters_and_appends_eos() -> None:
    assert DEFAULT_SYMBOLS.encode("ab ") == [28, 29, 65, EOS_INDEX]
    assert DEFAULT_SYMBOLS.encode("") == [EOS_INDEX]


def test_encode_drops_unknown_characters_without_crashing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sv2tts.text.symbols"):
        ids = DEFAULT_SYMBOLS.encode("a€b_~😀")
    assert ids == [28, 29, EOS_INDEX]  # pad and EOS characters in text are dropped too
    assert "€" in caplog.text


def test_symbol_set_rejects_repeats_and_multi_character_symbols() -> None:
    with pytest.raises(SymbolSetError, match="repeated"):
        SymbolSet(("_", "~", "a", "a"))
    with pytest.raises(SymbolSetError, match="one character"):
        SymbolSet(("_", "~", "ab"))
    with pytest.raises(SymbolSetError, match="pad, an EOS"):
        SymbolSet(("_", "~"))


def test_no_sidecar_gives_the_default_english_front_end(tmp_path: Path) -> None:
    assert load_text_frontend(None) == default_text_frontend()
    assert load_text_frontend(tmp_path / "absent.json") == default_text_frontend()


def test_sidecar_without_text_keys_gives_the_default(reference_dir: Path) -> None:
    # The tiny checkpoint's sidecar holds model dims only (num_chars 66).
    frontend = load_text_frontend(sidecar_path(reference_dir / "synthesizer_tiny.pt"))
    assert frontend == default_text_frontend()
    assert frontend.num_symbols == 66


def test_sidecar_declares_a_russian_symbol_set(tmp_path: Path) -> None:
    path = write_sidecar(
        tmp_path,
        {"num_chars": len(RUSSIAN_SYMBOLS), "symbols": RUSSIAN_SYMBOLS,
         "cleaners": ["russian_cleaners"], "embed_dims": 512},
    )  # fmt: skip
    frontend = load_text_frontend(path)
    assert frontend.cleaners == ("russian_cleaners",)
    assert frontend.num_symbols == len(RUSSIAN_SYMBOLS)
    [sequence] = frontend.to_sequences("Мне 21 год.")
    assert frontend.symbols.decode(sequence) == "мне двадцать один год."
    assert sequence[-1] == EOS_INDEX


def test_unknown_cleaner_is_named(tmp_path: Path) -> None:
    path = write_sidecar(tmp_path, {"cleaners": ["english_cleaners", "klingon_cleaners"]})
    with pytest.raises(UnknownCleanerError, match="klingon_cleaners") as caught:
        load_text_frontend(path)
    assert str(path) in str(caught.value)
    with pytest.raises(UnknownCleanerError, match="nope"):
        TextFrontend(cleaners=("nope",))


def test_num_chars_must_match_the_symbol_count(tmp_path: Path) -> None:
    path = write_sidecar(tmp_path, {"num_chars": 66, "symbols": RUSSIAN_SYMBOLS})
    with pytest.raises(SymbolSetError, match="num_chars is 66"):
        load_text_frontend(path)


def test_cleaners_that_write_what_the_symbols_cannot_spell_are_refused(tmp_path: Path) -> None:
    path = write_sidecar(tmp_path, {"symbols": RUSSIAN_SYMBOLS, "cleaners": ["english_cleaners"]})
    with pytest.raises(TextFrontendError, match="cannot spell"):
        load_text_frontend(path)


@pytest.mark.parametrize(
    "content",
    [
        "not json at all {",
        json.dumps([1, 2, 3]),
        json.dumps({"symbols": "abc"}),
        json.dumps({"symbols": ["_", "~", 5]}),
        json.dumps({"cleaners": "english_cleaners"}),
    ],
)
def test_malformed_sidecars_raise_a_front_end_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TextFrontendError):
        load_text_frontend(path)


def test_symbols_without_cleaners_get_basic_cleaners(tmp_path: Path) -> None:
    frontend = load_text_frontend(write_sidecar(tmp_path, {"symbols": RUSSIAN_SYMBOLS}))
    assert frontend.cleaners == ("basic_cleaners",)
    assert frontend.clean("  ПРИВЕТ  мир ") == "привет мир"


def test_sidecar_path_is_beside_the_checkpoint() -> None:
    assert sidecar_path("/w/synthesizer.pt") == Path("/w/synthesizer.json")


@pytest.mark.parametrize(
    ("text", "expected_start"),
    [
        ("9" * 40, "nine nine nine"),
        ("Число " + "9" * 40 + ",5 руб.", "chislo devyat devyat"),
        ("Это " + "1" * 100 + "-й", "eto odin odin"),
        ("123456789012345678", "one two three four"),
    ],
)
def test_numbers_too_long_to_say_whole_are_read_digit_by_digit(
    text: str, expected_start: str
) -> None:
    assert default_text_frontend().clean(text).startswith(expected_start)


def test_arbitrary_text_never_crashes_and_stays_in_the_symbol_set() -> None:
    import random

    pieces = [*"abcXYZ абвЖЩЁ0123456789.,;:!?-–—%$£€₽¥°#№&+/'\"«»()[]…\n\t", "😀", "👍🏽",
              "你", "é", "\u0301", "\u00a0", "г.", "т.е.", "руб.", "St.", "Dr.", "p.m.",
              "1-й", "10:30"]  # fmt: skip
    rng = random.Random(1234)
    frontend = default_text_frontend()
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        for sequence in frontend.to_sequences(text, max_chars=40):
            assert 2 <= len(sequence) <= 41, (text, sequence)
            assert all(1 < index < len(DEFAULT_SYMBOLS) for index in sequence[:-1])
            assert sequence[-1] == EOS_INDEX
