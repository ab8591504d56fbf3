"""Which alerts are edited when a story gains a source, and who still gets an alert for it.

On SQLite and PostgreSQL (the `database_url` fixture): the story of three articles, chats
alerted to it in different ways, then the queries ingest and the editor use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import articles, chats, edits, outbox, sources
from storage.models import OutboxEntry, OutboxStatus
from storage.records import NewArticle

NOW = datetime(2026, 10, 4, 12, 0, tzinfo=UTC)
SINGLE, IN_DIGEST, OLD, PENDING, UNRELATED, NEWCOMER = 1, 2, 3, 4, 5, 6


def _article(guid: str) -> NewArticle:
    return NewArticle(
        guid=guid,
        url=f"https://news.example/{guid}",
        title=f"Headline {guid}",
        summary="A lead long enough to read as a summary of the story.",
        categories=(),
        published_at=NOW - timedelta(hours=1),
    )


async def _setup(session: AsyncSession) -> dict[str, int]:
    """Articles first (story 1), other (its own story), copy (joins story 1, just stored)."""
    await sources.sync_sources(session, [("https://a.example/rss", "A", None)], NOW)
    await sources.sync_sources(session, [("https://b.example/rss", "B", None)], NOW)
    by_url = {s.url: s.id for s in await sources.list_sources(session)}
    ids = await articles.insert_new(
        session, by_url["https://a.example/rss"], [_article("first"), _article("other")], NOW
    )
    ids |= await articles.insert_new(
        session, by_url["https://b.example/rss"], [_article("copy")], NOW
    )
    await articles.set_story(session, ids["first"], ids["first"], "")
    await articles.set_story(session, ids["other"], ids["other"], "")
    await articles.set_story(session, ids["copy"], ids["first"], "")
    for chat_id in (SINGLE, IN_DIGEST, OLD, PENDING, UNRELATED, NEWCOMER):
        await chats.upsert_chat(
            session, chat_id, chat_type="private", title=None, language="en", now=NOW
        )
    for chat_id in (SINGLE, IN_DIGEST, OLD, PENDING):
        await outbox.enqueue(session, ids["first"], [chat_id], now=NOW - timedelta(hours=30))
    await outbox.enqueue(session, ids["other"], [IN_DIGEST, UNRELATED], now=NOW)
    rows = {
        (chat_id, article_id): row_id
        for row_id, chat_id, article_id in await session.execute(
            select(OutboxEntry.id, OutboxEntry.chat_id, OutboxEntry.article_id)
        )
    }

    async def sent(chat_id: int, article_id: int, message_id: int, at: datetime) -> None:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == rows[chat_id, article_id])
            .values(status=OutboxStatus.SENT, message_id=message_id, sent_at=at)
        )

    await sent(SINGLE, ids["first"], 10, NOW - timedelta(minutes=30))
    # IN_DIGEST got "first" and "other" in one digest message.
    await sent(IN_DIGEST, ids["first"], 20, NOW - timedelta(minutes=30))
    await sent(IN_DIGEST, ids["other"], 20, NOW - timedelta(minutes=30))
    await sent(OLD, ids["first"], 30, NOW - timedelta(hours=30))
    await sent(UNRELATED, ids["other"], 50, NOW - timedelta(minutes=30))
    return ids


async def _waiting(session: AsyncSession) -> set[int]:
    rows = await session.scalars(
        select(OutboxEntry.chat_id).where(OutboxEntry.edit_due_at.is_not(None))
    )
    return set(rows)


async def test_only_single_recent_alerts_of_the_story_are_marked(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        ids = await _setup(session)
        # Everyone with a row for the story, whatever its state, already has it.
        alerted = await edits.chats_alerted_to_story(session, ids["copy"])
        assert alerted == {SINGLE, IN_DIGEST, OLD, PENDING}

        assert await edits.mark_story_edits(session, ids["copy"], now=NOW) == 1
        # Not the digest (one line of many), not the day-old alert, not the unsent one.
        assert await _waiting(session) == {SINGLE}


async def test_claims_lease_clears_and_retries(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        ids = await _setup(session)
        await edits.mark_story_edits(session, ids["copy"], now=NOW)

    async with sessionmaker() as session, session.begin():
        (claimed,) = await edits.claim_edits(session, now=NOW, lease=timedelta(minutes=2), limit=10)
        alert, message_id = claimed
        assert (alert.chat_id, message_id) == (SINGLE, 10)
        assert alert.story.id == ids["first"] and alert.story.also == ("B",)
        # Leased: a second editor takes nothing until the lease ends.
        assert await edits.claim_edits(session, now=NOW, lease=timedelta(minutes=2), limit=10) == []
        later = NOW + timedelta(minutes=3)
        (again,) = await edits.claim_edits(session, now=later, lease=timedelta(minutes=2), limit=10)
        assert again[0].outbox_id == alert.outbox_id

        await edits.retry_edit(session, alert.outbox_id, at=later + timedelta(minutes=1))
        assert (
            await edits.claim_edits(session, now=later, lease=timedelta(minutes=2), limit=10) == []
        )
        await edits.clear_edits(session, [alert.outbox_id])
        assert await _waiting(session) == set()


async def test_edits_wait_while_alerts_are_due(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await _setup(session)
        # PENDING's row for "first" is due: alerts go before edits.
        assert await edits.alerts_waiting(session, now=NOW)
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT)
        )
        assert not await edits.alerts_waiting(session, now=NOW)


async def test_one_edit_per_chat_per_claim(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A chat's messages are a second apart: its other edits wait for the next run."""
    async with sessionmaker() as session, session.begin():
        ids = await _setup(session)
        await edits.mark_story_edits(session, ids["copy"], now=NOW)
        # SINGLE's alert for "other" is due for an edit too (its story gained a source).
        await outbox.enqueue(session, ids["other"], [SINGLE], now=NOW)
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.chat_id == SINGLE, OutboxEntry.article_id == ids["other"])
            .values(status=OutboxStatus.SENT, message_id=11, sent_at=NOW, edit_due_at=NOW)
        )

    lease = timedelta(minutes=2)
    async with sessionmaker() as session, session.begin():
        (first,) = await edits.claim_edits(session, now=NOW, lease=lease, limit=10)
        assert first[1] == 10
        await edits.clear_edits(session, [first[0].outbox_id])
        (second,) = await edits.claim_edits(session, now=NOW, lease=lease, limit=10)
        assert second[1] == 11 and second[0].chat_id == SINGLE
