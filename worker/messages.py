"""The few words the worker itself writes to a user: a short apology when a request fails,
and the caption of a voice note (its likeness, and a warning when it may arrive twice).

Everything else the user reads comes from the bot; these texts are here because the worker is
the one that knows them after the bot has long moved on.
"""

from __future__ import annotations

_APOLOGIES: dict[str, dict[str, str]] = {
    "en": {
        "nothing_to_say": "Sorry, I found nothing I could say out loud in that text.",
        "telegram_error": "Sorry, I could not send you the voice note: Telegram refused it.",
        "weights_missing": "Sorry, the speech engine is not set up yet. Please try again later.",
        "timeout": "Sorry, that took too long and I gave up. Try a shorter text.",
        "internal": "Sorry, something went wrong while making the voice note. Please try again.",
        "delivery_unknown": "Sorry, Telegram did not confirm the voice note. If it has not "
        "arrived, send the text again.",
        "lost": "Sorry, your request was lost in a restart of the service. Please send it again.",
        "cancelled": "Sorry, that request was cancelled.",
        "voice_gone": "Sorry, that voice is no longer available: its owner deleted it or "
        "took it back. Pick another one in /voices or /bank.",
    },
    "ru": {
        "nothing_to_say": "Извините, в этом тексте нечего произнести вслух.",
        "telegram_error": "Извините, не удалось отправить голосовое: Telegram его не принял.",
        "weights_missing": "Извините, движок речи ещё не настроен. Попробуйте позже.",
        "timeout": "Извините, это заняло слишком много времени. Попробуйте текст покороче.",
        "internal": "Извините, при создании голосового что-то пошло не так. Попробуйте ещё раз.",
        "delivery_unknown": "Извините, Telegram не подтвердил доставку голосового. Если оно не "
        "пришло, отправьте текст ещё раз.",
        "lost": "Извините, ваш запрос потерялся при перезапуске сервиса. Отправьте его ещё раз.",
        "cancelled": "Извините, этот запрос отменён.",
        "voice_gone": "Извините, этого голоса больше нет: владелец удалил его или убрал из "
        "общего доступа. Выберите другой в /voices или /bank.",
    },
}


def apology(code: str, language: str) -> str:
    """A one-line apology for failure `code` in `language` (Russian or English)."""
    texts = _APOLOGIES["ru" if language.lower().startswith("ru") else "en"]
    return texts.get(code, texts["internal"])


_SENT_AGAIN = {
    "en": "Sent again: the first attempt was cut off, so you may have this one twice.",
    "ru": "Отправлено повторно: первая попытка оборвалась, поэтому оно могло прийти дважды.",
}


def sent_again_caption(language: str) -> str:
    """The caption of a voice note re-sent after an upload that may or may not have arrived."""
    return _SENT_AGAIN["ru" if language.lower().startswith("ru") else "en"]


_LIKENESS = {"en": "likeness {value}", "ru": "сходство {value}"}


def likeness_caption(likeness: float, language: str) -> str:
    """How close the note is to its voice, two decimals in the language's own style:
    "likeness 0.82", "сходство 0,82"."""
    russian = language.lower().startswith("ru")
    value = f"{likeness:.2f}"
    return _LIKENESS["ru" if russian else "en"].format(
        value=value.replace(".", ",") if russian else value
    )


def note_caption(language: str, *, likeness: float | None, sent_again: bool) -> str | None:
    """The caption of a voice note: its likeness, and the warning of a re-send after a cut-off
    upload, one line each; None when there is neither."""
    lines = []
    if likeness is not None:
        lines.append(likeness_caption(likeness, language))
    if sent_again:
        lines.append(sent_again_caption(language))
    return "\n".join(lines) or None
