"""The composition root: Bot, Dispatcher, storage, the queue client and the services the
handlers use (speech, recordings, voices: bot/services/), built once at start.

`run(settings)` is the whole bot process: long polling by default, a webhook server when
WEBHOOK_URL is set, and three background tasks: one records what the workers report
(bot/background/results.py), one sees that every request ends (bot/background/sweeper.py),
one keeps the status messages of long requests up to date (bot/progress.py); with
METRICS_PORT set, a Prometheus endpoint (bot/background/metrics.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot import errors
from bot.admission import limits_of
from bot.background.metrics import ServiceMetrics, serve_metrics
from bot.background.results import OutcomeRecorder
from bot.background.sweeper import Sweeper, close_interrupted_recordings
from bot.checks import CheckGate
from bot.handlers import feature_routers
from bot.locales import supported_languages, texts_for
from bot.middlewares import (
    AccessMiddleware,
    RetryAfterMiddleware,
    UserMiddleware,
)
from bot.progress import StatusBoard
from bot.queue import JobQueue, QueueTimeouts
from bot.services import RecordingService, SpeechService, VoiceService
from bot.settings import Settings
from storage import Storage

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
FSM_TTL_SECONDS = 15 * 60  # an abandoned rename is forgotten


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryAfterMiddleware())
    return Bot(settings.bot_token.get_secret_value(), session=session)


def build_jobs(settings: Settings) -> JobQueue:
    timeouts = QueueTimeouts(
        embed_wait_seconds=settings.embed_timeout_seconds,
        result_ttl_seconds=settings.job_result_ttl_seconds,
    )
    return JobQueue(settings.require_redis_url(), timeouts)


def build_dispatcher(
    bot: Bot, settings: Settings, store: Storage, jobs: JobQueue, board: StatusBoard
) -> Dispatcher:
    fsm = RedisStorage(jobs.redis, state_ttl=FSM_TTL_SECONDS, data_ttl=FSM_TTL_SECONDS)
    # The dependencies are the Dispatcher's workflow data: aiogram puts them in every
    # middleware's `data` and passes them to each filter and handler that names them.
    # (`storage=` is aiogram's FSM storage; ours is `store`.) The services are built once,
    # here, with their collaborators (bot/services/).
    checks = CheckGate(
        jobs.redis, store, settings.bot_token.get_secret_value(), limits=limits_of(settings)
    )
    speech = SpeechService(bot, settings, store, jobs, board)
    dp = Dispatcher(
        storage=fsm,
        settings=settings,
        store=store,
        jobs=jobs,
        speech=speech,
        recordings=RecordingService(bot, settings, store, jobs, checks, board),
        voices=VoiceService(settings, store, jobs, checks, speech),
    )
    # Update-level outer middlewares run after aiogram's own (which finds the sender), in
    # this order: access control, then the user's record.
    dp.update.outer_middleware(AccessMiddleware())
    dp.update.outer_middleware(UserMiddleware())
    dp.include_router(errors.router)
    dp.include_routers(*feature_routers())
    return dp


async def set_commands(bot: Bot) -> None:
    """The command menu in each language, English as the default for everyone else."""
    for language in supported_languages():
        commands = [
            BotCommand(command=name, description=description)
            for name, description in texts_for(language).commands.items()
        ]
        code = None if language == "en" else language
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


async def run(settings: Settings) -> None:
    """The bot process; returns when stopped (SIGINT/SIGTERM in polling mode)."""
    store = await Storage.open(settings.data_dir)
    jobs = build_jobs(settings)
    bot = build_bot(settings)
    metrics = ServiceMetrics()
    jobs.observer = metrics.observe_job
    board = StatusBoard(bot, store, jobs, settings)
    recorder = OutcomeRecorder(store, jobs, bot, metrics, board)
    sweeper = Sweeper(store, jobs, recorder, bot, embed_wait_seconds=settings.embed_timeout_seconds)
    background: list[asyncio.Task[None]] = []
    metrics_runner: web.AppRunner | None = None
    try:
        await jobs.ping()
        if settings.metrics_port:
            metrics_runner = await serve_metrics(
                metrics, jobs, settings.metrics_host, settings.metrics_port
            )
        interrupted = await close_interrupted_recordings(store, jobs, bot)
        if interrupted:
            log.info("closed %s recordings that an earlier run was listening to", interrupted)
        await board.restore()  # status messages an earlier run left, followed again
        dp = build_dispatcher(bot, settings, store, jobs, board)
        await set_commands(bot)
        background = [
            asyncio.create_task(recorder.run(), name="results"),
            asyncio.create_task(sweeper.run(), name="sweeper"),
            asyncio.create_task(board.run(), name="status"),
        ]
        if settings.webhook_url:
            await serve_webhook(bot, dp, settings)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("bot started (long polling)")
            stop_polling_on_signals(dp)
            await dp.start_polling(bot, handle_signals=False, close_bot_session=False)
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await recorder.close()
        await bot.session.close()
        await jobs.close()
        await store.close()
        log.info("bot stopped")


def stop_polling_on_signals(dp: Dispatcher) -> None:
    """SIGTERM and SIGINT end polling: a stop asked for is an event, not a warning (aiogram's
    own handler logs it as one)."""
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task[None]] = set()

    def stop(signum: signal.Signals) -> None:
        log.info("%s received: stopping", signum.name)
        task = loop.create_task(dp.stop_polling())
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or a random one for this start (URL-safe base64: 43 characters of
    Telegram's A-Z a-z 0-9 _ -), which setWebhook hands to Telegram all the same."""
    if settings.webhook_secret:
        return settings.webhook_secret.get_secret_value()
    return secrets.token_urlsafe(32)


async def serve_webhook(bot: Bot, dp: Dispatcher, settings: Settings) -> None:
    secret = webhook_secret(settings)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, WEBHOOK_PATH)
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    url = f"{settings.webhook_url}{WEBHOOK_PATH}"
    await bot.set_webhook(url, secret_token=secret, drop_pending_updates=False)
    log.info("bot started (webhook on %s:%s)", settings.webhook_host, settings.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
