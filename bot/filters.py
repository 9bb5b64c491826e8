"""Filters that add context: a handler runs only when they pass, and gets what they found.

`OwnedVoice()` and `UsableVoice()` go after a callback-data filter whose payload carries a
`voice_id` (`VoiceCb`, `BankCb`, `RegisterCb`): they resolve that id against the sender with
storage's own checks and hand the voice to the handler as `voice`::

    @router.callback_query(VoiceCb.filter(F.action == VoiceAction.show), OwnedVoice())
    async def show_voice(callback: CallbackQuery, voice: Voice, ...) -> None: ...

- `OwnedVoice`: the sender's own voice (`Voices.get_owned`): they may use, rename, publish,
  delete or refine it.
- `UsableVoice`: own or public (`Voices.get_usable`): they may speak with it.

When the voice does not exist, was deleted, or is not the sender's to touch, the filter does
not pass and no other handler takes the press, so it ends at the fallback router's stale-button
handler (bot/handlers/fallback.py), which answers with the "voice is gone" alert: one answer
for every refused button, and no handler repeats the check.

`UsableVoices("first_id", "second_id")` does the same for a payload that names several voices
(`MixCb`): it passes only if every named id is a voice the sender may use, and hands each to
the handler under its field's name without `_id` (`first`, `second`).

`IsAdmin()` passes for ADMIN_IDS (the `is_admin` that AccessMiddleware puts in the data); the
admin router applies it to all of its handlers at once.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any, Protocol

from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, TelegramObject

from storage import Storage, User, Voice

log = logging.getLogger(__name__)


class VoicePayload(Protocol):
    """A callback-data payload that names a voice."""

    voice_id: int


class _ButtonVoice(BaseFilter):
    """The voice a pressed button names, if the sender may have it; see the module docstring."""

    rule = ""  # which voices pass, for the log line

    async def __call__(
        self, callback: CallbackQuery, callback_data: VoicePayload, store: Storage, user: User
    ) -> bool | dict[str, Any]:
        voice = await self.find(store, user.id, callback_data.voice_id)
        if voice is None:
            log.info(
                "user %s pressed a button of voice %s, which is not %s",
                user.id,
                callback_data.voice_id,
                self.rule,
            )
            return False
        return {"voice": voice}

    @abstractmethod
    async def find(self, store: Storage, user_id: int, voice_id: int) -> Voice | None:
        """The voice if the sender may have it here; None otherwise."""


class OwnedVoice(_ButtonVoice):
    """Passes with the sender's own voice as `voice`."""

    rule = "theirs"

    async def find(self, store: Storage, user_id: int, voice_id: int) -> Voice | None:
        return await store.voices.get_owned(user_id, voice_id)


class UsableVoice(_ButtonVoice):
    """Passes with a voice the sender may speak with (own or public) as `voice`."""

    rule = "theirs or public"

    async def find(self, store: Storage, user_id: int, voice_id: int) -> Voice | None:
        return await store.voices.get_usable(user_id, voice_id)


class UsableVoices(BaseFilter):
    """Passes when every voice id in `fields` of the payload is usable by the sender (own or
    public); each voice goes to the handler as the field's name without `_id`."""

    def __init__(self, *fields: str) -> None:
        if not fields or not all(name.endswith("_id") for name in fields):
            raise ValueError("UsableVoices takes the payload's voice-id field names")
        self.fields = fields

    async def __call__(
        self, callback: CallbackQuery, callback_data: Any, store: Storage, user: User
    ) -> bool | dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.fields:
            voice_id = int(getattr(callback_data, name))
            voice = await store.voices.get_usable(user.id, voice_id)
            if voice is None:
                log.info(
                    "user %s pressed a button naming voice %s, which is not theirs or public",
                    user.id,
                    voice_id,
                )
                return False
            found[name.removesuffix("_id")] = voice
        return found


class IsAdmin(BaseFilter):
    """Passes for the deployment's admins (ADMIN_IDS)."""

    async def __call__(self, event: TelegramObject, is_admin: bool) -> bool:
        return is_admin
