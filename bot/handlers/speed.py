"""/speed: the pace of the user's voice notes, 0.75× to 1.5×, as a button or `/speed 1.25`.

The pace travels in each SynthRequest; the worker's finishing ladder (sv2tts/finish.py, the
one `python -m sv2tts say --pace` runs too) applies it with ffmpeg's `atempo`, pitch kept, at
no cost in the models.
"""

from __future__ import annotations

import logging
import math

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import SpeedCb
from bot.locales import Texts
from bot.screens import show_screen
from storage import DEFAULT_PACE, PACE_RANGE, Storage, User

log = logging.getLogger(__name__)
router = Router(name="speed")

# Ways people write a factor after the number: 1.25x, 1.25×, 1,25х (a Cyrillic "ha").
_TIMES_SIGNS = "xXх×"


def pace_from_text(text: str) -> float | None:
    """The pace a user typed ("1.25", "1,25", "1.25x", "0.75×"), rounded to hundredths, or
    None unless it is a number within PACE_RANGE."""
    cleaned = text.strip().rstrip(_TIMES_SIGNS).strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    low, high = PACE_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return round(value, 2)


def pace_label(pace: float, texts: Texts) -> str:
    return texts.pace(pace) + (texts.pace_normal if pace == DEFAULT_PACE else "")


def range_fields(texts: Texts) -> dict[str, str]:
    low, high = PACE_RANGE
    return {"low": texts.pace(low), "high": texts.pace(high)}


@router.message(Command("speed"))
async def speed(
    message: Message, command: CommandObject, store: Storage, user: User, texts: Texts
) -> None:
    if command.args and command.args.strip():
        pace = pace_from_text(command.args)
        if pace is None:
            await message.answer(texts.speed_invalid.format(**range_fields(texts)))
            return
        await store.users.set_pace(user.id, pace)
        await message.answer(texts.speed_set.format(pace=pace_label(pace, texts)))
        return
    await message.answer(
        texts.speed_prompt.format(current=pace_label(user.pace, texts), **range_fields(texts)),
        reply_markup=keyboards.paces(user.pace, texts),
    )


@router.callback_query(SpeedCb.filter())
async def pace_chosen(
    callback: CallbackQuery, callback_data: SpeedCb, store: Storage, user: User, texts: Texts
) -> None:
    pace = pace_from_text(str(callback_data.pace))
    if pace is None:  # a forged button
        log.info("user %s pressed a pace button of %r", user.id, callback_data.pace)
        await callback.answer(texts.speed_invalid.format(**range_fields(texts)), show_alert=True)
        return
    await store.users.set_pace(user.id, pace)
    await show_screen(callback, texts.speed_set.format(pace=pace_label(pace, texts)))
    await callback.answer()
