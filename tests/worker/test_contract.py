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


def test_a_payload_from_a_newer_version_is_still_read() -> None:
    """During a rolling upgrade a newer bot or worker may add fields; older readers skip them
    instead of failing every job (and a field that is missing still fails)."""
    import pytest

    from worker.api import EmbedRequest, SynthOutcome, SynthRequest

    request = SynthRequest(1, 2, 2, None, "hello", [0.0] * 256).to_dict()
    assert SynthRequest.from_dict({**request, "added_later": True}).text == "hello"
    outcome = SynthOutcome(1, 2, ok=True).to_dict()
    assert SynthOutcome.from_dict({**outcome, "added_later": 1}).ok
    assert EmbedRequest.from_dict({"file_id": "x", "kind": "voice", "new": 0}).file_id == "x"
    with pytest.raises(TypeError):
        SynthOutcome.from_dict({"request_id": 1})
