"""The sandbox: the real bot, the Bot API emulator, replayed feeds and the web chat, one loop.

Start order: a throwaway directory (its SQLite database dies with it), the emulator, the
feed server with the replayer's first state, the chat log (subscribed before the bot
starts, so the page sees everything), the web chat (bound first, so a busy port fails fast),
then the bot through PTB's own lifecycle, as `run_polling` drives it: initialize →
post_init → start → polling; stop → post_stop → shutdown → post_shutdown. `Sandbox.stop`
undoes it all in reverse; `run_sandbox` adds SIGINT/SIGTERM for a clean exit 0.

Exceptions::

    SandboxError    the web chat's port cannot be bound (the message says what to do)
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tempfile
from collections.abc import Callable, Coroutine
from contextlib import suppress
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update

from bot.app import build_application
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import APP_KEY, AppContext, NewsbotApplication
from bot.emulator import BotAPIEmulator
from bot.lifecycle import start_application, stop_application
from bot.sandbox.chatlog import ChatLog
from bot.sandbox.feeds import FeedServer
from bot.sandbox.replay import FeedReplayer
from bot.sandbox.web import SIMULATED_CHATS, WebChat, register_chats
from bot.topics import TopicCatalogue, load_catalogue

logger = logging.getLogger(__name__)

DEFAULT_PUBLISH_EVERY = 5.0
DEFAULT_POLL_INTERVAL = 2.0
BOT_USERNAME = "newsbot_sandbox_bot"


class SandboxError(Exception):
    """The sandbox cannot start; the message is one line for the person who started it."""


class Sandbox:
    """Everything the web chat needs, started and stopped as one unit on the running loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        publish_every: float = DEFAULT_PUBLISH_EVERY,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        catalogue: TopicCatalogue | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`settings` gives the web chat's host and port (`http_host`, `http_port`; 0 picks
        a free port), the log level and the topics; the token, API URL, database and
        sources are the sandbox's own."""
        self._settings = settings
        self._publish_every = publish_every
        self._poll_interval = poll_interval
        self._catalogue = catalogue
        self._clock = clock or SystemClock()
        self.emulator = BotAPIEmulator(bot_username=BOT_USERNAME, bot_first_name="newsbot")
        self.feeds = FeedServer()
        self.replayer = FeedReplayer(self.feeds, self._clock)
        self.chatlog = ChatLog()
        self.app: NewsbotApplication | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._web: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.url = ""

    @property
    def ctx(self) -> AppContext | None:
        ctx = self.app.bot_data.get(APP_KEY) if self.app is not None else None
        return ctx if isinstance(ctx, AppContext) else None

    def _engine(self) -> AsyncEngine | None:
        ctx = self.ctx
        return ctx.engine if ctx is not None else None

    async def start(self) -> str:
        """Start everything; returns the web chat's URL."""
        self._tmp = tempfile.TemporaryDirectory(prefix="newsbot-sandbox-")
        await self.emulator.start()
        register_chats(self.emulator, SIMULATED_CHATS)
        await self.feeds.start()
        self.replayer.start()
        self._spawn(self.chatlog.follow(self.emulator.subscribe_events()), "chat log")

        runner = web.AppRunner(
            WebChat(self.emulator, self.chatlog, self._engine).build(),
            access_log=None,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        self._web = runner
        host, port = self._settings.http_host, self._settings.http_port
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise SandboxError(
                f"cannot serve the web chat on {host}:{port} ({error.strerror}); "
                "set NEWSBOT_HTTP_PORT to a free port"
            ) from None
        bound_port = int(runner.addresses[0][1])
        self.url = f"http://{host}:{bound_port}/"

        await self._start_bot()
        self._spawn(self.replayer.run(self._publish_every), "feed replayer")
        logger.info("Sandbox web chat on %s", self.url)
        return self.url

    async def _start_bot(self) -> None:
        assert self._tmp is not None
        database = Path(self._tmp.name) / "sandbox.db"
        settings = self._settings.model_copy(
            update={
                "telegram_token": SecretStr(self.emulator.token),
                "telegram_api_url": self.emulator.api_url,
                "database_url": f"sqlite+aiosqlite:///{database}",
                "sources_file": None,
                "poll_interval": self._poll_interval,
                "http_port": 0,  # the web chat serves /healthz
                # Replayed items link to real publishers: the sandbox never requests them.
                "article_pages": False,
            }
        )
        catalogue = self._catalogue or load_catalogue(settings.topics_file)
        app = build_application(settings, sources=self.replayer.sources(), catalogue=catalogue)
        self.app = app
        await start_application(app)
        assert app.updater is not None
        await app.updater.start_polling(timeout=10, allowed_updates=Update.ALL_TYPES)

    async def stop(self) -> None:
        """Stop in reverse order; safe after a partial start."""
        for task in reversed(self._tasks):
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self.app is not None:
            await stop_application(self.app)
            self.app = None
        await self.feeds.stop()
        await self.emulator.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=f"sandbox {name}")
        task.add_done_callback(_log_failure)
        self._tasks.append(task)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("The %s stopped", task.get_name(), exc_info=task.exception())


def run_sandbox(
    settings: Settings,
    announce: Callable[[str], None],
    *,
    publish_every: float = DEFAULT_PUBLISH_EVERY,
    catalogue: TopicCatalogue | None = None,
) -> None:
    """Run the sandbox until SIGINT or SIGTERM; `announce` gets the URL once it is up."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        sandbox = Sandbox(settings, publish_every=publish_every, catalogue=catalogue)
        try:
            announce(await sandbox.start())
            await stop.wait()
            logger.info("Sandbox stopping")
        finally:
            await sandbox.stop()

    asyncio.run(main())
