"""The outbox at fan-out scale: batched enqueue keeps each chat's policy, claims skip sent rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import articles, chats, outbox, sources
from storage.models import DeliveryMode, OutboxEntry, SubscriptionKind
from storage.records import ChatSettings, NewArticle

T0 = datetime(2026, 10, 4, 6, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def _story(session: AsyncSession) -> int:
    await sources.sync_sources(session, [("https://example.org/feed", "Example", None)], T0)
    (source,) = await sources.list_sources(session)
    new = NewArticle(
        guid="a",
        url="https://x.org/a",
        title="A story",
        summary="Summary.",
        categories=("War",),
        published_at=T0,
    )
    ids = await articles.insert_new(session, source.id, [new], T0)
    await articles.set_topics(session, ids["a"], ["ukraine"])
    return ids["a"]


async def test_enqueue_in_batches_applies_each_chats_policy(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    count = outbox.ENQUEUE_BATCH * 2 + 5  # three batches, the special chats in later ones
    paused, hourly, threaded = count, count - 1, outbox.ENQUEUE_BATCH + 1
    async with sessionmaker() as session, session.begin():
        article_id = await _story(session)
        for chat_id in range(1, count + 1):
            await chats.upsert_chat(
                session, chat_id, chat_type="private", title=None, language="en", now=T0
            )
        await chats.save_settings(session, paused, ChatSettings(paused=True), now=T0)
        await chats.save_settings(session, hourly, ChatSettings(mode=DeliveryMode.HOURLY), now=T0)
        await chats.add_subscription(
            session, threaded, SubscriptionKind.TOPIC, "ukraine", now=T0, message_thread_id=42
        )
        queued = await outbox.enqueue(session, article_id, range(1, count + 1), now=T0)
    assert queued == count - 1  # every chat but the paused one

    async with sessionmaker() as session:
        rows = {
            row.chat_id: row
            for row in await session.scalars(
                select(OutboxEntry).where(OutboxEntry.chat_id.in_([1, hourly, threaded, paused]))
            )
        }
    assert set(rows) == {1, hourly, threaded}
    assert (rows[1].digest, rows[1].next_attempt_at, rows[1].message_thread_id) == (
        False,
        T0,
        None,
    )
    assert rows[hourly].digest and rows[hourly].next_attempt_at == T0 + timedelta(hours=1)
    assert rows[threaded].message_thread_id == 42


async def test_claims_take_the_oldest_due_rows_past_the_sent_ones(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        article_id = await _story(session)
        for chat_id in range(1, 9):
            await chats.upsert_chat(
                session, chat_id, chat_type="private", title=None, language="en", now=T0
            )
        await chats.save_settings(
            session, 8, ChatSettings(mode=DeliveryMode.HOURLY), now=T0
        )  # held for its digest: not due yet
        await outbox.enqueue(session, article_id, range(1, 9), now=T0)
    async with sessionmaker() as session, session.begin():
        first = await outbox.claim_due(session, now=T0, lease=LEASE, limit=3)
        assert [alert.chat_id for alert in first] == [1, 2, 3]
        await outbox.record_sent(
            session, [(first[0].outbox_id, 1), (first[1].outbox_id, 2)], now=T0
        )
    async with sessionmaker() as session, session.begin():
        # Chat 3's claim is still leased; chats 4-7 are due; chat 8 waits for its digest.
        second = await outbox.claim_due(session, now=T0, lease=LEASE, limit=10)
    assert [alert.chat_id for alert in second] == [4, 5, 6, 7]
    async with sessionmaker() as session, session.begin():
        # When chat 3's lease runs out it is the oldest live row again and comes first.
        later = T0 + LEASE * 3
        third = await outbox.claim_due(session, now=later, lease=LEASE, limit=2)
    assert [alert.chat_id for alert in third] == [3, 4]


async def test_claim_on_sqlite_walks_the_live_rows_index(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Not a timing: the query plan. SQLite must read `ix_outbox_live_id` in id order (so
    sent rows are never read and due rows never sorted), not sort what another index found."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans with its own statistics; the index is SQLite's fix")
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("SELECT outbox.id"):
            statements.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with sessionmaker() as session, session.begin():
        await outbox.claim_due(session, now=T0, lease=LEASE, limit=10)
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    ((statement, params),) = statements
    async with engine.connect() as connection:
        plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
    details = [str(row[-1]) for row in plan]
    assert any("USING INDEX ix_outbox_live_id" in detail for detail in details), details
    assert not any("TEMP B-TREE" in detail for detail in details), details
