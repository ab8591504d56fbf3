"""Operations storage on SQLite and PostgreSQL: source origins, fetch claims, failure notices,
retention with tombstones, and the figures of /stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import articles, chats, outbox, retention, stats
from storage import sources as source_store
from storage.models import Article, ArticleTombstone, OutboxStatus
from storage.records import NewArticle
from storage.sources import RemoveResult, SourceOrigin

T0 = datetime(2026, 10, 4, 6, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def _article(guid: str, url: str | None) -> NewArticle:
    return NewArticle(guid=guid, url=url, title="T", summary="S", categories=(), published_at=T0)


async def test_sync_touches_only_file_sources(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await source_store.sync_sources(session, [("https://a.org/f", "A", None)], T0)
        cli, created = await source_store.add_source(
            session, "https://b.org/f", name="B", interval=60, origin=SourceOrigin.CLI, now=T0
        )
        assert created and cli.origin == "cli"
        _chat_source, _ = await source_store.add_source(
            session, "https://c.org/f", name="C", interval=None, origin=SourceOrigin.CHAT, now=T0
        )
    # A restart with a file that no longer lists A but lists C: A is disabled, B and C stay
    # the operator's, untouched.
    async with sessionmaker() as session, session.begin():
        await source_store.sync_sources(session, [("https://c.org/f", "C from file", 5)], T0)
    async with sessionmaker() as session:
        rows = {s.url: s for s in await source_store.list_sources(session)}
    assert not rows["https://a.org/f"].enabled
    assert rows["https://b.org/f"].enabled and rows["https://b.org/f"].interval == 60
    assert rows["https://c.org/f"].origin == "chat" and rows["https://c.org/f"].name == "C"

    async with sessionmaker() as session, session.begin():
        result, _ = await source_store.remove_source(session, "https://b.org/f")
        assert result is RemoveResult.REMOVED
        result, _ = await source_store.remove_source(session, str(rows["https://a.org/f"].id))
        assert result is RemoveResult.NOT_FOUND  # already disabled
        result, _ = await source_store.remove_source(session, "nope")
        assert result is RemoveResult.NOT_FOUND
        # An operator adopts the file source that left the file.
        adopted, changed = await source_store.add_source(
            session, "https://a.org/f", name="A", interval=None, origin=SourceOrigin.CLI, now=T0
        )
        assert changed and adopted.enabled and adopted.origin == "cli"
        await source_store.sync_sources(session, [("https://d.org/f", "D", None)], T0)
        result, _ = await source_store.remove_source(session, "https://d.org/f")
        assert result is RemoveResult.FROM_FILE
    async with sessionmaker() as session:
        rows = {s.url: s for s in await source_store.list_sources(session)}
    assert rows["https://a.org/f"].enabled  # the sync no longer disables it
    assert not rows["https://b.org/f"].enabled


async def test_claims_share_due_sources_without_overlap(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    urls = [f"https://s{i}.org/f" for i in range(30)]
    async with sessionmaker() as session, session.begin():
        await source_store.sync_sources(session, [(u, u, None) for u in urls], T0)

    async def claim() -> list[int]:
        async with sessionmaker() as session, session.begin():
            taken = await source_store.claim_due_sources(session, T0, lease=LEASE, limit=8)
            await asyncio.sleep(0.05)  # hold the row locks while the others claim
            return [s.id for s in taken]

    claims = await asyncio.gather(*(claim() for _ in range(5)))
    flat = [source_id for claim_ids in claims for source_id in claim_ids]
    assert len(flat) == len(set(flat)) == 30  # every source once, none twice

    async with sessionmaker() as session, session.begin():
        assert await source_store.claim_due_sources(session, T0, lease=LEASE, limit=50) == []
        # A recorded fetch frees the claim; an instance that died frees it when the lease ends.
        await source_store.record_success(
            session, flat[0], now=T0, next_fetch_at=T0, etag=None, last_modified=None
        )
        again = await source_store.claim_due_sources(session, T0, lease=LEASE, limit=50)
        assert [s.id for s in again] == [flat[0]]
        later = await source_store.claim_due_sources(session, T0 + LEASE, lease=LEASE, limit=50)
        assert len(later) == 30  # every lease, the renewed one too, ran out


async def test_failure_streak_is_notified_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await source_store.sync_sources(session, [("https://a.org/f", "A", None)], T0)
        (source,) = await source_store.list_sources(session)
        for hours in (0, 12, 25):
            await source_store.record_failure(
                session, source.id, now=T0 + timedelta(hours=hours), next_fetch_at=T0, error="500"
            )
        day_later = T0 + timedelta(days=1)
        assert await source_store.failing_unnotified(session, T0 - timedelta(seconds=1)) == []
        (failing,) = await source_store.failing_unnotified(session, day_later - timedelta(days=1))
        assert failing.failing_since == T0 and failing.consecutive_errors == 3
        await source_store.mark_failure_notified(session, [source.id], now=day_later)
        assert await source_store.failing_unnotified(session, day_later) == []
        # Recovery ends the streak; the next streak is notified again.
        await source_store.record_success(
            session, source.id, now=day_later, next_fetch_at=T0, etag=None, last_modified=None
        )
        assert await source_store.failing_unnotified(session, day_later + timedelta(days=9)) == []
        await source_store.record_failure(
            session, source.id, now=day_later, next_fetch_at=T0, error="gone"
        )
        (again,) = await source_store.failing_unnotified(session, day_later)
        assert again.failing_since == day_later


async def test_tombstones_go_once_no_fetch_has_carried_them_for_the_period(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await source_store.sync_sources(
            session, [("https://a.org/f", "A", None), ("https://b.org/f", "B", None)], T0
        )
        a, b = await source_store.list_sources(session)
        await articles.insert_new(
            session,
            a.id,
            [_article(g, f"https://a.org/{g}") for g in ("gone", "in-feed", "by-url")],
            T0,
        )
        await articles.insert_new(session, b.id, [_article("down", "https://b.org/1")], T0)
        pruned = await retention.prune_articles(session, older_than=T0 + timedelta(days=1), now=T0)
        assert pruned == 4
    later = T0 + timedelta(days=20)
    async with sessionmaker() as session, session.begin():
        # A's feed still carries "in-feed"; another source links "by-url"'s page. The same
        # guid from another source is a different item.
        await retention.mark_seen(session, a.id, guids=["in-feed"], urls=[], now=later)
        await retention.mark_seen(
            session, b.id, guids=["gone"], urls=["https://a.org/by-url"], now=later
        )
    end = T0 + timedelta(days=40)
    async with sessionmaker() as session, session.begin():
        # A was fetched just now; B has been down since before the period.
        await source_store.record_success(
            session, a.id, now=end, next_fetch_at=end, etag=None, last_modified=None
        )
        await source_store.record_success(
            session, b.id, now=T0, next_fetch_at=end, etag=None, last_modified=None
        )
    async with sessionmaker() as session, session.begin():
        dropped = await retention.prune_tombstones(session, unseen_since=end - timedelta(days=30))
    assert dropped == 1
    async with sessionmaker() as session:
        left = set(await session.scalars(select(ArticleTombstone.guid)))
    assert left == {"in-feed", "by-url", "down"}


async def test_retention_prunes_old_articles_but_keeps_waiting_ones_and_dedupe_keys(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await source_store.sync_sources(session, [("https://a.org/f", "A", None)], T0)
        (source,) = await source_store.list_sources(session)
        old = await articles.insert_new(
            session,
            source.id,
            [_article("old-sent", "https://a.org/1"), _article("old-waiting", "https://a.org/2")],
            T0,
        )
        new = await articles.insert_new(
            session, source.id, [_article("new", "https://a.org/3")], T0 + timedelta(days=40)
        )
        await chats.upsert_chat(session, 7, chat_type="private", title=None, language=None, now=T0)
        await outbox.enqueue(session, old["old-sent"], [7], now=T0)
        await outbox.enqueue(session, old["old-waiting"], [7], now=T0)
        (first,) = await outbox.claim_due(session, now=T0, lease=LEASE, limit=1)
        assert first.story.id == old["old-sent"]
        await outbox.mark_sent(session, [first.outbox_id], now=T0, message_id=1)

    now = T0 + timedelta(days=41)
    async with sessionmaker() as session, session.begin():
        pruned = await retention.prune_articles(
            session, older_than=now - timedelta(days=30), now=now
        )
    assert pruned == 1
    async with sessionmaker() as session:
        left = set(await session.scalars(select(Article.guid)))
        assert left == {"old-waiting", "new"}
        assert await session.scalar(select(func.count()).select_from(ArticleTombstone)) == 1
        # The pruned item still counts as seen: by guid in its source, by URL anywhere.
        assert await retention.pruned_guids(session, source.id, ["old-sent", "new"]) == {"old-sent"}
        assert await retention.pruned_urls(session, ["https://a.org/1", "https://a.org/3"]) == {
            "https://a.org/1"
        }
        figures = await stats.collect(session, now=T0 + timedelta(minutes=30))
        assert figures.articles == 2 and figures.outbox_depth == 1
        assert figures.sent_last_hour == 0  # the sent row went with its article
        assert figures.chats == 1 and len(figures.sources) == 1
        waiting = await outbox.count_by_status(session)
        assert waiting == {OutboxStatus.PENDING.value: 1}
    assert new
