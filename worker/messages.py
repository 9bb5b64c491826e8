"""The one message the worker itself writes to a user: a short apology when a request fails.

Everything else the user reads comes from the bot; this text is here because the worker is
the one that knows the request failed after the bot has long moved on.
"""

from __future__ import annotations

_APOLOGIES: dict[str, dict[str, str]] = {
    "en": {
        "nothing_to_say": "Sorry, I found nothing I could say out loud in that text.",
        "telegram_error": "Sorry, I could not send you the voice note: Telegram refused it.",
        "weights_missing": "Sorry, the speech engine is not set up yet. Please try again later.",
        "timeout": "Sorry, that took too long and I gave up. Try a shorter text.",
        "internal": "Sorry, something went wrong while making the voice note. Please try again.",
    },
    "ru": {
        "nothing_to_say": "Извините, в этом тексте нечего произнести вслух.",
        "telegram_error": "Извините, не удалось отправить голосовое: Telegram его не принял.",
        "weights_missing": "Извините, движок речи ещё не настроен. Попробуйте позже.",
        "timeout": "Извините, это заняло слишком много времени. Попробуйте текст покороче.",
        "internal": "Извините, при создании голосового что-то пошло не так. Попробуйте ещё раз.",
    },
}


def apology(code: str, language: str) -> str:
    """A one-line apology for failure `code` in `language` (Russian or English)."""
    texts = _APOLOGIES["ru" if language.lower().startswith("ru") else "en"]
    return texts.get(code, texts["internal"])
