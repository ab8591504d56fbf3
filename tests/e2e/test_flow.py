"""The whole bot, end to end: subscribe → /latest → a story is published → the push arrives.

Real parts throughout: the PTB Application with its JobQueue and updater, the Bot API
emulator over HTTP, a feed server serving the Kyiv Independent's real feed, and a real
database (SQLite file and PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

from bot.emulator import BotAPIEmulator
from tests.conftest import feed_bytes
from tests.e2e.harness import running_bot, write_sources
from tests.support.feed_server import FeedServer, withhold_items

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
ALICE, BOB, CAROL = 1001, 1002, 1003
LUKOIL_URL = (
    "https://kyivindependent.com/"
    "u-s-peace-negotiations-with-russia-could-now-involve-multi-billion-dollar-lukoil-deal-nyt-reports/"
)
LUKOIL_TITLE = (
    "U.S. peace negotiations with Russia could now involve multi-billion dollar Lukoil deal, "
    "NYT reports"
)


async def test_subscribe_latest_and_push(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    full = feed_bytes(KYIV)
    # The feed is down at first: Alice subscribes before the bot has seen any item.
    feeds.serve("/kyiv.rss", b"", status=503)
    sources = write_sources(
        tmp_path / "sources.toml", [("The Kyiv Independent", feeds.url("/kyiv.rss"))]
    )

    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        welcome = await bot.command(ALICE, "/start")
        assert "/subscribe" in welcome.plain_text and "/latest" in welcome.plain_text

        reply = await bot.command(ALICE, "/subscribe Ukraine SANCTIONS")
        assert "Subscribed to Ukraine, Sanctions" in reply.plain_text

        reply = await bot.command(BOB, "/subscribe nato")
        assert "Subscribed to NATO" in reply.plain_text
        reply = await bot.command(CAROL, "/subscribe Tomahawk")
        assert "keyword" in reply.plain_text and "tomahawk" in reply.plain_text

        # The feed comes up without its newest item: the first fetch stores, never pushes,
        # although Alice subscribed before any of these items were seen.
        feeds.serve("/kyiv.rss", withhold_items(full, 1))
        stored = await bot.wait_for_articles(at_least=14)
        assert stored == 14
        hits = feeds.hits("/kyiv.rss")
        await bot.wait_until(lambda: feeds.hits("/kyiv.rss") >= hits + 2, what="two more fetches")
        await bot.outbox_idle()
        assert len(emulator.messages_to(ALICE)) == 2  # /start and /subscribe replies: no pushes
        assert emulator.messages_to(BOB)[1:] == []

        latest = await bot.command(ALICE, "/latest")
        assert latest.parse_mode == "HTML"
        assert "At least 15,000 civilian casualties documented in Ukraine" in latest.plain_text
        assert any(e.type == "bold" for e in latest.entities)

        latest_topic = await bot.command(BOB, "/latest sanctions")
        # No sanctions story is stored yet (the Lukoil one is withheld).
        assert "No stored story matches Sanctions" in latest_topic.plain_text

        # The publisher adds a story: Alice gets one push, Bob and Carol get nothing.
        feeds.serve("/kyiv.rss", full)
        before = len(emulator.messages_to(ALICE))
        (push,) = (await emulator.wait_for_messages(ALICE, before + 1, timeout=15))[before:]
        await bot.wait_until(lambda: feeds.hits("/kyiv.rss") >= 1)
        await bot.outbox_idle()

        assert push.parse_mode == "HTML"
        assert push.plain_text.startswith(LUKOIL_TITLE)
        bold = [e for e in push.entities if e.type == "bold"]
        assert bold and bold[0].offset == 0
        assert "Lukoil, the New York Times (NYT) reported on Oct. 3." in push.plain_text
        links = [e.url for e in push.entities if e.type == "text_link"]
        assert links == [LUKOIL_URL]
        assert "The Kyiv Independent" in push.plain_text
        assert len(emulator.messages_to(ALICE)) == before + 1  # once, though two topics match
        assert len(emulator.messages_to(BOB)) == 2  # /subscribe and /latest replies only
        assert len(emulator.messages_to(CAROL)) == 1

        # /latest now finds the new story for the topic.
        latest_topic = await bot.command(BOB, "/latest sanctions")
        assert LUKOIL_TITLE in latest_topic.plain_text
        assert emulator.limit_violations == []
