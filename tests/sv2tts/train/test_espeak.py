"""eSpeak NG through ctypes: speech at 16 kHz for known sentences, and corpora that
`preprocess` reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sv2tts.train.espeak import EspeakError, make_corpus, make_sentences, speak
from sv2tts.train.preprocess.datasets import detect_format, read_dataset


def test_speaks_english_and_russian_at_16khz_with_distinct_voices() -> None:
    text = "The quiet river follows the old road."
    male, female = speak(text, "en+m3"), speak(text, "en+f2")
    russian = speak("Тихий город видит старый мост.", "ru+m3")
    for wav in (male, female, russian):
        assert wav.dtype == np.float32 and np.all(np.isfinite(wav))
        # A sentence of six words: one to five seconds of 16 kHz audio, and not silence.
        assert 16000 <= len(wav) <= 5 * 16000
        assert 0.05 < np.abs(wav).max() <= 1.0
    # Another voice, another waveform (not the same samples scaled).
    shortest = min(len(male), len(female))
    assert abs(np.corrcoef(male[:shortest], female[:shortest])[0, 1]) < 0.5
    longer = speak(text + " " + text, "en+m3")
    assert 1.7 < len(longer) / len(male) < 2.3


def test_an_unknown_voice_is_refused() -> None:
    with pytest.raises(EspeakError, match="no voice"):
        speak("Hello.", "xx+nonexistent")


def test_sentences_are_reproducible_distinct_and_vary_with_the_seed() -> None:
    first = make_sentences(50, language="en", seed=3)
    assert first == make_sentences(50, language="en", seed=3)
    assert len(set(first)) == 50
    assert first != make_sentences(50, language="en", seed=4)
    russian = make_sentences(20, language="ru", seed=0)
    assert all(any("а" <= c <= "я" for c in s.lower()) for s in russian)
    assert all(s[0].isupper() and s[-1] in ".?" for s in first + russian)


def test_corpora_are_datasets_preprocess_reads(tmp_path: Path) -> None:
    written = make_corpus(tmp_path / "plain", 4, speakers=["en+m3", "ru+f2"], seed=1)
    utterances = read_dataset(tmp_path / "plain")
    assert detect_format(tmp_path / "plain") == "plain"
    assert sorted((u.speaker, u.text) for u in utterances) == sorted(
        (speaker, text) for _, speaker, text in written
    )
    held_out = make_corpus(tmp_path / "held", 2, speakers=["en+m3", "ru+f2"], seed=1, first=4)
    assert not {text for *_, text in held_out} & {text for *_, text in written}
    make_corpus(tmp_path / "lj", 2, speakers=["en+f2"], layout="ljspeech", seed=1)
    assert detect_format(tmp_path / "lj") == "ljspeech"
    assert len(read_dataset(tmp_path / "lj")) == 2
