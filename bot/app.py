"""The composition root: builds the PTB `Application` and wires every dependency into it.

Nothing is opened here. `post_init` (run by `bot.lifecycle` after `getMe`, in the order
`run_polling` uses) migrates the database and opens the engine, the HTTP client sessions and
the web server, then starts the sender; `post_stop` lets in-flight sends finish;
`post_shutdown` closes what was opened.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import aiohttp
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import APP_KEY, AppContext, CustomContext, NewsbotApplication
from bot.delivery.boundaries import BOUNDARY_EVERY, seconds_to_next_minute, wake_sender_job
from bot.delivery.editor import EDIT_EVERY, Editor
from bot.delivery.format import digest_heading, render_story
from bot.delivery.ratelimit import FloodLimiter
from bot.delivery.sender import Sender
from bot.delivery.transport import AiohttpRequest
from bot.health import HealthServer, build_web_app
from bot.i18n import Translator, load_locales, topic_name
from bot.ingest import FetchPolicy, Ingestor
from bot.leader import upgrade_schema
from bot.lifecycle import run as run_lifecycle
from bot.maintenance import ALARM_EVERY, RETENTION_EVERY, prune_job, source_alarm_job
from bot.metrics import MeasuredLimiter, Metrics
from bot.sources import SourceConfig
from bot.ssrf import guarded_session
from bot.topics import TopicCatalogue
from bot.webhook import add_webhook_route, webhook_path
from handlers import all_handlers
from handlers.alerts import alert_keyboard
from handlers.errors import on_error
from handlers.start import register_menus
from storage import migrate
from storage import sources as source_store
from storage.db import (
    DatabaseUnreachable,
    create_engine,
    create_sessionmaker,
    ensure_reachable,
)

logger = logging.getLogger(__name__)

HEALTH_KEY = "newsbot.health"
GUARDED_HTTP_KEY = "newsbot.guarded_http"
MAX_TICK = 10.0
SEND_CONNECTIONS = 64  # HTTP connections to the Bot API; the sender's in-flight bound too


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
    limiter = FloodLimiter(overall_rate=settings.send_rate)
    metrics = Metrics()
    metrics.watch_limiter(limiter)

    async def post_init(application: NewsbotApplication) -> None:
        engine = create_engine(settings.database_url)
        try:
            await ensure_reachable(engine)  # one line for the operator, not a traceback
        except DatabaseUnreachable:
            await engine.dispose()
            raise
        await upgrade_schema(engine, migrate.upgrade)  # one instance at a time (PostgreSQL)
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            await source_store.sync_sources(
                session, ((s.url, s.name, s.interval) for s in sources), clock.now()
            )
        http = aiohttp.ClientSession()
        guarded_http = guarded_session()  # for sources added from a chat (bot.ssrf)
        application.bot_data[GUARDED_HTTP_KEY] = guarded_http
        locales = load_locales()  # the .po catalogues, compiled in memory (bot.i18n)

        @functools.cache
        def topic_names(t: Translator) -> dict[str, str]:
            return {topic.slug: topic_name(t, topic) for topic in catalogue.topics}

        sender = Sender(
            sessionmaker=sessionmaker,
            bot=application.bot,
            clock=clock,
            render=lambda story, t: render_story(story, topic_names=topic_names(t), translator=t),
            heading=lambda stories, t: digest_heading(stories, topic_names(t), t),
            translations=locales.get,
            keyboard=lambda alert: alert_keyboard(alert, catalogue, locales),
            chat_ready_at=limiter.chat_ready_at,
            # One process owns a SQLite file: its old claims can be taken back at once.
            reclaim_on_start=engine.dialect.name == "sqlite",
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
            guarded_http=guarded_http,
            on_report=metrics.observe_ingest,
            page_leads=settings.article_pages,
        )
        # Alerts already sent gain "Also: <source>" when their story gains one.
        editor = Editor(
            sessionmaker=sessionmaker,
            bot=application.bot,
            clock=clock,
            render_alert=sender.render_alert,
            on_edited=metrics.alerts_edited.inc,
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
            locales=locales,
            editor=editor,
        )
        job_queue = application.job_queue
        if settings.http_port:
            web_app = build_web_app(
                engine,
                scheduler_running=lambda: job_queue is not None and job_queue.scheduler.running,
                metrics=metrics,
                sessionmaker=sessionmaker,
            )
            if settings.webhook_url is not None and settings.webhook_secret is not None:
                add_webhook_route(
                    web_app,
                    path=webhook_path(settings.webhook_url),
                    secret=settings.webhook_secret.get_secret_value(),
                    application=application,
                )
            health = HealthServer(web_app, settings.http_host, settings.http_port)
            await health.start()
            application.bot_data[HEALTH_KEY] = health
        if settings.webhook_url is not None and settings.webhook_secret is not None:
            await application.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES,
            )
        try:
            await register_menus(application.bot, locales)
        except TelegramError as error:
            logger.warning("Could not register the command menu: %s", error)
        sender.start()
        if job_queue is None:
            raise RuntimeError("PTB's JobQueue is missing: install python-telegram-bot[job-queue]")
        tick = min(settings.poll_interval, MAX_TICK)
        job_queue.run_repeating(ingest_tick, interval=tick, first=0.1, name="ingest-tick")
        job_queue.run_repeating(prune_job, interval=RETENTION_EVERY, first=60, name="retention")
        job_queue.run_repeating(
            source_alarm_job, interval=ALARM_EVERY, first=30, name="source-alarms"
        )
        job_queue.run_repeating(  # held digests fall due on whole minutes (bot.delivery.boundaries)
            wake_sender_job,
            interval=BOUNDARY_EVERY,
            first=seconds_to_next_minute(clock.now()),
            name="digest-boundary",
        )
        job_queue.run_repeating(edit_job, interval=EDIT_EVERY, first=EDIT_EVERY, name="story-edits")
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
        guarded_http = application.bot_data.pop(GUARDED_HTTP_KEY, None)
        if isinstance(guarded_http, aiohttp.ClientSession):
            await guarded_http.close()
        ctx = application.bot_data.pop(APP_KEY, None)
        if isinstance(ctx, AppContext):
            await ctx.http.close()
            await ctx.engine.dispose()
            logger.info("newsbot stopped")  # not after a start that failed: its error says it

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
        .rate_limiter(MeasuredLimiter(limiter, metrics))
        .request(AiohttpRequest(connection_limit=SEND_CONNECTIONS))
        .concurrent_updates(16)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.webhook_url is None:
        builder = builder.get_updates_request(AiohttpRequest(connection_limit=1))
    else:
        builder = builder.updater(None)  # updates come to the webhook route (bot.webhook)
    application: NewsbotApplication = builder.build()
    application.add_handlers(all_handlers())
    application.add_error_handler(on_error)
    return application


async def edit_job(context: CustomContext) -> None:
    """Edit sent alerts whose story gained a source (bot.delivery.editor)."""
    editor = context.app.editor
    if editor is not None:
        await editor.run_once()


async def ingest_tick(context: CustomContext) -> None:
    """The one repeating job: start fetches of the sources that are due."""
    await context.app.ingestor.tick()


def run(application: NewsbotApplication, settings: Settings) -> None:
    """Polling or webhook until SIGINT/SIGTERM; returns after a clean shutdown."""
    run_lifecycle(application, settings)
