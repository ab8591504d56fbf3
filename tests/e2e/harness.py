"""Runs the real newsbot `Application` against the Bot API emulator and a real feed server.

The lifecycle is the one `run_polling` drives (initialize → post_init → start → polling →
stop → post_stop → shutdown → post_shutdown), through bot.lifecycle as `newsbot run` and the
sandbox drive it, so that the test's event loop can also host the emulator and the feed server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from telegram import Update

from bot.app import build_application
from bot.config import Settings
from bot.context import APP_KEY, AppContext, NewsbotApplication
from bot.emulator import BotAPIEmulator, SentMessage
from bot.lifecycle import start_application, stop_application
from bot.sources import load_sources
from bot.topics import load_catalogue
from storage.models import Article, OutboxEntry, OutboxStatus
from tests.support.feed_server import FeedServer


@dataclass
class Harness:
    emulator: BotAPIEmulator
    feeds: FeedServer
    app: NewsbotApplication
    settings: Settings

    @property
    def ctx(self) -> AppContext:
        ctx = self.app.bot_data[APP_KEY]
        assert isinstance(ctx, AppContext)
        return ctx

    async def command(self, chat_id: int, text: str, **kwargs: object) -> SentMessage:
        """Send `text` as a user in `chat_id` and return the bot's (first new) reply."""
        before = len(self.emulator.messages_to(chat_id))
        self.emulator.send_text(chat_id, text, **kwargs)  # type: ignore[arg-type]
        messages = await self.emulator.wait_for_messages(chat_id, before + 1, timeout=10)
        return messages[before]

    async def wait_until(
        self, condition: Callable[[], object], timeout: float = 15.0, what: str = "condition"
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.05)

    async def article_count(self) -> int:
        async with self.ctx.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(Article)) or 0)

    async def wait_for_articles(self, at_least: int = 1, timeout: float = 15.0) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (count := await self.article_count()) < at_least:
            if loop.time() > deadline:
                raise AssertionError(f"only {count} articles stored after {timeout} s")
            await asyncio.sleep(0.1)
        return count

    async def outbox_idle(self, timeout: float = 15.0) -> None:
        """Wait until no alert is pending or claimed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self.ctx.sessionmaker() as session:
                waiting = await session.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED]))
                )
            if not waiting:
                return
            if loop.time() > deadline:
                raise AssertionError(f"{waiting} alerts still waiting after {timeout} s")
            await asyncio.sleep(0.05)


def write_sources(path: Path, feeds: list[tuple[str, str]], interval: float | None = None) -> Path:
    lines = []
    for name, url in feeds:
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{url}"']
        if interval is not None:
            lines.append(f"interval = {interval}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@asynccontextmanager
async def running_bot(
    emulator: BotAPIEmulator,
    feeds: FeedServer,
    *,
    database_url: str,
    sources_file: Path,
    poll_interval: float = 1.0,
    **overrides: object,
) -> AsyncIterator[Harness]:
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.api_url,
        database_url=database_url,
        sources_file=sources_file,
        poll_interval=poll_interval,
        http_port=0,
        **overrides,
    )
    app = build_application(
        settings,
        sources=load_sources(settings.sources_file),
        catalogue=load_catalogue(settings.topics_file),
    )
    try:
        await start_application(app)
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, allowed_updates=Update.ALL_TYPES)
        yield Harness(emulator=emulator, feeds=feeds, app=app, settings=settings)
    finally:
        await stop_application(app)
