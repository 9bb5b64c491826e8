"""Counts in the interface take their plural forms (CLDR, through Babel), in both languages.

Every text with a count is rendered for 1, 2, 5, 11, 21, 22, 25; the form it picks is checked
against the category each count has in Russian and English grammar, written out here by hand
(not asked of Babel), and a few renderings are pinned word for word.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Iterator

import pytest

from bot.locales import Message, Texts, plural_forms, plural_problems, texts_for

COUNTS = (1, 2, 5, 11, 21, 22, 25)
# Russian: 1, 21 (not 11) "one"; 2-4, 22-24 (not 12-14) "few"; the rest of the integers "many".
CATEGORY = {
    "ru": {1: "one", 2: "few", 5: "many", 11: "many", 21: "one", 22: "few", 25: "many"},
    "en": {1: "one", 2: "other", 5: "other", 11: "other", 21: "other", 22: "other", 25: "other"},
}
# Words that may follow a bare number: units, prepositions, and English adjectives and
# adverbs, which no count inflects ("5 %", "12,2 с", "page 2 of 3", "3 blocked", "2 more").
UNINFLECTED = {"%", "с", "s", "МБ", "MB", "из", "до", "в", "of", "to", "in", "more"}
UNINFLECTED_EN_STATS = {"active", "blocked", "public", "curated"}
_BARE_NUMBER_RE = re.compile(r"\{(\w+)(?::([^}|]*))?\} +([^\s\d{]+)")


def templates(texts: Texts) -> Iterator[tuple[str, str]]:
    """(name, template) of every text, dict entries as "field[key]"."""
    for field in dataclasses.fields(texts):
        value = getattr(texts, field.name)
        if isinstance(value, str):
            yield field.name, value
        elif isinstance(value, dict):
            for key, text in value.items():
                if isinstance(text, str):
                    yield f"{field.name}[{key}]", text


def count_fields(template: str) -> dict[str, dict[str, str]]:
    """The counts of `template`: field name -> {category: form}."""
    return {
        field: plural_forms(spec)[1]
        for _, field, spec, _ in string.Formatter().parse(template)
        if field and spec and "|" in spec
    }


def filled(template: str, counts: dict[str, int]) -> dict[str, object]:
    """Every field of `template`: the counts given, any other field a word."""
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    return {f: counts.get(f, 7.5 if f in ("min", "limit", "failure_rate") else "X") for f in fields}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_count_renders_the_form_of_its_category(language: str) -> None:
    texts = texts_for(language)
    shown: list[str] = []
    checked = 0
    for name, template in templates(texts):
        counts = count_fields(template)
        if not counts:
            continue
        assert isinstance(template, Message), name
        for count in COUNTS:
            values = filled(template, dict.fromkeys(counts, count))
            rendered = template.format(**values)
            shown.append(f"{language} {name} {count}: {rendered}")
            assert "{" not in rendered and "|" not in rendered, rendered
            for field, forms in counts.items():
                form = forms[CATEGORY[language][count]].replace("#", str(count))
                assert form in rendered, (name, field, count, rendered)
                checked += 1
    assert checked > 50, "\n".join(shown)


@pytest.mark.parametrize(
    ("language", "name", "fields", "expected"),
    [
        ("ru", "voice_card", {"count": 1}, "1 запись,"),
        ("ru", "voice_card", {"count": 2}, "2 записи,"),
        ("ru", "voice_card", {"count": 5}, "5 записей,"),
        ("ru", "voice_card", {"count": 11}, "11 записей,"),
        ("ru", "voice_card", {"count": 21}, "21 запись,"),
        ("ru", "voice_card", {"count": 22}, "22 записи,"),
        ("ru", "voice_card", {"count": 25}, "25 записей,"),
        ("ru", "text_too_long", {"length": 1001, "limit": 1000}, "1001 символ,"),
        ("ru", "text_too_long", {"length": 1002, "limit": 1000}, "1002 символа,"),
        ("ru", "text_too_long", {"length": 1011, "limit": 1000}, "1011 символов,"),
        ("ru", "recording_too_long", {"limit": 21.0}, "не больше 21 секунды."),
        ("ru", "recording_too_long", {"limit": 60.0}, "не больше 60 секунд."),
        ("ru", "rate_limited", {"per_minute": 3}, "не больше 3 запросов в минуту"),
        ("ru", "rate_limited", {"per_minute": 1}, "не больше 1 запроса в минуту"),
        ("ru", "too_many_voices", {"limit": 21}, "У вас уже 21 голос —"),
        ("ru", "too_many_voices", {"limit": 24}, "У вас уже 24 голоса —"),
        ("ru", "dialogue_too_many_voices", {"count": 5, "limit": 4}, "В сценке 5 голосов,"),
        ("ru", "stats", {"window_days": 7}, "📊 За 7 дней"),
        ("ru", "stats", {"window_days": 1}, "📊 За 1 день"),
        ("en", "voice_card", {"count": 1}, "1 recording,"),
        ("en", "voice_card", {"count": 21}, "21 recordings,"),
        ("en", "text_too_long", {"length": 1001, "limit": 1000}, "1001 characters, the limit"),
        ("en", "stats", {"window_days": 1}, "📊 Last day"),
        ("en", "stats", {"window_days": 7}, "📊 Last 7 days"),
    ],
)
def test_counts_read_as_a_native_speaker_writes_them(
    language: str, name: str, fields: dict[str, int], expected: str
) -> None:
    template = getattr(texts_for(language), name)
    values = filled(template, fields)
    values["speech"] = "4,9"
    assert expected in template.format(**values)


def test_forgetting_reports_three_counts_each_in_its_own_form() -> None:
    ru = texts_for("ru").forgotten.format(voices=1, recordings=3, requests=25)
    assert "Удалил 1 голос, 3 записи и 25 запросов." in ru
    en = texts_for("en").forgotten.format(voices=1, recordings=3, requests=1)
    assert "I deleted 1 voice, 3 recordings and 1 request." in en


def test_a_count_needing_the_too_short_form_is_inside_a_dict_of_texts_too() -> None:
    assert "не меньше 2 секунд." in texts_for("ru").embed_errors["too_short"].format(min=2.0)
    assert "at least 1 second." in texts_for("en").embed_errors["too_short"].format(min=1.0)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_number_stands_before_a_noun_without_its_plural_forms(language: str) -> None:
    allowed = UNINFLECTED | (UNINFLECTED_EN_STATS if language == "en" else set())
    bare = [
        (name, match[0])
        for name, template in templates(texts_for(language))
        for match in _BARE_NUMBER_RE.finditer(template)
        if match[3].rstrip(".,:;)") not in allowed and match[3][0] not in "—–-(«“+×/"
    ]
    assert bare == []


def test_a_template_missing_a_category_of_its_language_is_refused() -> None:
    assert plural_problems("{n:|one=# файл|other=# файла}", "ru") == [
        "{n} has forms ['one', 'other'], ru needs ['few', 'many', 'one', 'other']"
    ]
    assert plural_problems("{n:|one=# file|other=# files}", "en") == []
    with pytest.raises(ValueError, match="ru needs"):
        Message("{n:|one=# файл|other=# файла}", "ru")


def test_a_decimal_count_takes_the_fraction_form() -> None:
    message = Message(
        "{s:.1f|one=# секунда|few=# секунды|many=# секунд|other=# секунды}", "ru", ","
    )
    assert message.format(s=1.5) == "1,5 секунды"
    assert message.format(s=5.0) == "5,0 секунды"  # CLDR: visible decimals are "other"
