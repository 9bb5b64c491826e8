"""Admin commands (ADMIN_IDS): /stats. Bank curation buttons live in bank.py."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.locales import Texts
from bot.queue import JobQueue
from storage import Storage

router = Router(name="admin")


def seconds_or_dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


@router.message(Command("stats"))
async def stats(
    message: Message, store: Storage, jobs: JobQueue, texts: Texts, is_admin: bool
) -> None:
    if not is_admin:
        await message.answer(texts.admin_only)
        return
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
            embed_queue=embed_queue,
            synth_queue=synth_queue,
            workers=await jobs.workers_ready(),
        )
    )
