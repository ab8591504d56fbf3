"""A sender on its own against the Bot API emulator: real PTB bot, transport, limiter and DB.

The error paths need knobs the full application does not expose (a short backoff, a fast
outbox poll), so these tests build the delivery stack the way `bot.app` does, minus the
updater and the feeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import ExtBot

from bot.delivery.format import digest_heading, render_story
from bot.delivery.ratelimit import FloodLimiter
from bot.delivery.sender import Sender
from bot.delivery.transport import AiohttpRequest
from bot.emulator import BotAPIEmulator
from storage import articles, chats, migrate, outbox, sources
from storage.db import create_engine, create_sessionmaker
from storage.models import OutboxEntry, OutboxStatus
from storage.records import NewArticle

T0 = datetime(2026, 10, 4, 6, 0, tzinfo=UTC)
TOPIC_NAMES = {"ukraine": "Ukraine", "sanctions": "Sanctions"}


@dataclass
class Rig:
    emulator: BotAPIEmulator
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bot: ExtBot[int]
    limiter: FloodLimiter
    sender: Sender

    async def rows(self, chat_id: int | None = None) -> list[OutboxEntry]:
        async with self.sessionmaker() as session:
            query = select(OutboxEntry).order_by(OutboxEntry.id)
            if chat_id is not None:
                query = query.where(OutboxEntry.chat_id == chat_id)
            return list(await session.scalars(query))

    async def statuses(self, chat_id: int | None = None) -> list[OutboxStatus]:
        return [row.status for row in await self.rows(chat_id)]

    async def wait_until_idle(self, timeout: float = 20.0) -> None:
        """Until no row is pending or claimed."""
        waiting: list[OutboxStatus] = []
        for _ in range(int(timeout / 0.05)):
            waiting = [
                s
                for s in await self.statuses()
                if s in (OutboxStatus.PENDING, OutboxStatus.CLAIMED)
            ]
            if not waiting:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(waiting)} alerts still waiting after {timeout} s")

    async def chat(self, chat_id: int) -> Any:
        async with self.sessionmaker() as session:
            return await chats.get_chat(session, chat_id)


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession],
    chat_ids: Iterable[int],
    *,
    stories: int = 1,
    topics: Sequence[str] = ("ukraine",),
    subscribe: bool = False,
    title: Callable[[int], str] = lambda n: f"Story number {n} from the front",
) -> list[int]:
    """Chats (negative ids are groups), `stories` articles, one alert per chat and article."""
    ids = list(chat_ids)
    async with sessionmaker() as session, session.begin():
        await sources.sync_sources(session, [("https://example.org/feed", "Example", None)], T0)
        (source,) = await sources.list_sources(session)
        for chat_id in ids:
            await chats.upsert_chat(
                session,
                chat_id,
                chat_type="group" if chat_id < 0 else "private",
                title=None,
                language="en",
                now=T0,
            )
            if subscribe:
                for topic in topics:
                    await chats.add_subscription(session, chat_id, "topic", topic, now=T0)  # type: ignore[arg-type]
        existing = len(await articles.newest(session, limit=10_000))
        new = [
            NewArticle(
                guid=f"g{existing + n}",
                url=f"https://example.org/news/{existing + n}",
                title=title(existing + n),
                summary="What happened, in one sentence.",
                categories=(),
                published_at=T0 + timedelta(minutes=n),
            )
            for n in range(stories)
        ]
        inserted = await articles.insert_new(session, source.id, new, T0)
        article_ids = [inserted[article.guid] for article in new]
        for article_id in article_ids:
            await articles.set_topics(session, article_id, topics)
            await outbox.enqueue(session, article_id, ids, now=T0)
    return article_ids


@asynccontextmanager
async def sender_rig(
    emulator: BotAPIEmulator,
    database_url: str,
    *,
    send_rate: float = 30.0,
    start: bool = False,
    **sender_options: Any,
) -> AsyncIterator[Rig]:
    """Everything is opened here; the sender runs only once `start=True` or `rig.sender.start()`."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    limiter = FloodLimiter(overall_rate=send_rate)
    bot: ExtBot[int] = ExtBot(
        emulator.token,
        base_url=f"{emulator.api_url}/bot",
        request=AiohttpRequest(),
        rate_limiter=limiter,
    )
    await bot.initialize()
    options: dict[str, Any] = {"poll_interval": 0.1, "base_backoff": 0.05, **sender_options}
    sender = Sender(
        sessionmaker=sessionmaker,
        bot=bot,
        clock=_Clock(),
        render=lambda story, t: render_story(story, topic_names=TOPIC_NAMES, translator=t),
        heading=lambda stories, t: digest_heading(stories, TOPIC_NAMES, t),
        chat_ready_at=limiter.chat_ready_at,
        **options,
    )
    rig = Rig(emulator, engine, sessionmaker, bot, limiter, sender)
    if start:
        sender.start()
    try:
        yield rig
    finally:
        await sender.stop()
        await bot.shutdown()
        await engine.dispose()


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)
