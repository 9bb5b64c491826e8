"""Inline-button payloads. Every voice id that comes back is re-checked against the sender
(bot/filters.py, or storage's owner check in the same query).

Callback data comes from the client and can be forged. Before any of it reaches storage, the
numbers are bounded by their types here: an id is a positive SQLite integer (at most 2**63 - 1,
what an INTEGER PRIMARY KEY holds; a 30-digit id would raise OverflowError in the driver), a
page is a small non-negative number. A payload outside them fails validation, so the
callback-data filter does not pass and the press ends at the stale-button answer
(bot/handlers/fallback.py): "this voice is gone", as for a deleted voice, and no error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from storage import OutputFormat

# The largest value of a SQLite INTEGER (a signed 64-bit one).
SQLITE_MAX_INT = 2**63 - 1
MAX_PAGE = 2**31  # far past any real page; `page * page_size` stays a SQLite integer

RowId = Annotated[int, Field(ge=1, le=SQLITE_MAX_INT)]
# An id a payload may leave unset (0), as page buttons do.
RowIdOrUnset = Annotated[int, Field(ge=0, le=SQLITE_MAX_INT)]
Page = Annotated[int, Field(ge=0, le=MAX_PAGE)]


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
    voice_id: RowId


class BankAction(StrEnum):
    page = "pg"
    use = "use"
    preview = "pre"
    remove = "rm"  # admins only


class BankCb(CallbackData, prefix="b"):
    action: BankAction
    voice_id: RowIdOrUnset = 0
    page: Page = 0


class RegisterChoice(StrEnum):
    merge = "merge"
    new = "new"


class RegisterCb(CallbackData, prefix="r"):
    choice: RegisterChoice
    voice_id: RowId  # the active voice the question was about


class FormatCb(CallbackData, prefix="f"):
    output_format: OutputFormat  # another value fails validation: a stale button


class LanguageCb(CallbackData, prefix="l"):
    language: str


class ForgetCb(CallbackData, prefix="x"):
    confirm: bool
    user_id: RowId  # who asked: the button acts for them only


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
    first_id: RowIdOrUnset = 0
    second_id: RowIdOrUnset = 0
    share: int = Field(0, ge=0, le=100)  # the first voice's percent: one of MIX_SHARES
    page: Page = 0


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
