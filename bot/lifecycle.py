"""`newsbot run`'s event loop: the Application's lifecycle, driven by hand.

PTB's `run_polling` cannot express the two production modes, so this does what it does
(initialize → post_init → start → … → stop → post_stop → shutdown → post_shutdown, clean
exit on SIGINT/SIGTERM) and chooses where updates come from:

* webhook mode (NEWSBOT_WEBHOOK_URL): the Application has no Updater; Telegram posts to the
  bot's HTTP server (bot.webhook), which `post_init` started;
* polling on SQLite: one process owns the database, it polls;
* polling on PostgreSQL: several instances may share the database, so only the one that
  holds the advisory lock polls (bot.leader); the others send alerts and fetch feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import Update

from bot.config import Settings
from bot.context import NewsbotApplication
from bot.leader import PollingLeader, lock_key
from storage.db import is_sqlite

logger = logging.getLogger(__name__)


async def serve(application: NewsbotApplication, settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    leader: asyncio.Task[None] | None = None
    try:
        await start_application(application)
        leader = await _receive_updates(application, settings)
        await stop.wait()
        logger.info("Stopping: finishing in-flight work")
    finally:
        if leader is not None:
            leader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await leader
        await stop_application(application)


async def start_application(application: NewsbotApplication) -> None:
    """initialize → post_init → start, as `run_polling` does; updates are the caller's."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()


async def stop_application(application: NewsbotApplication) -> None:
    """Stop polling, then stop → post_stop → shutdown → post_shutdown; safe after a start
    that failed half-way (the sandbox and the tests' harness stop the bot this way too)."""
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
    if application.post_stop is not None:
        await application.post_stop(application)
    await application.shutdown()
    # A start that failed in `initialize` (getMe could not reach the Bot API) leaves the
    # Application uninitialised, so its shutdown skips the bot, whose HTTP sessions are open.
    await application.bot.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


async def _receive_updates(
    application: NewsbotApplication, settings: Settings
) -> asyncio.Task[None] | None:
    updater = application.updater
    if updater is None:
        logger.info("Webhook mode: updates arrive at %s", settings.webhook_url)
        return None
    if is_sqlite(settings.database_url):
        await updater.start_polling(allowed_updates=Update.ALL_TYPES)
        return None

    async def elected() -> None:
        await updater.start_polling(allowed_updates=Update.ALL_TYPES)

    async def deposed() -> None:
        if updater.running:
            await updater.stop()

    leader = PollingLeader(
        settings.database_url,
        key=lock_key(settings.token.split(":", 1)[0]),
        on_elected=elected,
        on_deposed=deposed,
    )
    return asyncio.get_running_loop().create_task(leader.run(), name="newsbot-leader")


def run(application: NewsbotApplication, settings: Settings) -> None:
    asyncio.run(serve(application, settings))
