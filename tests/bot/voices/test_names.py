"""The one rule for voice names (bot/names.py) and the bank's mark for curated voices.

Pure functions, no bot process: the rename and the bank through the bot are in
tests/bot/abuse/test_hostile_text.py, the bank import in tests/bot/voices/test_bank_import.py.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from bot import keyboards
from bot.bank_import import import_folder
from bot.locales import texts_for
from bot.names import CURATED_MARK, VoiceNameError, clean_voice_name
from storage import MAX_VOICE_NAME_CHARS, BankPage, Sample, Storage, Voice, validate_voice_name
from sv2tts.audio.measures import RecordingStats


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Бабушка Зина", "Бабушка Зина"),
        ("  spaced   out  ", "spaced out"),
        # Format characters (Cf) go: bidi overrides, isolates and marks, zero-width ones.
        ("\u202eanna\u202c", "anna"),
        ("\u2067Anna\u2069 \u200fB", "Anna B"),
        ("Zi\u200bna\u200d\ufeff\u2060\u00ad", "Zina"),
        # Line breaks of every kind become one space.
        ("Grandma\nZina", "Grandma Zina"),
        ("Grandma\u2028Zina\u2029Jr", "Grandma Zina Jr"),
        ("a\r\n\x85b", "a b"),
        ("tab\there", "tab here"),
        ("nul\x00 and esc\x1b", "nul and esc"),
        ("\u3164Hidden\u2800", "Hidden"),
        # NFC: "é" as e + combining acute is the one character.
        ("Rene\u0301e", "Renée"),
        # A picture character is fine after the start.
        ("Anna ⭐", "Anna ⭐"),
        ("<b>Bold</b> *x* [y](http://e.x)", "<b>Bold</b> *x* [y](http://e.x)"),
        ("x" * MAX_VOICE_NAME_CHARS, "x" * MAX_VOICE_NAME_CHARS),
    ],
)
def test_names_are_made_visible_and_tidy(raw: str, name: str) -> None:
    assert clean_voice_name(raw) == name
    assert validate_voice_name(name) == name  # what the rule gives, storage keeps


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u200b\u200d\u202e\u2066\ufeff", "empty"),
        ("\u3164\u3164", "empty"),
        ("\x00\x07", "empty"),
        ("\u0301\u0308\ufe0f", "empty"),
        ("x" * (MAX_VOICE_NAME_CHARS + 1), "too_long"),
        ("⭐ Anna", "marker"),
        ("⭐️Anna", "marker"),
        # Nothing before the mark hides it: a hidden character, a stray combining one.
        ("\u200b⭐ Anna", "marker"),
        ("\ufe0f⭐ Anna", "marker"),
        ("\u0301\u20e3★", "marker"),
        ("🌟 Anna", "marker"),
        ("★ Anna", "marker"),
        ("✅ Active", "marker"),
        ("🎙 Bank", "marker"),
        ("🇷🇺 Flag", "marker"),
    ],
)
def test_unusable_names_are_refused_with_the_reason(raw: str, problem: str) -> None:
    with pytest.raises(VoiceNameError) as refused:
        clean_voice_name(raw)
    assert refused.value.problem == problem


def test_a_bank_import_cuts_a_long_file_name_instead() -> None:
    name = clean_voice_name("word " * 20, cut=True)
    assert len(name) <= MAX_VOICE_NAME_CHARS and name == name.strip()
    assert name.startswith("word word")


def test_the_default_names_pass_the_rule_in_every_language() -> None:
    for language in ("en", "ru"):
        template = texts_for(language).default_voice_name
        assert clean_voice_name(template.format(n=12)) == template.format(n=12)


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2028", "\u2029", "\x1b", "\ufeff"])
def test_storage_refuses_a_name_that_skipped_the_rule(char: str) -> None:
    assert unicodedata.category(char) in ("Cf", "Cc", "Zl", "Zp")
    with pytest.raises(ValueError):
        validate_voice_name(f"Anna{char}")


def bank_voice(voice_id: int, name: str, *, curated: bool) -> Voice:
    return Voice(
        id=voice_id,
        owner_id=None if curated else 7,
        name=name,
        embedding=np.zeros(256, np.float32),
        encoder_id="test",
        sample_count=1,
        speech_seconds=10.0,
        level_dbfs=None,
        clipped_fraction=None,
        public=True,
        consent_at=None,
        curated=curated,
        created_at=datetime.now(UTC),
    )


def test_only_curated_bank_rows_carry_the_mark() -> None:
    page = BankPage(
        [
            bank_voice(1, "Anna", curated=True),
            bank_voice(2, "Anna", curated=False),
            bank_voice(3, "Anna ⭐", curated=False),
        ],
        page=0,
        page_size=3,
        total=3,
    )
    markup = keyboards.bank_page(page, texts_for("en"), is_admin=False)
    labels = [b.text for row in markup.inline_keyboard for b in row if b.text != "▶️"]
    assert labels == [f"{CURATED_MARK} Anna", "🎙 Anna", "🎙 Anna ⭐"]
    assert [label.startswith(CURATED_MARK) for label in labels] == [True, False, False]


async def test_a_bank_import_names_each_voice_by_the_rule(tmp_path: Path) -> None:
    """File names are the admin's, but the rule is the same: invisible characters out, too
    long cut, a leading picture character (it would double the ⭐) or nothing left skipped."""
    folder = tmp_path / "bank"
    folder.mkdir()
    stems = {
        "Anna\u202e\u200b": "Anna",
        "Boris\u2028Godunov": "Boris Godunov",
        "long " * 20: ("long " * 20)[:MAX_VOICE_NAME_CHARS].rstrip(),
        "⭐ Star": None,
        "\u200b\u200d": None,
    }
    for stem in stems:
        (folder / f"{stem}.mp3").write_bytes(b"ID3")
    made: list[Path] = []

    def make_sample(path: Path) -> Sample:
        made.append(path)
        vector = np.random.default_rng(len(made)).standard_normal(256).astype(np.float32)
        return Sample(
            vector / np.linalg.norm(vector),
            "test",
            recording=RecordingStats(11.0, 10.0, -20.0, 0.0, 0.4),
        )

    async with await Storage.open(tmp_path / "data", collect_garbage=False) as store:
        lines = {line.path.stem: line for line in await import_folder(folder, store, make_sample)}
        bank = await store.voices.bank_page(page_size=50)
    for stem, name in stems.items():
        if name is None:
            assert lines[stem].outcome.startswith("skipped: the file name"), lines[stem]
            assert not any(c in lines[stem].name for c in "\u200b\u200d")  # printed escaped
        else:
            assert (lines[stem].name, lines[stem].outcome) == (name, "added")
    assert sorted(v.name for v in bank.voices) == sorted(n for n in stems.values() if n)
    assert all(v.curated for v in bank.voices)
    assert len(made) == 3  # a skipped name costs no embedding
