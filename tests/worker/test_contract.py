"""Small pieces of the bot<->worker contract that both sides rely on."""

from __future__ import annotations

from worker.api import ERROR_CODES, SYNTH_TIMEOUT_BASE, synth_job_timeout
from worker.messages import apology


def test_synth_timeout_grows_with_the_text() -> None:
    short, long = synth_job_timeout("Hi."), synth_job_timeout("word " * 200)
    assert SYNTH_TIMEOUT_BASE <= short < long
    assert synth_job_timeout(1000) == synth_job_timeout("x" * 1000)


def test_every_error_code_has_an_apology_in_russian_and_english() -> None:
    for code in ERROR_CODES:
        english, russian = apology(code, "en"), apology(code, "ru-RU")
        assert english.startswith("Sorry") and russian.startswith("Извините")
    assert apology("timeout", "en") != apology("internal", "en")
    assert apology("internal", "de") == apology("internal", "en")  # unknown language: English
