"""A Ukrainian chat reads its alerts, digests and keyword errors in Ukrainian; /pause drops
what was queued so /resume does not flood the chat; the digest job runs on the JobQueue.
All against the Bot API emulator, with the real Application and a real feed server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.emulator import BotAPIEmulator
from bot.keywords import MAX_KEYWORD_CHARS
from storage.models import OutboxEntry, OutboxStatus
from tests.conftest import feed_bytes
from tests.e2e.harness import Harness, running_bot, write_sources
from tests.support.feed_server import FeedServer, withhold_items

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
UK_INSTANT, UK_HELD, PAUSER, UK_TYPO = 2101, 2102, 2103, 2104


async def _statuses(bot: Harness, chat_id: int) -> list[str]:
    async with bot.ctx.sessionmaker() as session:
        rows = await session.scalars(select(OutboxEntry).where(OutboxEntry.chat_id == chat_id))
        return [row.status for row in rows]


def _no_rejections(emulator: BotAPIEmulator) -> None:
    rejected = [r for r in emulator.requests if r.status >= 400 and r.method != "getupdates"]
    assert rejected == []


async def test_ukrainian_alerts_digests_errors_and_pause(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    full = feed_bytes(KYIV)
    feeds.serve("/kyiv.rss", withhold_items(full, 2))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        await bot.wait_for_articles(at_least=13)
        now = datetime.now(UTC)
        window = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
        for chat_id in (UK_INSTANT, UK_HELD, PAUSER):
            await bot.command(chat_id, "/subscribe ukraine", language_code="uk")
        await bot.command(UK_HELD, f"/quiet {window}", language_code="uk")
        await bot.command(PAUSER, f"/quiet {window}", language_code="uk")

        # Keyword errors inside a /subscribe reply, numbers included, in Ukrainian.
        reply = await bot.command(UK_TYPO, "/subscribe -iran", language_code="uk")
        assert "Стеженню потрібне слово" in reply.plain_text
        long_word = '"' + "ж" * (MAX_KEYWORD_CHARS + 1) + '"'
        reply = await bot.command(UK_TYPO, f"/subscribe {long_word}", language_code="uk")
        assert f"не більше {MAX_KEYWORD_CHARS} символів" in reply.plain_text

        feeds.serve("/kyiv.rss", full)
        await bot.wait_for_articles(at_least=15)

        # Instant: two alerts whose fixed words (the topic line) are Ukrainian.
        pushes = (await emulator.wait_for_messages(UK_INSTANT, 3))[1:]
        for push in pushes:
            (tags,) = [line for line in push.plain_text.splitlines() if line.startswith("🏷 ")]
            assert "Україна" in tags and "Ukraine" not in tags

        # Both held chats have their two alerts queued for the end of the quiet hours.
        assert await _statuses(bot, UK_HELD) == ["pending", "pending"]
        assert await _statuses(bot, PAUSER) == ["pending", "pending"]

        # /pause drops the queued alerts; /resume brings no backlog.
        await bot.command(PAUSER, "/pause", language_code="uk")
        assert await _statuses(bot, PAUSER) == [OutboxStatus.DROPPED] * 2
        await bot.command(PAUSER, "/resume", language_code="uk")

        # The quiet hours end (the rows fall due): one Ukrainian digest, nothing for PAUSER.
        async with bot.ctx.sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.status == OutboxStatus.PENDING)
                .values(next_attempt_at=datetime.now(UTC))
            )
        bot.ctx.sender.wake()
        (digest,) = (await emulator.wait_for_messages(UK_HELD, 3))[2:]
        await bot.outbox_idle()
        assert digest.plain_text.startswith("2 нові новини на тему «")  # the most shared topic
        assert len([e for e in digest.entities if e.type == "text_link"]) == 2
        assert len(emulator.messages_to(PAUSER)) == 4  # two replies, /pause, /resume

        # The digest job: on PTB's JobQueue, at whole minutes.
        job_queue = bot.app.job_queue
        assert job_queue is not None
        (job,) = job_queue.get_jobs_by_name("digest-boundary")
        assert job.next_t is not None and job.next_t.second == 0
        _no_rejections(emulator)
