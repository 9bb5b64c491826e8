"""One router per feature; `feature_routers()` gives them in the order they must be tried."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    admin,
    bank,
    chats,
    check,
    dialogue,
    fallback,
    forget,
    inline,
    mix,
    register,
    say,
    settings_format,
    speed,
    start,
    status,
    voices,
)


def feature_routers() -> list[Router]:
    # Group chats first (the bot serves private chats only), then /cancel (it must work in any
    # state), the admins' router before its refusals for everyone else, the rename state before
    # plain text is taken as speech, the catch-all last (it also answers the buttons whose
    # voice a filter refused: bot/filters.py). /check's state and forwarded notes come before a
    # recording is taken as a new voice and text as speech.
    return [
        chats.router,
        say.cancel_router,
        status.router,
        start.router,
        admin.router,
        admin.refusals,
        voices.router,
        bank.router,
        settings_format.router,
        mix.router,
        speed.router,
        forget.router,
        check.router,
        dialogue.router,
        inline.router,
        register.router,
        say.router,
        fallback.router,
    ]
