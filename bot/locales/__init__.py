"""Every user-facing text, one module per language (en.py, ru.py), one shape for both.

Texts are plain text (no parse mode), so that voice names and user text never need escaping.
Placeholders are `str.format` fields; the field names are part of each text's contract.

Counts take their language's plural form, by the CLDR rules Babel carries. A field whose
format spec holds "|" is a count with its forms, one per CLDR category of the language,
"#" standing for the number (formatted by what comes before the first "|"):

    "{count:|one=# запись|few=# записи|many=# записей|other=# записи}"   (ru: 1, 2, 5, 1,5)
    "{limit:.0f|one=# second|other=# seconds}"                          (en)

`Texts` turns such templates into `Message`s, strings whose `format` picks the form; the
handlers call `.format(...)` as on any text. Every template must name exactly its
language's categories (ru: one, few, many, other; en: one, other), checked when the texts
are built. aiogram's i18n is not used: it is gettext, whose `ngettext` takes one count per
message (our /forget reply has three), picks the form with a C expression from a .po header
instead of CLDR's rules, and would move the texts out of these typed, test-checked modules
into catalogues that need a compile step.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel import Locale

from storage import OutputFormat

DEFAULT_LANGUAGE = "en"
PLURAL_MARK = "|"
NUMBER_MARK = "#"


@cache
def plural_categories(language: str) -> frozenset[str]:
    """The CLDR plural categories of `language` ("other" included)."""
    return Locale.parse(language).plural_form.tags | {"other"}


def plural_category(language: str, number: object) -> str:
    """The CLDR category of `number` (an int, or a number as written, "1.5") in `language`."""
    try:
        value = Decimal(str(number))
    except InvalidOperation:
        raise ValueError(f"not a number for a plural form: {number!r}") from None
    return Locale.parse(language).plural_form(value)


def plural_forms(spec: str) -> tuple[str, dict[str, str]]:
    """A count's format spec split: the number's own spec and {category: form}."""
    number_spec, *entries = spec.split(PLURAL_MARK)
    forms: dict[str, str] = {}
    for entry in entries:
        category, equals, form = entry.partition("=")
        if not equals:
            raise ValueError(f"plural form without a category: {entry!r}")
        forms[category.strip()] = form
    return number_spec, forms


def plural_problems(template: str, language: str) -> list[str]:
    """What is wrong with the counts of `template` in `language` (empty if nothing)."""
    problems: list[str] = []
    wanted = plural_categories(language)
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is None or not spec or PLURAL_MARK not in spec:
            continue
        try:
            _, forms = plural_forms(spec)
        except ValueError as error:
            problems.append(f"{{{field}}}: {error}")
            continue
        if set(forms) != wanted:
            problems.append(
                f"{{{field}}} has forms {sorted(forms)}, {language} needs {sorted(wanted)}"
            )
    return problems


def has_counts(template: str) -> bool:
    """Whether `template` has a count with plural forms."""
    return any(spec and PLURAL_MARK in spec for _, _, spec, _ in string.Formatter().parse(template))


class _PluralFormatter(string.Formatter):
    def __init__(self, language: str, decimal_separator: str) -> None:
        self.language = language
        self.decimal_separator = decimal_separator

    def format_field(self, value: Any, format_spec: str) -> str:
        if PLURAL_MARK not in format_spec:
            return super().format_field(value, format_spec)
        number_spec, forms = plural_forms(format_spec)
        number = format(value, number_spec)
        form = forms[plural_category(self.language, number)]
        return form.replace(NUMBER_MARK, number.replace(".", self.decimal_separator))


class Message(str):
    """A text whose `format` gives each count its plural form (see the module's doc)."""

    language: str
    decimal_separator: str

    def __new__(cls, template: str, language: str, decimal_separator: str = ".") -> Message:
        problems = plural_problems(template, language)
        if problems:
            raise ValueError(f"{template[:40]!r}...: " + "; ".join(problems))
        message = super().__new__(cls, template)
        message.language = language
        message.decimal_separator = decimal_separator
        return message

    def format(self, *args: Any, **kwargs: Any) -> str:
        return self.format_map_args(args, kwargs)

    def format_map(self, mapping: Mapping[str, Any]) -> str:  # type: ignore[override]
        return self.format_map_args((), mapping)

    def format_map_args(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        formatter = _PluralFormatter(self.language, self.decimal_separator)
        return formatter.vformat(str(self), args, kwargs)


@dataclass(frozen=True, slots=True)
class Texts:
    language: str
    language_name: str  # in its own language, for the /language buttons
    commands: dict[str, str]  # command -> menu description
    welcome: str
    help: str
    language_prompt: str
    language_set: str
    access_denied: str
    admin_only: str

    # registering a voice
    listening: str
    default_voice_name: str  # {n}
    voice_registered: str  # {name} {speech} {hint}
    voice_merged: str  # {name} {count} {speech} {hint}
    hint_good: str
    hint_quiet: str
    hint_clipped: str
    hint_short: str
    merge_or_new: str  # {name}
    merge_button: str  # {name}
    new_button: str
    pending_expired: str
    file_too_big: str  # {limit_mb}
    recording_too_long: str  # {limit}
    not_audio_file: str
    embed_errors: dict[str, str]  # worker.api.ERROR_CODES -> text; {min} {limit}
    embed_timeout: str

    # speaking
    say_usage: str
    text_empty: str
    text_too_long: str  # {limit} {length}
    text_too_much_work: str  # {symbols} {limit}: symbols once spelled out (bot/text_check.py)
    nothing_speakable: str
    no_voice: str
    worker_down: str
    one_at_a_time: str
    rate_limited: str  # {per_minute}
    queue_place: str  # {place}
    cancelled: str
    nothing_to_cancel: str
    cancel_running: str
    cancelled_in_progress: str  # a worker had started it; it will not be sent
    service_busy: str  # the whole queue is full
    too_many_voices: str  # {limit}
    request_lost: str  # the sweeper gave up on a request
    listening_interrupted: str  # the bot restarted while a recording was being made a voice
    private_only: str  # the one answer in a group chat
    preview_phrase: str

    # /voices
    no_voices: str
    voices_header: str
    voice_card: str  # {name} {count} {speech} {status}
    status_active: str
    status_public: str
    status_private: str
    btn_use: str
    btn_rename: str
    btn_publish: str
    btn_withdraw: str
    btn_delete: str
    btn_back: str
    btn_yes_delete: str
    btn_publish_confirm: str
    btn_cancel: str
    voice_active: str  # {name}
    rename_prompt: str  # {name}
    rename_done: str  # {name}
    rename_invalid: str  # {limit}
    rename_empty: str  # nothing visible left of the name (bot/names.py)
    rename_marker: str  # the name begins with an emoji or symbol, like the bot's marks
    publish_confirm: str  # {name}
    published: str  # {name}
    withdrawn: str  # {name}
    delete_confirm: str  # {name}
    deleted: str  # {name}
    voice_gone: str

    # /bank
    bank_empty: str
    bank_header: str  # {page} {pages}
    bank_curated_note: str  # under the header when the page shows curated voices
    voice_active_curated: str  # {name}: a curated bank voice chosen
    btn_prev: str
    btn_next: str
    bank_removed: str  # {name}

    # /format
    format_prompt: str  # {current}
    format_set: str  # {format}
    format_names: dict[OutputFormat, str]

    # /mix (bot/handlers/mix.py)
    mix_need_two: str
    mix_pick_first: str
    mix_pick_second: str  # {first}
    mix_no_partner: str  # {first}
    mix_pick_share: str  # {first} {second}
    mix_share_button: str  # {first_share} {first} {second_share} {second}
    mix_page: str  # {page} {pages}, added to a picker's text when it has several pages
    mix_default_name: str  # {first} {second}
    mix_done: str  # {name} {first_share} {first} {second_share} {second}
    mix_same: str
    mix_encoders: str
    mix_too_many: str  # {limit}
    mix_cancelled: str
    mix_source: str  # {name}: a source's name as the provenance quotes it
    mix_source_gone: str  # a source that is deleted or no longer shared
    mix_provenance: str  # {first_share} {first} {second_share} {second}
    voice_card_mix: str  # {name} {provenance} {status}

    # /speed (bot/handlers/speed.py)
    speed_prompt: str  # {current} {low} {high}
    speed_set: str  # {pace}
    speed_invalid: str  # {low} {high}
    pace_normal: str  # added to 1×

    # /forget
    forget_confirm: str
    btn_forget: str
    forgotten: str  # {voices} {recordings} {requests}
    forget_cancelled: str

    # admin
    stats: str  # many fields, see handlers/admin.py

    # anything else
    fallback: str
    unsupported_message: str

    # /dialogue
    dialogue_usage: str
    dialogue_unknown_name: str  # {name} {choices}
    dialogue_more_choices: str  # {more}: appended to the choices when the bank has more
    dialogue_no_choices: str  # no voice of their own, and the bank is empty
    dialogue_empty_turn: str  # {line} {name}
    dialogue_too_many_voices: str  # {count} {limit}
    dialogue_too_many_turns: str  # {count} {limit}

    # /check and forwarded notes
    check_prompt: str
    check_waiting: str
    check_reply_no_audio: str
    check_not_audio: str
    checking: str
    check_found: str  # {confidence}: percent
    check_absent: str  # {confidence}
    check_unclear: str  # {confidence}
    check_too_short: str
    check_busy: str
    forwarded_offer: str
    btn_check: str
    btn_learn: str

    # inline mode
    inline_make_one: str  # the button over an empty list (at most 64 characters)
    inline_private: str  # the same, for someone a private deployment does not serve
    inline_description: str  # {duration}: under each note's title

    # status of long work (bot/progress.py), and text sent while a voice is being learned
    status_making: str  # {percent}
    status_making_left: str  # {percent} {seconds}
    btn_cancel_request: str
    voice_being_learned: str  # the text will be spoken once the voice is ready
    listening_queued: str  # {place}: a recording waiting for a free worker

    # "4.9" in English, "4,9" in Russian
    decimal_separator: str = "."

    def __post_init__(self) -> None:
        # Templates with counts become Messages, so that `.format` picks the plural forms.
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str) and has_counts(value):
                object.__setattr__(self, field.name, self._message(value))
            elif isinstance(value, dict) and any(
                isinstance(v, str) and has_counts(v) for v in value.values()
            ):
                wrapped = {
                    k: self._message(v) if isinstance(v, str) and has_counts(v) else v
                    for k, v in value.items()
                }
                object.__setattr__(self, field.name, wrapped)

    def _message(self, template: str) -> Message:
        return Message(template, self.language, self.decimal_separator)

    def seconds(self, value: float) -> str:
        """A duration for a text's `{speech}` field, one decimal, in this language's style."""
        return f"{value:.1f}".replace(".", self.decimal_separator)

    def pace(self, value: float) -> str:
        """A tempo factor as users read it: "1.25×", "0,75×" (no trailing zeros)."""
        return f"{value:g}×".replace(".", self.decimal_separator)

    def likeness(self, value: float | None) -> str:
        """A likeness figure, two decimals in this language's style; a dash for none."""
        return "—" if value is None else f"{value:.2f}".replace(".", self.decimal_separator)


def texts_for(language: str | None) -> Texts:
    from bot.locales import en, ru

    table = {"en": en.TEXTS, "ru": ru.TEXTS}
    return table.get((language or DEFAULT_LANGUAGE)[:2].lower(), table[DEFAULT_LANGUAGE])


def supported_languages() -> tuple[str, ...]:
    return ("en", "ru")


def language_from_code(language_code: str | None) -> str:
    """Telegram's IETF tag (`ru`, `en-GB`, `uk`) -> one of ours; Russian for ru, else English."""
    code = (language_code or "").split("-")[0].lower()
    return code if code in supported_languages() else DEFAULT_LANGUAGE
