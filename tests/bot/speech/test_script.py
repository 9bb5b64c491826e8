"""Reading a /dialogue script into turns (no voices looked up here)."""

from __future__ import annotations

from bot.script import MAX_NAME_CHARS, ScriptLine, parse_script


def test_turns_start_at_a_name_and_a_colon() -> None:
    script = parse_script("Anna: Hi, Boris!\n\n  boris :  The meeting is at 10:30.\n")
    assert script is not None
    assert script.turns == [
        ScriptLine("Anna", "Hi, Boris!", 1),
        ScriptLine("boris", "The meeting is at 10:30.", 3),
    ]


def test_a_line_without_a_name_goes_on_the_turn_before_it() -> None:
    script = parse_script("Анна: Привет.\nКак дела?\nБорис: Хорошо")
    assert script is not None
    assert [(t.name, t.text) for t in script.turns] == [
        ("Анна", "Привет. Как дела?"),
        ("Борис", "Хорошо"),
    ]


def test_names_are_distinct_without_case_in_order_of_first_turn() -> None:
    script = parse_script("Boris: one\nanna: two\nBORIS: three\nAnna: four")
    assert script is not None
    assert script.names == ["Boris", "anna"]
    assert script.spoken_text == "one\ntwo\nthree\nfour"


def test_no_names_or_text_before_the_first_name_is_not_a_script() -> None:
    assert parse_script("") is None
    assert parse_script("   \n  ") is None
    assert parse_script("just some words") is None
    assert parse_script("hello\nAnna: hi") is None
    assert parse_script(": no name") is None


def test_a_name_longer_than_a_voice_name_is_no_name() -> None:
    long = "x" * (MAX_NAME_CHARS + 1)
    assert parse_script(f"{long}: words") is None
    assert parse_script(f"{'y' * MAX_NAME_CHARS}: words") is not None
