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


class MixStep(StrEnum):
    first = "a"  # the first voice was picked (first_id)
    second = "b"  # the second was picked (first_id, second_id)
    share = "s"  # the share was picked (first_id, second_id, share): make the mix
    first_page = "pa"  # another page of first voices (page)
    second_page = "pb"  # another page of second voices (first_id, page)
    cancel = "x"


# The first voice's share, in percent, that the share buttons offer; another value in a
# pressed button is a forged one.
MIX_SHARES = (75, 50, 25)


class MixCb(CallbackData, prefix="m"):
    """A step of /mix. The voice ids are re-checked against the sender at every press
    (`UsableVoices` in bot/filters.py) and once more as the mix is made (storage.mixes)."""

    step: MixStep
    first_id: int = 0
    second_id: int = 0
    share: int = 0  # the first voice's percent: one of MIX_SHARES
    page: int = 0


class SpeedCb(CallbackData, prefix="p"):
    pace: float  # checked against storage's PACE_RANGE by the handler


class ForwardedChoice(StrEnum):
    check = "check"
    learn = "learn"


class ForwardedCb(CallbackData, prefix="w"):
    """What to do with a forwarded voice note; the note itself waits as the sender's pending
    recording (bot.queue.JobQueue.put_pending), so a press acts on the presser's own only."""

    choice: ForwardedChoice


class RequestCb(CallbackData, prefix="q"):
    """Cancel a request from its status message (bot/progress.py): the request is re-read
    and must be the presser's own and still open; `user_id` is who it was shown to."""

    request_id: int
    user_id: int
