"""Durations read the way each language writes them."""

from __future__ import annotations

from bot.locales import texts_for


def test_russian_texts_use_a_decimal_comma_and_english_a_point() -> None:
    assert texts_for("ru").seconds(4.94) == "4,9"
    assert texts_for("en").seconds(4.94) == "4.9"


def test_registration_reply_shows_the_localised_duration() -> None:
    ru = texts_for("ru")
    reply = ru.voice_registered.format(name="Голос 1", speech=ru.seconds(12.25), hint="")
    assert "12,2 с речи" in reply
