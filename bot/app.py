"""The composition root: Bot, Dispatcher, storage and the queue client, built once at start.

`run(settings)` is the whole bot process: long polling by default, a webhook server when
WEBHOOK_URL is set, and a background task recording what the workers report.
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
from bot.handlers import feature_routers
from bot.locales import supported_languages, texts_for
from bot.middlewares import (
    AccessMiddleware,
    RequestGateMiddleware,
    RetryAfterMiddleware,
    UserMiddleware,
)
from bot.queue import JobQueue, QueueTimeouts
from bot.results import record_outcomes
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
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set")
    timeouts = QueueTimeouts(
        embed_wait_seconds=settings.embed_timeout_seconds,
        result_ttl_seconds=settings.job_result_ttl_seconds,
    )
    return JobQueue(settings.redis_url, timeouts)


def build_dispatcher(settings: Settings, store: Storage, jobs: JobQueue) -> Dispatcher:
    fsm = RedisStorage(jobs.redis, state_ttl=FSM_TTL_SECONDS, data_ttl=FSM_TTL_SECONDS)
    # The dependencies are the Dispatcher's workflow data: aiogram puts them in every
    # middleware's `data` and passes them to each filter and handler that names them.
    # (`storage=` is aiogram's FSM storage; ours is `store`.)
    dp = Dispatcher(storage=fsm, settings=settings, store=store, jobs=jobs)
    # Update-level outer middlewares run after aiogram's own (which finds the sender), in
    # this order: access control, then the user's record.
    dp.update.outer_middleware(AccessMiddleware())
    dp.update.outer_middleware(UserMiddleware())
    dp.message.middleware(RequestGateMiddleware())
    dp.callback_query.middleware(RequestGateMiddleware())
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
    results: asyncio.Task[None] | None = None
    try:
        await jobs.ping()
        expired = await store.requests.expire_stale(older_than_seconds=24 * 3600)
        if expired:
            log.info("closed %s requests left open by an earlier run", expired)
        dp = build_dispatcher(settings, store, jobs)
        await set_commands(bot)
        results = asyncio.create_task(record_outcomes(jobs.redis, store, bot), name="results")
        if settings.webhook_url:
            await serve_webhook(bot, dp, settings)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("bot started (long polling)")
            await dp.start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        if results is not None:
            results.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await results
        await bot.session.close()
        await jobs.close()
        await store.close()
        log.info("bot stopped")


async def serve_webhook(bot: Bot, dp: Dispatcher, settings: Settings) -> None:
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
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
