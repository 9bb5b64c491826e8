"""Voices as others see them: publishing and withdrawing, deleting, the admins' removal from
the bank, and /forget, which deletes everything the bot holds about a user. Whatever takes a
voice away from others revokes it in Redis too (worker/api/calls.py: others' queued jobs with
it stop); publishing it again restores it."""

from __future__ import annotations

import logging

from aiogram.fsm.context import FSMContext

from bot.checks import CheckGate
from bot.queue import JobQueue
from bot.services.speech import SpeechService
from bot.settings import Settings
from storage import ForgetReport, Storage, User, Voice
from worker.api import check_job_id, embed_job_id, synth_job_id
from worker.api.keys import forgotten_key

log = logging.getLogger(__name__)


def job_ids_of(request_id: int) -> tuple[str, str]:
    """Both names a request's job may have (the row may be gone: ids are cheap to try)."""
    return embed_job_id(request_id), synth_job_id(request_id)


class VoiceService:
    """Changes to voices that reach beyond the owner's own list, and the user's erasure.
    `speech` takes back the user's open requests as they are forgotten."""

    def __init__(
        self,
        settings: Settings,
        store: Storage,
        jobs: JobQueue,
        checks: CheckGate,
        speech: SpeechService,
    ) -> None:
        self.settings = settings
        self.store = store
        self.jobs = jobs
        self.checks = checks
        self.speech = speech

    async def publish(self, user: User, voice_id: int) -> Voice | None:
        """Put an own voice in the bank; None for a foreign or deleted id (storage publishes
        only a voice of this owner)."""
        voice = await self.store.voices.publish(user.id, voice_id)
        if voice is None:
            log.info("user %s pressed publish on voice %s they do not own", user.id, voice_id)
            return None
        log.info("user %s published voice %s", user.id, voice.id)
        await self.jobs.restore_voice(voice.id, user.id)  # others may speak with it again
        return voice

    async def withdraw(self, user: User, voice_id: int) -> Voice | None:
        """Take an own voice out of the bank; None for a foreign or deleted id."""
        voice = await self.store.voices.withdraw(user.id, voice_id)
        if voice is None:
            log.info("user %s pressed withdraw on voice %s they do not own", user.id, voice_id)
            return None
        await self.jobs.revoke_voices([voice.id], owner_id=user.id)  # others' queued jobs stop
        return voice

    async def delete(self, user: User, voice: Voice) -> bool:
        """Delete an own voice; False when it was deleted already."""
        if not await self.store.voices.delete(user.id, voice.id):
            return False
        await self.jobs.revoke_voices([voice.id], owner_id=user.id)  # others' queued jobs stop
        log.info("user %s deleted voice %s", user.id, voice.id)
        return True

    async def remove_from_bank(self, admin: User, voice_id: int) -> Voice | None:
        """An admin takes any public voice out of the bank; None when it is not there."""
        voice = await self.store.voices.get_unchecked(voice_id)
        if (
            voice is None
            or not voice.public
            or not await self.store.voices.remove_from_bank(voice.id)
        ):
            return None
        log.info("admin %s removed voice %s from the bank", admin.id, voice.id)
        # Others' queued jobs with it stop (a curated voice, deleted, stops for everyone).
        await self.jobs.revoke_voices([voice.id], owner_id=voice.owner_id)
        return voice

    async def forget(self, user: User, state: FSMContext) -> ForgetReport:
        """Delete everything the bot holds about `user`, their conversation `state` too.

        Redis first. The marks come before anything else: a /say admitted a moment ago, whose
        job reaches the queue only after this purge, is void all the same
        (worker/api/calls.py), and so are others' jobs speaking with this user's voices. Then
        what is queued is taken back, what runs is stopped before it is sent, and the jobs of
        every request on record (text, voice, results) are cleared out."""
        mark = forgotten_key(user.id, self.settings.bot_token.get_secret_value())
        await self.jobs.mark_forgotten(mark, user.created_at.timestamp())
        await self.jobs.revoke_voices([v.id for v in await self.store.voices.list_owned(user.id)])
        await self.speech.cancel_all(user.id)
        request_ids = await self.store.requests.ids_of(user.id)
        job_ids = [job_id for rid in request_ids for job_id in job_ids_of(rid)]
        checking = await self.checks.forget(user.id)  # a running check's job holds their file id
        if checking is not None:
            await self.jobs.cancel(check_job_id(checking))
            job_ids.append(check_job_id(checking))
        await self.jobs.drop_pending(user.id)
        await state.clear()
        await self.jobs.purge(job_ids)
        report = await self.store.forget(user.id)
        log.info("user %s asked to be forgotten: %s", user.id, report)
        return report
