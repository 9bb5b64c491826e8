"""Every request ends: the bot's side of recovery, one round every SWEEP_SECONDS.

The workers put back the jobs of dead workers themselves (worker/queue/recovery.py). What only the
bot can see is a request in storage that Redis no longer backs, and what only it may write is
storage. Each round:

- outcomes left in RESULTS_PROCESSING by a round that failed are recorded;
- jobs whose clean-up waited for a worker to let go are cleared out of Redis;
- requests kept past a `/forget` that no longer count are deleted;
- an open synth request whose job has settled (its outcome got lost on the way) is recorded
  from the settled outcome;
- an open synth request whose job is gone from Redis, two rounds in a row (Redis lost data:
  a crash without persistence, a flush), or ended without an answer, is failed, and its user
  told so;
- an open request older than MAX_REQUEST_AGE_SECONDS is taken back and failed with a word to
  its user: a request nobody will ever answer must not block them for good;
- a recording being made into a voice belongs to a wait inside this bot process; one still
  open after the wait's limit (the bot restarted meanwhile) is closed, and its user told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.background.results import OutcomeRecorder
from bot.locales import texts_for
from bot.queue import JobQueue
from storage import Request, Storage
from worker.api import embed_job_id, synth_job_id

log = logging.getLogger(__name__)

# A job in one of these states will not run again; without a settled outcome, its request
# would wait for nothing (a job whose data could not be read fails without an answer).
DEAD_ENDS = frozenset({"failed", "stopped", "canceled"})
SWEEP_SECONDS = 10.0
LOOK_AFTER_SECONDS = 30.0  # younger requests are left alone: their job may be on its way
MAX_REQUEST_AGE_SECONDS = 3 * 3600.0
EMBED_MARGIN_SECONDS = 60.0


class Sweeper:
    def __init__(
        self,
        store: Storage,
        jobs: JobQueue,
        recorder: OutcomeRecorder,
        bot: Bot,
        *,
        embed_wait_seconds: float,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.recorder = recorder
        self.bot = bot
        self.embed_limit = embed_wait_seconds + EMBED_MARGIN_SECONDS
        self._missing: set[int] = set()  # requests whose job was gone at the last round

    async def run(self) -> None:
        """Runs until cancelled; a round that fails is logged and the next one comes."""
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis away, the database busy: next round
                log.warning(
                    "sweep failed (%s: %s); next round in %.0f s",
                    type(error).__name__,
                    error,
                    SWEEP_SECONDS,
                )
            await asyncio.sleep(SWEEP_SECONDS)

    async def sweep(self) -> None:
        await self.recorder.handle_leftovers()
        await self.jobs.purge_pending()
        await self.store.requests.purge_forgotten()
        requests = self.store.requests
        too_old = {
            r.id for r in await requests.list_open(older_than_seconds=MAX_REQUEST_AGE_SECONDS)
        }
        given_up = {r.id for r in await requests.list_open(older_than_seconds=self.embed_limit)}
        for request in await requests.list_open(older_than_seconds=LOOK_AFTER_SECONDS):
            if request.kind == "embed":
                if request.id in given_up:
                    await self.close(request, "lost", embed=True)
            elif request.id in too_old:
                await self.jobs.cancel(synth_job_id(request.id))
                await self.close(request, "timeout")
            else:
                await self.check_synth(request)

    async def check_synth(self, request: Request) -> None:
        job_id = synth_job_id(request.id)
        outcome = await self.jobs.settled_outcome(job_id)
        if outcome is not None:
            log.info("request %s: recording its settled outcome, which got lost", request.id)
            await self.recorder.record(outcome)
            self._missing.discard(request.id)
            return
        status = await self.jobs.job_status(job_id)
        if status is not None and status not in DEAD_ENDS:
            self._missing.discard(request.id)
            return
        if request.id not in self._missing:
            self._missing.add(request.id)  # once may be a moment in between; twice is gone
            return
        self._missing.discard(request.id)
        if status is None:
            log.warning("request %s: its job is gone from Redis; failing it", request.id)
            await self.close(request, "lost")
        else:
            log.warning("request %s: its job ended (%s) without an answer", request.id, status)
            await self.close(request, "internal")

    async def close(self, request: Request, code: str, *, embed: bool = False) -> None:
        await close_request(self.store, self.jobs, self.bot, request, code, embed=embed)


async def close_request(
    store: Storage, jobs: JobQueue, bot: Bot, request: Request, code: str, *, embed: bool
) -> None:
    """Fail an open request, clear its job out of Redis and tell its user."""
    if not await store.requests.mark_failed(request.id, code):
        return
    await store.notes.drop(request.id)
    await jobs.purge([embed_job_id(request.id) if embed else synth_job_id(request.id)])
    user = await store.users.get(request.user_id)
    if user is None:  # forgotten meanwhile: nobody to tell
        return
    texts = texts_for(user.language)
    text = texts.listening_interrupted if embed else texts.request_lost
    with contextlib.suppress(TelegramAPIError):  # private chats: the chat is the user
        await bot.send_message(request.user_id, text)
    log.info("request %s of user %s closed: %s", request.id, user.id, code)


async def close_interrupted_recordings(store: Storage, jobs: JobQueue, bot: Bot) -> int:
    """At start: recordings that an earlier bot process was waiting on will never be
    answered (that wait died with it): close them and tell their users to send them again."""
    interrupted = [r for r in await store.requests.list_open() if r.kind == "embed"]
    for request in interrupted:
        await close_request(store, jobs, bot, request, "lost", embed=True)
    return len(interrupted)
