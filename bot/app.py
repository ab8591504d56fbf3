"""The composition root: builds the PTB `Application` and wires every dependency into it.

Nothing is opened here. `post_init` (run by `run_polling` after `getMe`) migrates the
database and opens the engine, the HTTP client session and the health server, then starts
the sender; `post_stop` lets in-flight sends finish; `post_shutdown` closes what was opened.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import APP_KEY, AppContext, CustomContext, NewsbotApplication
from bot.delivery.format import render_story
from bot.delivery.ratelimit import FloodLimiter
from bot.delivery.sender import Sender
from bot.health import HealthServer, build_web_app
from bot.ingest import FetchPolicy, Ingestor
from bot.sources import SourceConfig
from bot.topics import TopicCatalogue
from handlers import all_handlers
from handlers.errors import on_error
from storage import migrate
from storage import sources as source_store
from storage.db import create_engine, create_sessionmaker

logger = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("latest", "The newest story for you, or: /latest ukraine"),
    BotCommand("subscribe", "Follow topics or keywords"),
    BotCommand("unsubscribe", "Stop following something"),
    BotCommand("subscriptions", "What this chat follows"),
    BotCommand("topics", "Topics you can follow"),
    BotCommand("help", "How to use the bot"),
]
HEALTH_KEY = "newsbot.health"
MAX_TICK = 10.0


def build_application(
    settings: Settings,
    *,
    sources: list[SourceConfig],
    catalogue: TopicCatalogue,
    clock: Clock | None = None,
) -> NewsbotApplication:
    """An Application ready for `run_polling()`; its resources open in `post_init`."""
    clock = clock or SystemClock()
    api = settings.telegram_api_url

    async def post_init(application: NewsbotApplication) -> None:
        engine = create_engine(settings.database_url)
        await migrate.upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            await source_store.sync_sources(
                session, ((s.url, s.name, s.interval) for s in sources), clock.now()
            )
        http = aiohttp.ClientSession()
        topic_names = {topic.slug: topic.name for topic in catalogue.topics}
        sender = Sender(
            sessionmaker=sessionmaker,
            bot=application.bot,
            clock=clock,
            render=lambda story: render_story(story, topic_names=topic_names),
        )
        ingestor = Ingestor(
            sessionmaker=sessionmaker,
            http=http,
            catalogue=catalogue,
            clock=clock,
            policy=FetchPolicy(
                default_interval=settings.poll_interval,
                timeout=settings.fetch_timeout,
                max_bytes=settings.fetch_max_bytes,
            ),
            concurrency=settings.fetch_concurrency,
            on_alerts=sender.wake,
        )
        application.bot_data[APP_KEY] = AppContext(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            http=http,
            catalogue=catalogue,
            clock=clock,
            sender=sender,
            ingestor=ingestor,
        )
        if settings.http_port:
            health = HealthServer(build_web_app(engine), settings.http_host, settings.http_port)
            await health.start()
            application.bot_data[HEALTH_KEY] = health
        try:
            await application.bot.set_my_commands(COMMANDS)
        except TelegramError as error:
            logger.warning("Could not register the command menu: %s", error)
        sender.start()
        job_queue = application.job_queue
        if job_queue is None:
            raise RuntimeError("PTB's JobQueue is missing: install python-telegram-bot[job-queue]")
        tick = min(settings.poll_interval, MAX_TICK)
        job_queue.run_repeating(ingest_tick, interval=tick, first=0.1, name="ingest-tick")
        logger.info(
            "newsbot is up: %d sources, %d topics, polling every %g s",
            len(sources),
            len(catalogue.topics),
            settings.poll_interval,
        )

    async def post_stop(application: NewsbotApplication) -> None:
        ctx = application.bot_data.get(APP_KEY)
        if isinstance(ctx, AppContext):
            await ctx.ingestor.aclose()
            await ctx.sender.stop()

    async def post_shutdown(application: NewsbotApplication) -> None:
        health = application.bot_data.pop(HEALTH_KEY, None)
        if isinstance(health, HealthServer):
            await health.stop()
        ctx = application.bot_data.pop(APP_KEY, None)
        if isinstance(ctx, AppContext):
            await ctx.http.close()
            await ctx.engine.dispose()
        logger.info("newsbot stopped")

    builder: Any = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(ContextTypes(context=CustomContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(FloodLimiter(overall_rate=settings.send_rate))
        .concurrent_updates(16)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    application: NewsbotApplication = builder.build()
    application.add_handlers(all_handlers())
    application.add_error_handler(on_error)
    return application


async def ingest_tick(context: CustomContext) -> None:
    """The one repeating job: start fetches of the sources that are due."""
    await context.app.ingestor.tick()


def run(application: NewsbotApplication) -> None:
    """Long polling until SIGINT/SIGTERM; returns after a clean shutdown."""
    application.run_polling(allowed_updates=Update.ALL_TYPES, close_loop=True)
