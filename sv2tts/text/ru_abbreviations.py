"""Russian abbreviations and acronyms as they are said.

- Abbreviations of phrases ("т.е.", "и т.д.", "н.э.") become the phrase.
- Abbreviations of one declinable word take the case the sentence gives it: "в г. Казани"
  -> "в городе Казани" (from the preposition and the name after it), "в Московской обл."
  -> "в Московской области" (from the adjective before it), "с проф. Ивановым" -> "с
  профессором Ивановым".
- Acronyms in capitals are spelled letter by letter ("МГУ" -> "эм гэ у") unless they are
  said as words ("ВУЗ", "НАТО", "ЕГЭ"). The rule is the one Russian speakers follow: an
  acronym is a word when it can be pronounced as one syllable chain: a vowel, no two vowels
  together, at most one consonant before the first vowel, no run of three consonants, at
  most two consonants at the end. A short list holds the established exceptions both ways.
  A capitalised word that the dictionary knows as an ordinary word ("МНОГО", "ВНИМАНИЕ") is
  shouting, not an acronym, and is just lower-cased.
"""

from __future__ import annotations

import itertools
import logging
import re

from sv2tts.text.ru_context import governing, start_of_word_before, word_before, words_after
from sv2tts.text.ru_morph import ABLT, GENT, LOCT, NOMN, forms, inflect, is_pos, parses

log = logging.getLogger(__name__)


def _compiled(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), words) for pattern, words in pairs)


# Abbreviations of phrases (they do not decline).
_PHRASES = _compiled(
    (
        (r"\bв\s+т\.\s?ч\.", "в том числе"),
        (r"\bт\.\s?е\.", "то есть"),
        (r"\bт\.\s?к\.", "так как"),
        (r"\bт\.\s?д\.", "так далее"),
        (r"\bт\.\s?п\.", "тому подобное"),
        (r"\bт\.\s?н\.", "так называемый"),
        (r"\bт\.\s?ч\.", "том числе"),
        (r"\bт\.\s?о\.", "таким образом"),
        (r"\bдо\s+н\.\s?э\.", "до нашей эры"),
        (r"\bн\.\s?э\.", "нашей эры"),
        (r"\bи\s+др\.", "и другие"),
        (r"\bи\s+пр\.", "и прочее"),
        (r"(?<![\d\s])(?<!\d\s)\bсм\.|^см\.", "смотри"),
        (r"\bнапр\.", "например"),
        (r"\bим\.", "имени"),
        (r"\bок\.(?=\s*\d)", "около"),
        (r"\bм\.(?=\s*(?-i:[А-ЯЁ]))", "метро"),
        # Abbreviations written with their case ending: "на Невском пр-те", "г-ну".
        (r"\bпр-т(?=[а-я]*\b)", "проспект"),
        (r"\bр-н(?=[а-я]*\b)", "район"),
        (r"\bг-н(?=[а-я]+\b)", "господин"),
        (r"\bг-ж(?=[а-я]+\b)", "госпож"),
    )
)
# Abbreviations of one word, with its dictionary form and what decides its case:
# "next": the name after it agrees ("г. Казани", "проф. Ивановым"); "place": the
# preposition or adjective before it ("на ул. Ленина", "в Московской обл.").
_WORDS: tuple[tuple[str, str, str, str], ...] = (
    (r"\bг\.(?=\s*(?-i:[А-ЯЁ]))", "город", "NOUN", "next"),
    (r"\bгг\.", "год", "NOUN", "years"),
    (r"\bг\.", "год", "NOUN", "year"),
    (r"\bул\.", "улица", "NOUN", "place"),
    (r"\bпросп\.", "проспект", "NOUN", "place"),
    (r"\bпр-т\b", "проспект", "NOUN", "place"),
    (r"\bпер\.", "переулок", "NOUN", "place"),
    (r"\bпл\.", "площадь", "NOUN", "place"),
    (r"\bнаб\.", "набережная", "NOUN", "place"),
    (r"\bст\.(?=\s*метро)", "станция", "NOUN", "place"),
    (r"\bобл\.", "область", "NOUN", "place"),
    (r"\bр-н\b", "район", "NOUN", "place"),
    (r"\bпроф\.", "профессор", "NOUN", "next"),
    (r"\bакад\.", "академик", "NOUN", "next"),
    (r"\bдоц\.", "доцент", "NOUN", "next"),
    (r"\bзам\.", "заместитель", "NOUN", "person"),
    (r"\bдир\.", "директор", "NOUN", "person"),
    (r"\bпр\.(?=\s*(?-i:[А-ЯЁ]))", "проспект", "NOUN", "place"),
    (r"\bг-н\b", "господин", "NOUN", "next"),
    (r"\bг-жа\b", "госпожа", "NOUN", "next"),
    (r"\bсв\.", "святой", "ADJF", "next"),
    # Money and magnitudes with no number before them: "тыс. руб." is "тысяч рублей".
    (r"\bруб\.", "рубль", "NOUN", "counted"),
    (r"\bкоп\.", "копейка", "NOUN", "counted"),
    (r"\bдолл\.", "доллар", "NOUN", "counted"),
    (r"\bтыс\.", "тысяча", "NOUN", "counted"),
    (r"\bмлн\b\.?", "миллион", "NOUN", "counted"),
    (r"\bмлрд\b\.?", "миллиард", "NOUN", "counted"),
    (r"\bтрлн\b\.?", "триллион", "NOUN", "counted"),
    (r"\bмин\.", "минута", "NOUN", "counted"),
    (r"\bсек\.", "секунда", "NOUN", "counted"),
    (r"\bшт\.", "штука", "NOUN", "counted"),
)
# Those recognised by the number after them, expanded before numbers become words.
_BEFORE_NUMBERS: tuple[tuple[str, str, str, str], ...] = (
    (r"\bд\.(?=\s*\d)", "дом", "NOUN", "place"),
    (r"\bкв\.(?=\s*\d)", "квартира", "NOUN", "place"),
    (r"\bстр\.", "страница", "NOUN", "place"),
    (r"\bрис\.", "рисунок", "NOUN", "place"),
    (r"\bгл\.", "глава", "NOUN", "place"),
    (r"\bкаб\.(?=\s*\d)", "кабинет", "NOUN", "place"),
    (r"\bприл\.(?=\s*\d)", "приложение", "NOUN", "place"),
    (r"\bп\.(?=\s*\d)", "пункт", "NOUN", "place"),
    (r"\bст\.(?=\s*\d)", "статья", "NOUN", "place"),
    (r"\bч\.(?=\s*\d)", "часть", "NOUN", "place"),
    (r"\bауд\.(?=\s*\d)", "аудитория", "NOUN", "place"),
    (r"\bкорп\.(?=\s*\d)", "корпус", "NOUN", "place"),
    (r"\bоф\.(?=\s*\d)", "офис", "NOUN", "place"),
    (r"\bэт\.(?=\s*\d)", "этаж", "NOUN", "place"),
    (r"\bмкр\.", "микрорайон", "NOUN", "place"),
    (r"\bтел\.(?=\s*[+\d])", "телефон", "NOUN", "place"),
)
_WORD_PATTERNS = tuple(
    (re.compile(pattern, re.IGNORECASE), lemma, pos, rule) for pattern, lemma, pos, rule in _WORDS
)
_BEFORE_NUMBER_PATTERNS = tuple(
    (re.compile(pattern, re.IGNORECASE), lemma, pos, rule)
    for pattern, lemma, pos, rule in _BEFORE_NUMBERS
)


def _case_from_place(text: str, start: int) -> str:
    before = word_before(text, start)
    if before and is_pos(before, "ADJF"):  # "в Московской обл.": the adjective's case
        adjective = [f.case for f in forms(before, ("ADJF",))]
        governed, _ = governing(text, start_of_word_before(text, start))
        fitting = [case for case in governed if case in adjective]
        if fitting:
            return LOCT if LOCT in fitting else fitting[0]
        return adjective[0] if adjective else NOMN
    governed, _ = governing(text, start)
    if not governed:
        return NOMN
    return LOCT if LOCT in governed else governed[0]


def _case_from_next(text: str, start: int, end: int) -> str:
    governed, _ = governing(text, start)
    following = words_after(text, end, 1)
    cases = [f.case for f in forms(following[0][0])] if following else []
    fitting = [case for case in governed if case in cases] if governed else cases
    if fitting:
        return LOCT if LOCT in fitting and governed else fitting[0]
    if governed:
        return LOCT if LOCT in governed else governed[0]
    return NOMN


def _expand_word(match: re.Match[str], lemma: str, pos: str, rule: str) -> str:
    text = match.string
    number = "sing"
    if rule == "next":
        case = _case_from_next(text, match.start(), match.end())
    elif rule == "place":
        case = _case_from_place(text, match.start())
    elif rule == "person":  # "с зам. министра": with whom, "к зам." to whom
        governed, _ = governing(text, match.start())
        case = (
            (ABLT if word_before(text, match.start()) in ("с", "со") else governed[0])
            if governed
            else NOMN
        )
    elif rule == "years":
        case, number = NOMN, "plur"
    elif rule == "year":
        case = NOMN
    else:
        case, number = GENT, "plur"
    word = inflect(lemma, case, number, pos=pos)
    if word == lemma and (case, number) != (NOMN, "sing"):
        log.debug("could not inflect %r to %s %s", lemma, case, number)
    return word[:1].upper() + word[1:] if match[0][:1].isupper() else word


def _keep_final_period(match: re.Match[str], words: str) -> str:
    """An abbreviation that ends the text keeps its period: it ended the sentence too."""
    if match[0].endswith(".") and not match.string[match.end() :].strip():
        return words + "."
    return words


def _sub_words(text: str, patterns: tuple[tuple[re.Pattern[str], str, str, str], ...]) -> str:
    for pattern, lemma, pos, rule in patterns:
        text = pattern.sub(
            lambda m, lemma=lemma, pos=pos, rule=rule: _keep_final_period(
                m, _expand_word(m, lemma, pos, rule)
            ),
            text,
        )
    return text


def expand_before_numbers(text: str) -> str:
    """Abbreviations of phrases, and those of words that a number follows ("д. 5")."""
    for pattern, words in _PHRASES:
        text = pattern.sub(lambda m, words=words: _keep_final_period(m, words), text)
    return _sub_words(text, _BEFORE_NUMBER_PATTERNS)


def expand_words(text: str) -> str:
    """Abbreviations of single words, in the case their sentence gives them."""
    return _sub_words(text, _WORD_PATTERNS)


# --- acronyms -----------------------------------------------------------------------------

LETTER_NAMES = {
    "а": "а", "б": "бэ", "в": "вэ", "г": "гэ", "д": "дэ", "е": "е", "ё": "ё", "ж": "жэ",
    "з": "зэ", "и": "и", "й": "й", "к": "ка", "л": "эль", "м": "эм", "н": "эн", "о": "о",
    "п": "пэ", "р": "эр", "с": "эс", "т": "тэ", "у": "у", "ф": "эф", "х": "ха", "ц": "цэ",
    "ч": "че", "ш": "ша", "щ": "ща", "ъ": "твёрдый знак", "ы": "ы", "ь": "мягкий знак",
    "э": "э", "ю": "ю", "я": "я",
}  # fmt: skip
_VOWELS = frozenset("аеёиоуыэюя")
# Established readings the rule does not give.
_SAID_AS_WORDS = frozenset(
    {"мкад", "мхат", "снилс", "сми", "оон", "нии", "вниим", "спид", "икеа", "уефа", "мгимо", "мрот"}
)
_SPELLED = {"сша": "сэ шэ а", "инн": "и эн эн", "окб": "о ка бэ", "вов": "вэ о вэ"}
_ACRONYM_RE = re.compile(r"(?<![\w-])(?P<caps>[А-ЯЁ]{2,7})(?P<ending>[а-яё]{0,3})(?![\w])")


def said_as_word(acronym: str) -> bool:
    """Whether a (lower-case) acronym is read as a word by the syllable rule above."""
    if acronym in _SAID_AS_WORDS:
        return True
    if acronym in _SPELLED or len(acronym) < 3:
        return False
    vowels = [i for i, char in enumerate(acronym) if char in _VOWELS]
    if not vowels or vowels[0] > 1 or len(acronym) - 1 - vowels[-1] > 2:
        return False
    if any(b - a == 1 for a, b in itertools.pairwise(vowels)):
        return False
    runs = re.findall(r"[^аеёиоуыэюя]+", acronym)
    return all(len(run) <= 2 for run in runs)


def spell(acronym: str) -> str:
    return _SPELLED.get(acronym) or " ".join(LETTER_NAMES.get(char, char) for char in acronym)


def _is_ordinary_word(word: str) -> bool:
    found = parses(word)
    return (
        bool(found)
        and "Abbr" not in found[0].tag
        and found[0].tag.POS is not None
        and ("UNKN" not in found[0].tag)
        and all("Abbr" not in p.tag for p in found[:2])
        and "Orgn" not in found[0].tag
    )


def _acronym(match: re.Match[str]) -> str:
    caps, ending = match["caps"].lower(), match["ending"]
    word = caps + ending
    if not ending and caps in _SPELLED:
        return _SPELLED[caps]
    if not ending and _is_ordinary_word(word):
        return word  # shouting: "МНОГО", "ЭЙ"
    if said_as_word(caps):
        return word  # "вуз", "вузе", "нато"
    if ending:
        return match[0]  # "МГУшный" and the like are left as written
    return spell(caps)


def expand_acronyms(text: str) -> str:
    return _ACRONYM_RE.sub(_acronym, text)
