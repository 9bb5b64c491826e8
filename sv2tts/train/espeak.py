"""Speech whose text is known: a small corpus spoken by eSpeak NG, for training demonstrations.

The `espeakng-loader` wheel ships `libespeak-ng.so` and its data (English and Russian
dictionaries, voice variants); this module drives it through ctypes, without any system
package:

    speaker = EspeakVoice("en+m3", rate=170)
    wav16k = speak("The quiet river follows the old road.", speaker)   # float32, 16 kHz
    sentences = make_sentences(200, language="en", seed=0)
    make_corpus(out_dir, 200, speakers=ENGLISH_SPEAKERS, layout="plain", seed=0)

`make_corpus` writes a dataset that `python -m sv2tts preprocess` reads: either a plain folder
(`OUT/<speaker>/<id>.wav` with `<id>.txt` beside it: several speakers) or an LJSpeech folder
(`OUT/wavs/<id>.wav` and `OUT/metadata.csv`, `id|text|text`: one speaker). Sentences are
composed from word lists by a seeded random generator, so a corpus is reproducible from
(count, speakers, seed), and every speaker reads different sentences.

eSpeak NG is a process-wide C library with one current voice: all calls go through one lock,
and it is initialised once per process (in synchronous mode: `espeak_Synth` returns when the
audio has gone through the callback). Its native rate (22050 Hz) is resampled to 16 kHz with
the engine's resampler (`sv2tts.audio.dsp.resample`).
"""

from __future__ import annotations

import ctypes
import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile

from sv2tts.audio import dsp

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# espeak_AUDIO_OUTPUT: the synth callback receives the audio and espeak_Synth blocks.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
# espeak_PARAMETER
_RATE = 1
_PITCH = 3

ENGLISH_SPEAKERS = ("en+m3", "en+f2", "en+m1", "en+f4")
RUSSIAN_SPEAKERS = ("ru+m3", "ru+f2", "ru+m1", "ru+f4")

Language = Literal["en", "ru"]
Layout = Literal["plain", "ljspeech"]

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(RuntimeError):
    """The eSpeak NG library is missing or refused a call."""


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    """One speaker: an eSpeak voice name with its variant ("en+m3"), rate in words per
    minute and base pitch (0-100)."""

    name: str
    rate: int = 165
    pitch: int = 50

    @property
    def language(self) -> str:
        return self.name.split("+", 1)[0]


class _Engine:
    """The loaded library, its sample rate and the samples of the utterance being spoken."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as error:
            raise EspeakError(
                "espeakng-loader is not installed (pip install espeakng-loader)"
            ) from error
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synchronize.restype = ctypes.c_int
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}) with data at {data_path!r}")
        self.lib = lib
        self.sample_rate = rate
        self.chunks: list[np.ndarray] = []
        # Kept as an attribute: the C side holds only a raw pointer to it.
        self._callback = _SynthCallback(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self.voice: EspeakVoice | None = None

    def _collect(self, wav: ctypes.Array, count: int, _events: int) -> int:
        if wav and count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0: go on synthesising

    def set_voice(self, voice: EspeakVoice) -> None:
        if voice == self.voice:
            return
        if self.lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise EspeakError(f"eSpeak NG has no voice {voice.name!r}")
        self.lib.espeak_SetParameter(_RATE, voice.rate, 0)
        self.lib.espeak_SetParameter(_PITCH, voice.pitch, 0)
        self.voice = voice

    def speak(self, text: str, voice: EspeakVoice) -> np.ndarray:
        self.set_voice(voice)
        self.chunks = []
        data = text.encode("utf-8")
        status = self.lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != 0:
            raise EspeakError(f"espeak_Synth failed ({status}) for {text[:40]!r}")
        self.lib.espeak_Synchronize()
        if not self.chunks:
            return np.zeros(0, dtype=np.float32)
        return (np.concatenate(self.chunks).astype(np.float32) / 32768.0).astype(np.float32)


_engine: _Engine | None = None
_lock = threading.Lock()


def _the_engine() -> _Engine:
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def speak(text: str, voice: EspeakVoice | str = "en") -> np.ndarray:
    """`text` spoken by eSpeak NG with `voice`, as float32 samples at 16 kHz."""
    if isinstance(voice, str):
        voice = EspeakVoice(voice)
    with _lock:
        engine = _the_engine()
        native = engine.speak(text, voice)
        rate = engine.sample_rate
    if native.size == 0:
        return native
    return dsp.resample(native, rate, SAMPLE_RATE)


# --- sentences ------------------------------------------------------------------------------

_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "adjective": (
            "quiet",
            "old",
            "bright",
            "small",
            "heavy",
            "green",
            "silver",
            "narrow",
            "warm",
            "distant",
            "gentle",
            "broken",
            "yellow",
            "early",
            "patient",
            "curious",
            "empty",
            "golden",
            "simple",
            "careful",
        ),
        "noun": (
            "river",
            "teacher",
            "garden",
            "window",
            "letter",
            "mountain",
            "kitchen",
            "station",
            "doctor",
            "story",
            "forest",
            "engine",
            "market",
            "village",
            "painter",
            "bridge",
            "captain",
            "picture",
            "morning",
            "harbour",
        ),
        "verb": (
            "follows",
            "finds",
            "paints",
            "opens",
            "watches",
            "carries",
            "remembers",
            "closes",
            "builds",
            "crosses",
            "visits",
            "describes",
            "reaches",
            "answers",
            "leaves",
        ),
        "adverb": (
            "slowly",
            "again",
            "today",
            "quickly",
            "at night",
            "before dinner",
            "every week",
            "without a word",
            "in the rain",
            "after school",
        ),
        "subject": ("she", "he", "we", "they", "my brother", "our neighbour", "the children"),
    },
    "ru": {
        "adjective": (
            "тихий",
            "старый",
            "светлый",
            "малый",
            "тяжёлый",
            "зелёный",
            "узкий",
            "тёплый",
            "далёкий",
            "добрый",
            "жёлтый",
            "ранний",
            "простой",
            "новый",
            "высокий",
        ),
        "noun": (
            "город",
            "лес",
            "дом",
            "мост",
            "сад",
            "берег",
            "поезд",
            "вечер",
            "рассказ",
            "учитель",
            "художник",
            "капитан",
            "рынок",
            "ветер",
            "голос",
        ),
        "verb": (
            "видит",
            "помнит",
            "строит",
            "ищет",
            "знает",
            "слышит",
            "любит",
            "открывает",
            "рисует",
            "читает",
        ),
        "adverb": (
            "медленно",
            "снова",
            "сегодня",
            "быстро",
            "ночью",
            "перед обедом",
            "каждую неделю",
            "без слов",
            "под дождём",
            "после школы",
        ),
        "subject": ("она", "он", "мы", "они", "мой брат", "наш сосед", "дети"),
    },
}

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "The {adjective} {noun} {verb} the {noun2} {adverb}.",
        "{subject} {verb} a {adjective} {noun} near the {noun2}.",
        "Why does the {noun} {verb_base} the {adjective} {noun2}?",
        "{subject} said that the {noun} was {adjective}, and the {noun2} was {adjective2}.",
        "A {adjective} {noun}, a {adjective2} {noun2}, and {subject}.",
    ),
    "ru": (
        "{Subject} {verb} {adjective} {noun} {adverb}.",
        "{Adjective} {noun} {verb} {noun2} {adverb}.",
        "Почему {noun} такой {adjective}?",
        "{Subject} сказал, что {noun} {adjective}, а {noun2} {adjective2}.",
        "Там {adjective} {noun}, и {adjective2} {noun2}.",
    ),
}

# Short sentences (3-8 words) from the same word lists: every character sequence recurs
# often in a corpus of a thousand, which is what a small network learns to align on first.
_SHORT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "The {adjective} {noun} {verb} the {noun2}.",
        "{subject} {verb} the {noun}.",
        "The {noun} is {adjective}.",
        "{subject} {verb} the {adjective} {noun}.",
        "Why does the {noun} {verb_base} the {noun2}?",
        "The {noun} {verb} {adverb}.",
    ),
    "ru": (
        "{Subject} {verb} {noun}.",
        "{Adjective} {noun} {verb} {noun2}.",
        "Почему {noun} такой {adjective}?",
        "Там {adjective} {noun}.",
        "{Subject} {verb} {noun} {adverb}.",
    ),
}


def make_sentences(
    count: int, *, language: Language = "en", seed: int = 0, short: bool = False
) -> list[str]:
    """`count` distinct sentences in `language`, composed from word lists with a seeded RNG;
    `short`: 3-8 words each (`_SHORT_TEMPLATES`) instead of 6-13."""
    if language not in _WORDS:
        raise ValueError(f"language must be one of {sorted(_WORDS)}, not {language!r}")
    words = _WORDS[language]
    templates = (_SHORT_TEMPLATES if short else _TEMPLATES)[language]
    rng = random.Random(seed)
    sentences: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(sentences) < count:
        attempts += 1
        if attempts > 100 * count + 1000:
            raise ValueError(f"cannot compose {count} distinct sentences from the word lists")
        noun, noun2 = rng.sample(words["noun"], 2)
        adjective, adjective2 = rng.sample(words["adjective"], 2)
        verb = rng.choice(words["verb"])
        subject = rng.choice(words["subject"])
        sentence = rng.choice(templates).format(
            adjective=adjective,
            adjective2=adjective2,
            Adjective=adjective.capitalize(),
            noun=noun,
            noun2=noun2,
            verb=verb,
            verb_base=verb.removesuffix("es") if verb.endswith("sses") else verb.removesuffix("s"),
            adverb=rng.choice(words["adverb"]),
            subject=subject,
            Subject=subject.capitalize(),
        )
        sentence = sentence[0].upper() + sentence[1:]
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences


def make_corpus(
    out_dir: Path | str,
    count: int,
    *,
    speakers: Sequence[str | EspeakVoice] = ENGLISH_SPEAKERS,
    layout: Layout = "plain",
    seed: int = 0,
    first: int = 0,
    short: bool = False,
) -> list[tuple[str, str, str]]:
    """Write `count` utterances spoken by `speakers` in turn (16-bit wav, 16 kHz) as a
    dataset in `layout`; returns (utterance id, speaker name, text) of each.

    The language of each speaker's sentences is its voice's language ("en", "ru").
    Utterance i (from `first`) says sentence i of `make_sentences(first + count, seed)`, so
    two corpora of the same seed with disjoint ranges share no sentence (a held-out set).
    "ljspeech" needs exactly one speaker; `short`: short sentences (see `make_sentences`)."""
    voices = [EspeakVoice(s) if isinstance(s, str) else s for s in speakers]
    if not voices:
        raise ValueError("at least one speaker is needed")
    if layout == "ljspeech" and len(voices) != 1:
        raise ValueError("an LJSpeech layout holds one speaker")
    out = Path(out_dir)
    by_language: dict[str, list[str]] = {}
    for language in {voice.language for voice in voices}:
        by_language[language] = make_sentences(  # type: ignore[arg-type]
            first + count, language=language, seed=seed, short=short
        )
    written: list[tuple[str, str, str]] = []
    metadata: list[str] = []
    for i in range(first, first + count):
        voice = voices[i % len(voices)]
        text = by_language[voice.language][i]
        speaker = voice.name.replace("+", "_")
        utterance = f"{speaker}-{i:05d}"
        wav = speak(text, voice)
        if layout == "plain":
            folder = out / speaker
            folder.mkdir(parents=True, exist_ok=True)
            soundfile.write(folder / f"{utterance}.wav", wav, SAMPLE_RATE, subtype="PCM_16")
            (folder / f"{utterance}.txt").write_text(text + "\n", encoding="utf-8")
        else:
            (out / "wavs").mkdir(parents=True, exist_ok=True)
            soundfile.write(out / "wavs" / f"{utterance}.wav", wav, SAMPLE_RATE, subtype="PCM_16")
            metadata.append(f"{utterance}|{text}|{text}")
        written.append((utterance, speaker, text))
    if layout == "ljspeech":
        (out / "metadata.csv").write_text("\n".join(metadata) + "\n", encoding="utf-8")
    log.info("eSpeak corpus: %d utterances by %d speakers in %s", count, len(voices), out)
    return written
