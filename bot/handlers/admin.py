"""Everything behind ADMIN_IDS: /stats and the bank's remove button.

`router` admits only admins (one router-level `IsAdmin` filter for all of its handlers);
`refusals`, tried right after it, answers everyone else who sends the same command or presses
the same button with `texts.admin_only`, as an alert for a button.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.callbacks import BankAction, BankCb
from bot.filters import IsAdmin
from bot.locales import Texts
from bot.queue import JobQueue
from bot.screens import bank_screen, show_screen
from bot.services import VoiceService
from bot.settings import Settings
from storage import Storage, User

log = logging.getLogger(__name__)

router = Router(name="admin")
router.message.filter(IsAdmin())
router.callback_query.filter(IsAdmin())

refusals = Router(name="admin-refusals")

STATS = Command("stats")
REMOVE_FROM_BANK = BankCb.filter(F.action == BankAction.remove)


def seconds_or_dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


@router.message(STATS)
async def stats(message: Message, store: Storage, jobs: JobQueue, texts: Texts) -> None:
    summary = await store.stats.summary()
    embed_queue, synth_queue = await jobs.queue_lengths()
    await message.answer(
        texts.stats.format(
            window_days=summary.window_days,
            users=summary.users,
            active_users=summary.active_users,
            blocked_users=summary.blocked_users,
            voices=summary.voices,
            public_voices=summary.public_voices,
            curated_voices=summary.curated_voices,
            recordings=summary.recordings,
            requests=summary.requests,
            failed=summary.failed,
            failure_rate=summary.failure_rate,
            median_synth=seconds_or_dash(summary.median_synth_seconds),
            median_queue=seconds_or_dash(summary.median_queue_seconds),
            median_likeness=texts.likeness(summary.median_likeness),
            embed_queue=embed_queue,
            synth_queue=synth_queue,
            workers=await jobs.workers_ready(),
            unreadable_outcomes=await jobs.unreadable_outcomes(),
        )
    )


@router.callback_query(REMOVE_FROM_BANK)
async def remove_bank_voice(
    callback: CallbackQuery,
    callback_data: BankCb,
    store: Storage,
    voices: VoiceService,
    settings: Settings,
    user: User,
    texts: Texts,
) -> None:
    # Any public voice, not only the admin's own: hence no OwnedVoice/UsableVoice filter.
    voice = await voices.remove_from_bank(user, callback_data.voice_id)
    if voice is None:
        await callback.answer(texts.voice_gone, show_alert=True)
        return
    text, markup = await bank_screen(store, callback_data.page, settings, texts, is_admin=True)
    await show_screen(callback, text, markup)
    await callback.answer(texts.bank_removed.format(name=voice.name))


@refusals.message(STATS)
async def stats_refused(message: Message, texts: Texts) -> None:
    await message.answer(texts.admin_only)


@refusals.callback_query(REMOVE_FROM_BANK)
async def removal_refused(callback: CallbackQuery, user: User, texts: Texts) -> None:
    log.warning("user %s (not an admin) pressed a bank removal button", user.id)
    await callback.answer(texts.admin_only, show_alert=True)
