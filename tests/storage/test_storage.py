"""Storage queries against real databases: once-only articles, subscribers, the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import articles, chats, outbox, sources
from storage.models import OutboxStatus, SubscriptionKind
from storage.records import NewArticle

T0 = datetime(2026, 10, 4, 6, 0, tzinfo=UTC)


def _article(guid: str, url: str | None, *, minutes: int = 0, title: str = "A story") -> NewArticle:
    return NewArticle(
        guid=guid,
        url=url,
        title=title,
        summary="Summary.",
        categories=("War",),
        published_at=T0 + timedelta(minutes=minutes),
    )


async def _source(session: AsyncSession, url: str = "https://example.org/feed") -> int:
    await sources.sync_sources(session, [(url, "Example", None)], T0)
    (record,) = [s for s in await sources.list_sources(session) if s.url == url]
    return record.id


async def _chat(session: AsyncSession, chat_id: int, chat_type: str = "private") -> None:
    await chats.upsert_chat(
        session, chat_id, chat_type=chat_type, title=None, language="en", now=T0
    )


async def test_insert_new_returns_only_new_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        source_id = await _source(session)
        first = await articles.insert_new(
            session, source_id, [_article("a", "https://x.org/a"), _article("b", None)], T0
        )
        assert set(first) == {"a", "b"}
        again = await articles.insert_new(
            session,
            source_id,
            [_article("a", "https://x.org/a"), _article("c", "https://x.org/c")],
            T0,
        )
        assert set(again) == {"c"}


async def test_same_url_from_another_source_is_not_new(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        one = await _source(session, "https://one.org/feed")
        two = await _source(session, "https://two.org/feed")
        assert await articles.insert_new(session, one, [_article("x", "https://n.org/s")], T0)
        assert await articles.insert_new(session, two, [_article("y", "https://n.org/s")], T0) == {}
        # Several articles without a URL never collide with each other.
        inserted = await articles.insert_new(
            session, two, [_article("p", None), _article("q", None)], T0
        )
        assert set(inserted) == {"p", "q"}


async def test_newest_in_topics_orders_by_published_time(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        source_id = await _source(session)
        ids = await articles.insert_new(
            session,
            source_id,
            [
                _article("old", "https://x.org/old", minutes=1, title="Old sanctions story"),
                _article("new", "https://x.org/new", minutes=5, title="New sanctions story"),
                _article("other", "https://x.org/other", minutes=9, title="Unrelated"),
            ],
            T0,
        )
        await articles.set_topics(session, ids["old"], ["sanctions", "russia"])
        await articles.set_topics(session, ids["new"], ["sanctions"])
        (story,) = await articles.newest_in_topics(session, ["sanctions"])
        assert story.title == "New sanctions story"
        assert story.topics == frozenset({"sanctions"})
        assert story.source_name == "Example"
        (overall,) = await articles.newest(session)
        assert overall.title == "Unrelated"
        assert await articles.newest_in_topics(session, ["nato"]) == []


async def test_subscribers_respect_time_activity_and_kind(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        for chat_id in (1, 2, 3, -100):
            await _chat(session, chat_id, "group" if chat_id < 0 else "private")
        await chats.add_subscription(session, 1, SubscriptionKind.TOPIC, "ukraine", now=T0)
        await chats.add_subscription(session, 1, SubscriptionKind.KEYWORD, "tomahawk", now=T0)
        await chats.add_subscription(session, 2, SubscriptionKind.KEYWORD, "tomahawk", now=T0)
        late = T0 + timedelta(hours=1)
        await chats.add_subscription(session, 3, SubscriptionKind.TOPIC, "ukraine", now=late)
        await chats.add_subscription(session, -100, SubscriptionKind.TOPIC, "ukraine", now=T0)
        await chats.deactivate_chat(session, -100, reason="bot was kicked", now=T0)

        found = await chats.subscribers(
            session, topics={"ukraine"}, keywords={"tomahawk"}, subscribed_before=T0
        )
        assert found == {1, 2}  # 3 subscribed later, -100 is inactive; 1 counted once
        assert (
            await chats.subscribers(
                session, topics={"nato"}, keywords=set(), subscribed_before=late
            )
            == set()
        )
        assert await chats.active_keywords(session) == {"tomahawk"}
        # Subscribing twice keeps one row and reports it.
        assert not await chats.add_subscription(
            session, 1, SubscriptionKind.TOPIC, "ukraine", now=late
        )


async def test_outbox_is_once_per_chat_and_article_and_leases_expire(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        source_id = await _source(session)
        ids = await articles.insert_new(session, source_id, [_article("a", "https://x.org/a")], T0)
        for chat_id in (1, 2):
            await _chat(session, chat_id)
        assert await outbox.enqueue(session, ids["a"], [1, 2, 2], now=T0) == 2
        assert await outbox.enqueue(session, ids["a"], [1, 2], now=T0) == 0

    lease = timedelta(minutes=2)
    async with sessionmaker() as session, session.begin():
        claimed = await outbox.claim_due(session, now=T0, lease=lease, limit=10)
    assert sorted(alert.chat_id for alert in claimed) == [1, 2]
    assert claimed[0].story.url == "https://x.org/a"
    async with sessionmaker() as session, session.begin():
        # Claimed rows are not handed out again while the lease runs...
        assert await outbox.claim_due(session, now=T0 + lease / 2, lease=lease, limit=10) == []
        await outbox.mark_sent(session, [claimed[0].outbox_id], now=T0, message_id=7)
    async with sessionmaker() as session, session.begin():
        # ...but a crashed sender's claim returns to the pool when it ends.
        again = await outbox.claim_due(session, now=T0 + lease * 2, lease=lease, limit=10)
    assert [alert.outbox_id for alert in again] == [claimed[1].outbox_id]
    async with sessionmaker() as session:
        counts = await outbox.count_by_status(session)
    assert counts == {OutboxStatus.SENT.value: 1, OutboxStatus.CLAIMED.value: 1}


async def test_deactivation_drops_pending_and_migration_moves_everything(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        source_id = await _source(session)
        ids = await articles.insert_new(
            session,
            source_id,
            [_article("a", "https://x.org/a"), _article("b", "https://x.org/b")],
            T0,
        )
        await _chat(session, 5)
        await _chat(session, -7, "group")
        await chats.add_subscription(session, -7, SubscriptionKind.TOPIC, "nato", now=T0)
        for article_id in ids.values():
            await outbox.enqueue(session, article_id, [5, -7], now=T0)

        await chats.deactivate_chat(
            session, 5, reason="Forbidden: bot was blocked by the user", now=T0
        )
        await chats.migrate_chat(session, -7, -1007, now=T0)

    async with sessionmaker() as session:
        chat5 = await chats.get_chat(session, 5)
        assert chat5 is not None and not chat5.active
        assert chat5.inactive_reason == "Forbidden: bot was blocked by the user"
        assert await chats.get_chat(session, -7) is None
        subs = await chats.list_subscriptions(session, -1007)
        assert [(s.kind, s.value) for s in subs] == [(SubscriptionKind.TOPIC, "nato")]
        claimed = await outbox.claim_due(session, now=T0, lease=timedelta(minutes=1), limit=10)
        await session.rollback()
    assert sorted(alert.chat_id for alert in claimed) == [-1007, -1007]
