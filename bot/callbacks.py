"""Inline-button payloads. Every voice id that comes back is re-checked against the sender
(bot/filters.py, or storage's owner check in the same query)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from storage import OutputFormat


class VoiceAction(StrEnum):
    show = "show"
    use = "use"
    rename = "ren"
    publish = "pub"
    publish_yes = "puby"
    withdraw = "wd"
    delete = "del"
    delete_yes = "dely"
    back = "back"


class VoiceCb(CallbackData, prefix="v"):
    action: VoiceAction
    voice_id: int


class BankAction(StrEnum):
    page = "pg"
    use = "use"
    preview = "pre"
    remove = "rm"  # admins only


class BankCb(CallbackData, prefix="b"):
    action: BankAction
    voice_id: int = 0
    page: int = 0


class RegisterChoice(StrEnum):
    merge = "merge"
    new = "new"


class RegisterCb(CallbackData, prefix="r"):
    choice: RegisterChoice
    voice_id: int  # the active voice the question was about


class FormatCb(CallbackData, prefix="f"):
    output_format: OutputFormat  # another value fails validation: a stale button


class LanguageCb(CallbackData, prefix="l"):
    language: str


class ForgetCb(CallbackData, prefix="x"):
    confirm: bool
    user_id: int  # who asked: the button acts for them only


class ForwardedChoice(StrEnum):
    check = "check"
    learn = "learn"


class ForwardedCb(CallbackData, prefix="w"):
    """What to do with a forwarded voice note; the note itself waits as the sender's pending
    recording (bot.queue.JobQueue.put_pending), so a press acts on the presser's own only."""

    choice: ForwardedChoice
