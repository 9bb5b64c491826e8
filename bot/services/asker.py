"""Who asks for a piece of work, and where its answers go."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot

from bot.admission import refusal_text
from bot.locales import Texts
from bot.settings import Settings
from storage import Admission, User

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asker:
    """The sender (`user`, in their `texts`), the chat the answers go to, and the message
    they reply to (None: no reply)."""

    user: User
    texts: Texts
    chat_id: int
    reply_to: int | None = None


async def admitted(bot: Bot, settings: Settings, asker: Asker, admission: Admission) -> int | None:
    """The id of the request `admission` made; None after telling `asker` why there is none
    (one at a time, the rate, the voice cap, the service busy)."""
    if admission.request_id is None:
        assert admission.refusal is not None
        log.info("request of user %s refused: %s", asker.user.id, admission.refusal)
        await bot.send_message(
            asker.chat_id, refusal_text(admission.refusal, settings, asker.texts)
        )
    return admission.request_id
