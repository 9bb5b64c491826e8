"""A corpus of hostile and odd texts to speak, each with its defined answer.

`HOSTILE_TEXTS` holds `HostileText(name, text, problem, visible)`: what a user could send after
`/say`, the refusal the engine's `text_problem` must give at the bot's default limit of 1000
characters (`problem`, None: it is spoken), and for spoken items the text the bot queues
(`visible`: the user's text without the characters nobody sees). What the model then reads is
checked by each test for its item (tests/sv2tts/text/test_hostile_text.py), and the bot's replies
by tests/bot/abuse/test_hostile_text.py.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_TEXT_CHARS = 1000  # bot.settings.Settings.max_text_chars

# 200 digits, every digit used: "1234567890" twenty times.
DIGITS_200 = "1234567890" * 20


@dataclass(frozen=True, slots=True)
class HostileText:
    name: str
    text: str
    problem: str | None  # "empty", "too_long", "nothing_to_say"; None: spoken
    visible: str | None = None  # the job's text, for a spoken item


HOSTILE_TEXTS = [
    HostileText("empty", "", "empty"),
    HostileText("whitespace", " \t\u00a0\u2003\u3000\u2028 \u3164 ", "empty"),
    # Nothing but characters that show nothing: formerly "nothing to pronounce", now "empty".
    HostileText("invisible_only", "\u200b\u200c\u200d\u2060\ufeff\u202e\u00ad\u2066", "empty"),
    HostileText("emoji_only", "😀🎉 👍🏽 👨\u200d👩\u200d👧 🏳️\u200d🌈 🇷🇺", "nothing_to_say"),
    HostileText("punctuation_only", "?!... --- ;;; ()", "nothing_to_say"),
    HostileText("ten_thousand_chars", ("Hello world. " * 770)[:10_000], "too_long"),
    HostileText("word_of_5000_chars", "a" * 5000, "too_long"),
    # Within the limit, a "word" longer than a sentence is no word: nothing left to say.
    HostileText("word_of_600_chars", "b" * 600, "nothing_to_say"),
    HostileText(
        "word_of_600_chars_in_a_sentence",
        "Say " + "c" * 600 + " please.",
        None,
        "Say " + "c" * 600 + " please.",
    ),
    HostileText(
        "mixed_scripts",
        "Hello мир, this is 日本語 and ελληνικά.",
        None,
        "Hello мир, this is 日本語 and ελληνικά.",
    ),
    HostileText("rtl", "שלום עולם, مرحبا بالعالم", None, "שלום עולם, مرحبا بالعالم"),
    HostileText(
        "bidi_controls",
        "\u202eHello\u202c \u2067world\u2069\u200f. \u202dFine\u202c.",
        None,
        "Hello world. Fine.",
    ),
    HostileText(
        "zero_width",
        "Hel\u200blo wo\u200drld\ufeff, s\u00adoft\u2060ly.",
        None,
        "Hello world, softly.",
    ),
    HostileText(
        "control_chars", "Hello\x00\x07 wor\x1bld\x7f\x9b again.", None, "Hello world again."
    ),
    HostileText(
        "line_separators",
        "one\u2028two\u2029three\x85four\r\nfive\vsix",
        None,
        "one two three four five six",
    ),
    HostileText("lone_surrogate", "Hello \ud800world", None, "Hello world"),
    HostileText(
        "markdown_lookalike",
        "**bold** _italic_ `code` [link](http://example.com) ~~gone~~",
        None,
        "**bold** _italic_ `code` [link](http://example.com) ~~gone~~",
    ),
    HostileText(
        "html_lookalike",
        "<b>bold</b> <script>alert(1)</script> &amp; &lt;i&gt;",
        None,
        "<b>bold</b> <script>alert(1)</script> &amp; &lt;i&gt;",
    ),
    HostileText("number_of_200_digits", DIGITS_200, None, DIGITS_200),
    HostileText(
        "number_of_200_digits_in_a_sentence",
        f"The code is {DIGITS_200}, thanks.",
        None,
        f"The code is {DIGITS_200}, thanks.",
    ),
]

BY_NAME = {item.name: item for item in HOSTILE_TEXTS}
