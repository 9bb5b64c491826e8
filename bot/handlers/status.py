"""The Cancel button of a status message (bot/progress.py): /cancel for that one request.

The button carries the request id and the user it was shown to; both are checked against
the presser, and the request is read again: it must be theirs and still open. The message
then says what became of it, in the words /cancel uses, and the board stops following it.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.callbacks import RequestCb
from bot.locales import Texts
from bot.services import SpeechService
from storage import ACTIVE_STATUSES, Storage, User
from worker.api import Cancel

log = logging.getLogger(__name__)
router = Router(name="status")


@router.callback_query(RequestCb.filter())
async def cancel_pressed(
    callback: CallbackQuery,
    callback_data: RequestCb,
    store: Storage,
    speech: SpeechService,
    user: User,
    texts: Texts,
) -> None:
    request = await store.requests.get(callback_data.request_id)
    if (
        callback_data.user_id != user.id
        or request is None
        or request.user_id != user.id
        or request.kind != "synth"  # only speech has these buttons; recordings use /cancel
        or request.status not in ACTIVE_STATUSES
    ):
        await callback.answer(texts.nothing_to_cancel, show_alert=True)
        return
    answer = await speech.cancel(request)
    if answer is Cancel.REMOVED:
        text = texts.cancelled
    elif answer is Cancel.FLAGGED:  # a worker has it: it will not be sent (its outcome closes it)
        text = texts.cancelled_in_progress
    else:
        text = texts.cancel_running
    log.info("user %s cancelled request %s from its status: %s", user.id, request.id, answer)
    await callback.answer()
    if isinstance(callback.message, Message):
        if answer in (Cancel.REMOVED, Cancel.FLAGGED):
            await callback.message.edit_text(text, reply_markup=None)
        else:
            await callback.message.answer(text)
