"""Stress and ё: the stresser (silero-stress, loaded once for the module), the stress-aware
transliteration for the English model (each rule of the README's table), and the stressed
Cyrillic a Russian-trained model reads through its sidecar's symbol set."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sv2tts.text import (
    SYMBOL_SETS,
    SymbolSetError,
    default_text_frontend,
    frontend_from_config,
    frontend_named,
    get_cleaner,
    load_text_frontend,
)
from sv2tts.text.stress import (
    STRESS_MARK,
    SileroStresser,
    marks_from_plus,
    plus_marks,
    shared_stresser,
    with_writers_stress,
    writers_stress,
)
from sv2tts.text.symbols import RUSSIAN_SYMBOLS, symbol_set_named
from sv2tts.text.transliteration import transliterate_stressed_word

A = STRESS_MARK


@pytest.fixture(scope="module")
def stresser() -> SileroStresser:
    if importlib.util.find_spec("silero_stress") is None:
        pytest.skip("silero-stress is not installed (pip install silero-stress)")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = shared_stresser()
        assert model("Проверка.") is not None, "the stress model did not load"
        # Importing silero_stress sets torch's threads to 1 for the whole process; the
        # loader must put them back, or every synthesis after the first Russian one slows.
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    return model


# --- the stresser ------------------------------------------------------------------------


def test_the_stress_model_marks_stress_and_restores_yo(stresser: SileroStresser) -> None:
    marked = stresser("Молоко на столе, еще хорошо.")
    assert marked is not None
    assert plus_marks(marked) == "Молок+о н+а стол+е, ещ+ё хорош+о."


def test_stressing_leaves_the_callers_autograd_mode_as_it_was(stresser: SileroStresser) -> None:
    # The accentor switches autograd off inside; a training process (preprocess, samples)
    # that stresses a sentence must keep its gradients.
    import torch

    assert torch.is_grad_enabled()
    assert stresser("Молоко на столе") is not None
    assert torch.is_grad_enabled()


def test_the_stress_model_keeps_a_literal_plus_and_latin_words(stresser: SileroStresser) -> None:
    marked = stresser("Я пишу на C++ и Python.")
    assert marked is not None
    assert "C++ " in marked and "Python." in marked
    assert marked.replace(A, "") == "Я пишу на C++ и Python."


def test_a_word_after_a_quote_or_symbol_is_stressed_right(stresser: SileroStresser) -> None:
    # Left to itself, silero-stress puts such a word's mark one letter early («моло+ко»).
    marked = stresser("Он сказал «молоко», #молоко, 1молоко и кто-то.")
    assert marked is not None
    assert plus_marks(marked) == "+Он сказ+ал «молок+о», #молок+о, 1молок+о +и кт+о-то."


def test_silero_output_becomes_marks_after_the_vowel() -> None:
    assert marks_from_plus("еще хорошо", "ещ+ё хорош+о") == f"ещё{A} хорошо{A}"
    assert marks_from_plus("C++ это", "C++ +это") == f"C++ э{A}то"
    # A mark the model put before a consonant is dropped, and the word left unmarked.
    assert marks_from_plus("#молоко и", "#моло+ко +и") == f"#молоко и{A}"
    # A model that rewrote anything but stress and ё is not trusted.
    assert marks_from_plus("кот", "к+ит") is None
    assert marks_from_plus("кот", "к+о") is None


def test_a_missing_stress_model_falls_back_to_the_unstressed_rules() -> None:
    def broken() -> None:
        raise ImportError("no silero_stress here")

    absent = SileroStresser(load=broken)  # type: ignore[arg-type]
    assert absent.preload() is False
    assert absent("Молоко.") is None
    english = get_cleaner("english_cleaners")
    assert (
        english("Молоко на столе.", absent) == english("Молоко на столе.") == ("moloko na stoleh.")
    )


# --- the transliteration follows the stress (README: "Russian for the English model") ----


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # unstressed о is [ɐ]/[ə]: "a"; stressed о stays "o"
        (f"молоко{A}", "malako"),
        (f"до{A}ма", "doma"),
        (f"окно{A}", "akno"),
        # unstressed е after a soft consonant is [ɪ]: "i"; stressed е stays "e"
        (f"река{A}", "rika"),
        (f"пе{A}рец", "perits"),
        # unstressed е beginning with [j] (word start, after a vowel or sign): "yi"; last "ye"
        (f"его{A}", "yivo"),
        (f"зна{A}ние", "znaniye"),
        # a stressed last е: "eh" (a bare final "e" is silent in English)
        (f"столе{A}", "staleh"),
        # unstressed я: "i" / "yi", but a word's last я stays "ya"
        (f"пятно{A}", "pitno"),
        (f"язы{A}к", "yizyk"),
        (f"пе{A}сня", "pesnya"),
        # unstressed а after ч, щ: "i"
        (f"щади{A}ть", "shidit"),
        # ё is always stressed: "yo", "o" after hushers; с ещё's е reduced too
        (f"ёлка{A}", "yolka"),
        ("шёл", "shol"),
        (f"ещё{A}", "yisho"),
        # ы: "y" between consonants, "i" at the end, "ee" as a lone final vowel
        (f"бы{A}л", "byl"),
        (f"часы{A}", "chisi"),
        (f"мы{A}", "mee"),
        # щ: "sh" ([ɕː]; "shch" is a cluster nobody says)
        (f"щу{A}ка", "shooka"),
        # soft and hard signs: silent, their [j] carried by the vowel after them
        (f"семья{A}", "simya"),
        (f"со{A}ль", "sol"),
        (f"объявле{A}ние", "abyivleniye"),
        # respellings still apply: что, -ого, -ться
        (f"что{A}", "shto"),
        (f"кра{A}сного", "krasnava"),
        (f"учи{A}ться", "oochitsa"),
        # Russian words whose spelling is an English word said otherwise
        (f"то{A}", "toe"),
        (f"до{A}", "doe"),
        (f"не{A}т", "nyet"),
        (f"а{A}", "ah"),
        (f"со{A}н", "sohn"),
        # no mark: a one-vowel word is a clitic (unstressed), a longer one keeps the old rules
        ("то", "ta"),
        ("молоко", "moloko"),
    ],
)
def test_transliteration_follows_the_stress(word: str, expected: str) -> None:
    assert transliterate_stressed_word(word) == expected


def test_an_unmarked_monosyllable_is_stressed_when_no_stresser_ran() -> None:
    assert transliterate_stressed_word("то", clitic_if_unmarked=False) == "toe"


def test_the_english_model_reads_stressed_russian(stresser: SileroStresser) -> None:
    frontend = default_text_frontend().with_stresser(stresser)
    assert frontend.clean("Молоко на столе, еще хорошо.") == "malako na staleh, yisho harasho."
    assert frontend.clean("Кто-то сказал: нет.") == "kto-ta skazal: nyet."
    # English sentences are not touched by the stresser.
    assert frontend.clean("Hello there, 21 cats.") == default_text_frontend().clean(
        "Hello there, 21 cats."
    )


def test_stress_changes_neither_speakability_nor_the_bots_answers(
    stresser: SileroStresser,
) -> None:
    with_stress = default_text_frontend().with_stresser(stresser)
    for text in ("Привет!", "👍", "...", "ы"):
        assert with_stress.is_speakable(text) == default_text_frontend().is_speakable(text)


# --- a Russian-trained synthesizer: stressed Cyrillic through its sidecar ------------------


def russian_sidecar(tmp_path: Path, content: dict[str, object]) -> Path:
    path = tmp_path / "synthesizer.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_sidecar_declaring_the_russian_set_gets_stressed_cyrillic_ids(
    tmp_path: Path, stresser: SileroStresser
) -> None:
    declared = {
        "num_chars": len(RUSSIAN_SYMBOLS),
        "language": "ru",
        "symbols": list(RUSSIAN_SYMBOLS.symbols),
        "cleaners": ["russian_stressed_cleaners"],
    }
    frontend = load_text_frontend(russian_sidecar(tmp_path, declared)).with_stresser(stresser)
    assert frontend.language == "ru" and frontend.symbol_set_name == "russian"
    sequences = frontend.to_sequences("Молоко на столе. В 5 утра.")
    spelled = [RUSSIAN_SYMBOLS.decode(ids) for ids in sequences]
    assert spelled == ["молок+о н+а стол+е.", "в п+ять утр+а."]
    plus = RUSSIAN_SYMBOLS.symbols.index("+")
    assert plus in sequences[0] and all(1 < i < len(RUSSIAN_SYMBOLS) for i in sequences[0][:-1])


def test_the_russian_set_by_name_brings_its_cleaners_and_language(tmp_path: Path) -> None:
    frontend = load_text_frontend(russian_sidecar(tmp_path, {"symbols": "russian"}))
    assert frontend.cleaners == ("russian_stressed_cleaners",)
    assert frontend.language == "ru"
    # Without a stresser (the bot): the same Cyrillic, no marks; Latin respelt in Cyrillic.
    assert frontend.clean("Запусти Docker в 10:30!") == "запусти докер в десять тридцать!"


def test_named_front_ends_round_trip_through_a_sidecar() -> None:
    for name in SYMBOL_SETS:
        frontend = frontend_named(name)
        assert frontend_from_config(frontend.sidecar_config()) == frontend
    assert frontend_named("english") == default_text_frontend()
    with pytest.raises(SymbolSetError, match="english, russian"):
        symbol_set_named("klingon")


def test_the_russian_set_is_pad_eos_letters_punctuation_and_the_stress_mark() -> None:
    symbols = RUSSIAN_SYMBOLS.symbols
    assert symbols[:2] == ("_", "~")
    assert "".join(symbols[2:35]) == "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    assert "+" in symbols and " " in symbols and "." in symbols
    assert len(symbols) == 2 + 33 + 12 + 1


def test_the_engine_speaks_russian_with_the_shared_stresser(
    tmp_path: Path, stresser: SileroStresser
) -> None:
    from sv2tts.pipeline import Pipeline
    from tests.fakes.weights import make_tiny_weights_dir

    weights = make_tiny_weights_dir(tmp_path / "weights")
    speech = Pipeline.load(weights, device="cpu", vocoder="griffinlim")
    assert speech.frontend.stresser is stresser
    assert speech.sentences("Молоко на столе.", 150) == ["malako na staleh."]
    unstressed = Pipeline.load(weights, device="cpu", vocoder="griffinlim", stress=False)
    assert unstressed.sentences("Молоко на столе.", 150) == ["moloko na stoleh."]


def test_a_word_the_writer_stressed_keeps_their_stress(stresser: SileroStresser) -> None:
    # "Замок на двери" is the lock (зам+ок) to the model; the writer means the castle.
    frontend = frontend_named("russian").with_stresser(stresser)
    assert frontend.clean("Замок на двери.") == "зам+ок н+а двер+и."
    assert frontend.clean(f"За{A}мок на двери.") == "з+амок н+а двер+и."
    english = default_text_frontend().with_stresser(stresser)
    assert english.clean(f"За{A}мок на двери.").startswith("zamak ")


def test_the_writers_stress_replaces_the_models_and_keeps_case() -> None:
    writers = writers_stress(f"видел За{A}мок, и все{A}")
    assert with_writers_stress(f"Зам{A}ок и Всё{A} и кот{A}", writers) == (
        f"За{A}мок и Все{A} и кот{A}"
    )


def test_preload_loads_the_model_once_before_the_first_sentence() -> None:
    loads: list[int] = []

    def load() -> object:
        loads.append(1)
        return lambda text: text

    stresser = SileroStresser(load=load)  # type: ignore[arg-type]
    assert loads == []
    assert stresser.preload() is True and loads == [1]
    assert stresser.preload() is True and loads == [1]
    stresser("Молоко.")
    assert loads == [1]
