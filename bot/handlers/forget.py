"""/forget: delete everything the bot holds about the user, after a confirmation."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ForgetCb
from bot.checks import CheckGate
from bot.handlers.say import cancel_requests
from bot.locales import Texts
from bot.queue import JobQueue
from bot.screens import show_screen
from bot.settings import Settings
from storage import Storage, User
from worker.api import check_job_id, embed_job_id, synth_job_id
from worker.revocation import forgotten_key

log = logging.getLogger(__name__)
router = Router(name="forget")


@router.message(Command("forget"))
async def ask_forget(message: Message, user: User, texts: Texts) -> None:
    await message.answer(texts.forget_confirm, reply_markup=keyboards.forget(texts, user.id))


@router.callback_query(ForgetCb.filter(F.confirm))
async def forget(
    callback: CallbackQuery,
    callback_data: ForgetCb,
    state: FSMContext,
    store: Storage,
    jobs: JobQueue,
    checks: CheckGate,
    settings: Settings,
    user: User,
    texts: Texts,
) -> None:
    if callback_data.user_id != user.id:  # someone else's button (a forwarded message)
        log.info("user %s pressed the /forget button of user %s", user.id, callback_data.user_id)
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    # Redis first. The marks come before anything else: a /say admitted a moment ago, whose
    # job reaches the queue only after this purge, is void all the same (worker/revocation.py),
    # and so are others' jobs speaking with this user's voices. Then what is queued is taken
    # back, what runs is stopped before it is sent, and the jobs of every request on record
    # (text, voice, results) are cleared out.
    mark = forgotten_key(user.id, settings.bot_token.get_secret_value())
    await jobs.mark_forgotten(mark, user.created_at.timestamp())
    await jobs.revoke_voices([v.id for v in await store.voices.list_owned(user.id)])
    await cancel_requests(store, jobs, user.id)
    job_ids = [job_id for rid in await store.requests.ids_of(user.id) for job_id in job_ids_of(rid)]
    checking = await checks.forget(user.id)  # a running check's job holds their file id
    if checking is not None:
        await jobs.cancel(check_job_id(checking))
        job_ids.append(check_job_id(checking))
    await jobs.drop_pending(user.id)
    await state.clear()
    await jobs.purge(job_ids)
    report = await store.forget(user.id)
    log.info("user %s asked to be forgotten: %s", user.id, report)
    await show_screen(
        callback,
        texts.forgotten.format(
            voices=report.voices, recordings=report.recordings, requests=report.requests
        ),
    )
    await callback.answer()


def job_ids_of(request_id: int) -> tuple[str, str]:
    """Both names a request's job may have (the row may be gone: ids are cheap to try)."""
    return embed_job_id(request_id), synth_job_id(request_id)


@router.callback_query(ForgetCb.filter(~F.confirm))
async def keep(callback: CallbackQuery, callback_data: ForgetCb, user: User, texts: Texts) -> None:
    if callback_data.user_id != user.id:
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    await show_screen(callback, texts.forget_cancelled)
    await callback.answer()
