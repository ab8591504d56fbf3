"""Operator tools end to end: admin commands (and the refusal), SSRF on chat-added sources,
410 Gone, the failing-source notice to admins, and retention that never re-alerts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.emulator import BotAPIEmulator, Failure
from storage import retention
from storage import sources as source_store
from storage.models import Article, ArticleTombstone, Source
from tests.conftest import feed_bytes
from tests.e2e.harness import Harness, running_bot, write_sources
from tests.support.feed_server import FeedServer, withhold_items

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
ADMIN, OTHER, READER = 501, 502, 503


async def wait_for(
    condition: Callable[[], Awaitable[bool]], timeout: float = 15.0, what: str = "condition"
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def _source(bot: Harness, url: str) -> Source:
    async with bot.ctx.sessionmaker() as session:
        row = await session.scalar(select(Source).where(Source.url == url))
    assert row is not None
    return row


async def test_admin_commands_and_refusal(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    feeds.serve("/gone.rss", b"", status=410)
    sources = write_sources(
        tmp_path / "sources.toml",
        [("Kyiv", feeds.url("/kyiv.rss")), ("Gone", feeds.url("/gone.rss"))],
    )
    async with running_bot(
        emulator,
        feeds,
        database_url=database_url,
        sources_file=sources,
        admin_ids=frozenset({ADMIN}),
    ) as bot:
        for command in (
            "/stats",
            "/sources",
            "/addsource https://example.org/f",
            "/removesource 1",
        ):
            refusal = await bot.command(OTHER, command)
            assert "only for the operators" in refusal.plain_text

        await bot.wait_for_articles(at_least=10)
        gone_url = feeds.url("/gone.rss")
        # 410 Gone disables the source: fetching it again would be pointless.
        await bot.wait_until(lambda: feeds.hits("/gone.rss") >= 1, what="a fetch of /gone.rss")
        await bot.ctx.ingestor.wait_idle()
        gone = await _source(bot, gone_url)
        assert not gone.enabled and gone.last_error and "410" in gone.last_error
        hits = feeds.hits("/gone.rss")

        await bot.command(READER, "/subscribe ukraine")
        stats = (await bot.command(ADMIN, "/stats")).plain_text
        assert "Chats: 1 (1 active)" in stats  # the reader; admin commands register no chat
        assert "Subscriptions: 1" in stats
        assert "Outbox depth: 0" in stats and "Sent in the last hour: 0" in stats
        assert "Sources: 1 enabled, 0 failing" in stats

        listing = (await bot.command(ADMIN, "/sources")).plain_text
        assert "Kyiv (file), last fetch 20" in listing
        assert "Gone (file)" in listing and "HTTP 410" in listing

        for url, why in (
            (feeds.url("/kyiv2.rss"), "loopback"),
            ("http://localhost:9/feed", "loopback"),
            ("http://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://10.0.0.7/feed", "private"),
            ("ftp://example.org/feed", "http"),
        ):
            refused = await bot.command(ADMIN, f"/addsource {url}")
            assert "Not added" in refused.plain_text and why in refused.plain_text

        # A chat-added source on a public address. Tests never let the bot contact a
        # non-loopback address, so it is stored directly and scheduled far in the future;
        # that /addsource accepts public URLs is covered by tests/unit/test_ssrf.py.
        public_url = "http://192.0.2.10/feed.xml"  # TEST-NET-1: never fetched here
        async with bot.ctx.sessionmaker() as session, session.begin():
            await source_store.add_source(
                session,
                public_url,
                name="Public",
                interval=None,
                origin=source_store.SourceOrigin.CHAT,
                now=bot.ctx.clock.now(),
            )
            await session.execute(
                update(Source)
                .where(Source.url == public_url)
                .values(next_fetch_at=bot.ctx.clock.now() + timedelta(days=365))
            )
        public = await _source(bot, public_url)
        assert public.origin == "chat" and public.enabled

        kyiv = await _source(bot, feeds.url("/kyiv.rss"))
        from_file = await bot.command(ADMIN, f"/removesource {kyiv.id}")
        assert "sources file" in from_file.plain_text
        removed = await bot.command(ADMIN, f"/removesource {public.id}")
        assert "Removed source" in removed.plain_text
        assert not (await _source(bot, public_url)).enabled
        assert feeds.hits("/gone.rss") == hits  # never fetched again
        assert emulator.limit_violations == []


async def test_chat_source_on_a_private_address_is_never_fetched(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    """Even if a chat source points inside (DNS rebinding, a later redirect), the guard holds:
    the same loopback feed that file sources fetch fine is refused for a chat source."""
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    feeds.serve("/inside.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "sources.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        async with bot.ctx.sessionmaker() as session, session.begin():
            await source_store.add_source(
                session,
                feeds.url("/inside.rss"),
                name="Inside",
                interval=None,
                origin=source_store.SourceOrigin.CHAT,
                now=bot.ctx.clock.now(),
            )
        inside_url = feeds.url("/inside.rss")

        async def refused() -> bool:
            row = await _source(bot, inside_url)
            return row.consecutive_errors >= 1

        await wait_for(refused, what="the chat source's fetch to fail")
        row = await _source(bot, inside_url)
        assert row.last_error is not None and "refused to connect to 127.0.0.1" in row.last_error
        assert feeds.hits("/inside.rss") == 0  # no byte reached the inside server
        assert feeds.hits("/kyiv.rss") >= 1  # the trusted file source is fetched as before


async def test_admins_hear_once_about_a_source_failing_for_a_day(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/down.rss", b"", status=503)
    sources = write_sources(tmp_path / "sources.toml", [("Down", feeds.url("/down.rss"))])
    async with running_bot(
        emulator,
        feeds,
        database_url=database_url,
        sources_file=sources,
        admin_ids=frozenset({ADMIN, ADMIN + 1}),
    ) as bot:
        await bot.wait_until(lambda: feeds.hits("/down.rss") >= 1, what="a failed fetch")
        await bot.ctx.ingestor.wait_idle()
        job_queue = bot.app.job_queue
        assert job_queue is not None
        (job,) = job_queue.get_jobs_by_name("source-alarms")
        await job.run(bot.app)
        assert emulator.messages_to(ADMIN) == []  # failing, but not for a day yet

        async with bot.ctx.sessionmaker() as session, session.begin():
            await session.execute(
                update(Source).values(
                    failing_since=bot.ctx.clock.now() - timedelta(days=1, minutes=1)
                )
            )
        # Telegram cannot be reached on the first try: the notice waits for the next run.
        for admin in (ADMIN, ADMIN + 1):
            emulator.fail_chat(admin, Failure.server_error(502), times=1)
        await job.run(bot.app)
        assert emulator.messages_to(ADMIN) == emulator.messages_to(ADMIN + 1) == []
        await job.run(bot.app)
        for admin in (ADMIN, ADMIN + 1):
            (notice,) = await emulator.wait_for_messages(admin, 1, timeout=10)
            assert "Source failing for over a day" in notice.plain_text
            assert feeds.url("/down.rss") in notice.plain_text and "HTTP 503" in notice.plain_text
        await job.run(bot.app)  # once per failure streak
        assert len(emulator.messages_to(ADMIN)) == 1

        # Admins who blocked the bot are not retried every ten minutes.
        async with bot.ctx.sessionmaker() as session, session.begin():
            await session.execute(update(Source).values(failure_notified_at=None))
        for admin in (ADMIN, ADMIN + 1):
            emulator.fail_chat(admin, Failure.blocked())
        await job.run(bot.app)
        async with bot.ctx.sessionmaker() as session:
            (row,) = list(await session.scalars(select(Source)))
        assert row.failure_notified_at is not None


async def test_pruned_articles_are_not_alerted_again(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    full = feed_bytes(KYIV)
    feeds.serve("/kyiv.rss", withhold_items(full, 1))
    sources = write_sources(tmp_path / "sources.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        await bot.command(READER, "/subscribe ukraine russia")
        stored = await bot.wait_for_articles(at_least=14)
        await bot.ctx.ingestor.wait_idle()
        # Retention prunes everything stored so far (as if 31 days had passed).
        now = bot.ctx.clock.now()
        async with bot.ctx.sessionmaker() as session, session.begin():
            pruned = await retention.prune_articles(
                session, older_than=now + timedelta(seconds=1), now=now
            )
        assert pruned == stored
        # The feed still carries the 14 pruned items and now one new story: one alert only.
        before = len(emulator.messages_to(READER))
        feeds.serve("/kyiv.rss", full)
        await emulator.wait_for_messages(READER, before + 1, timeout=15)
        hits = feeds.hits("/kyiv.rss")
        await bot.wait_until(lambda: feeds.hits("/kyiv.rss") >= hits + 2, what="two more fetches")
        await bot.outbox_idle()
        assert len(emulator.messages_to(READER)) == before + 1
        assert await bot.article_count() == 1
        async with bot.ctx.sessionmaker() as session:
            (title,) = list(await session.scalars(select(Article.title)))
            seen = list(await session.scalars(select(ArticleTombstone.seen_at)))
        assert "Lukoil" in title
        # The feed still carries the pruned items: their tombstones were seen again, so the
        # retention job keeps them.
        assert len(seen) == stored and all(at > now for at in seen)
