"""Who asks for a piece of work, and where its answers go."""

from __future__ import annotations

from dataclasses import dataclass

from bot.locales import Texts
from storage import User


@dataclass(frozen=True, slots=True)
class Asker:
    """The sender (`user`, in their `texts`), the chat the answers go to, and the message
    they reply to (None: no reply)."""

    user: User
    texts: Texts
    chat_id: int
    reply_to: int | None = None
