"""Retention: prune old articles without breaking once-only delivery.

An article older than the retention period goes, with its topics and its finished outbox
rows (cascade), unless an alert for it is still waiting to be sent (pending or claimed):
the sender needs the story to render it. Its dedupe keys stay behind as a tombstone
(`article_tombstones`: source, guid, URL), which ingest treats as "already seen", so a
feed that still carries the item does not alert anyone a second time.

A tombstone is needed only while some feed may still carry its item. Each fetch that does
refreshes its `seen_at` (`mark_seen`); one that no fetch has carried for the retention period,
while its source was being fetched successfully (so the absence was observed, not a source
that was down), is dropped (`prune_tombstones`): feeds list their newest items, and an item
gone from its feed for a month does not come back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.articles import dialect_insert
from storage.models import Article, ArticleTombstone, OutboxEntry, OutboxStatus, Source

PRUNE_BATCH = 500


async def prune_articles(
    session: AsyncSession, *, older_than: datetime, now: datetime, batch: int = PRUNE_BATCH
) -> int:
    """Delete up to `batch` articles first seen before `older_than`; return how many.

    Batches keep each transaction short; the caller loops (one transaction per batch) until
    this returns less than `batch`.
    """
    waiting = exists().where(
        OutboxEntry.article_id == Article.id,
        OutboxEntry.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED]),
    )
    rows = (
        await session.execute(
            select(Article.id, Article.source_id, Article.guid, Article.url)
            .where(Article.first_seen_at < older_than, ~waiting)
            .order_by(Article.id)
            .limit(batch)
        )
    ).all()
    if not rows:
        return 0
    await session.execute(
        dialect_insert(session, ArticleTombstone)
        .values(
            [
                {"source_id": source_id, "guid": guid, "url": url, "pruned_at": now, "seen_at": now}
                for _id, source_id, guid, url in rows
            ]
        )
        .on_conflict_do_nothing()
    )
    await session.execute(delete(Article).where(Article.id.in_([row[0] for row in rows])))
    return len(rows)


async def pruned_guids(session: AsyncSession, source_id: int, guids: Iterable[str]) -> set[str]:
    """The guids of this source that were stored once and pruned since."""
    wanted = list(guids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = await session.scalars(
            select(ArticleTombstone.guid).where(
                ArticleTombstone.source_id == source_id,
                ArticleTombstone.guid.in_(wanted[start : start + 500]),
            )
        )
        found.update(rows)
    return found


async def pruned_urls(session: AsyncSession, urls: Iterable[str]) -> set[str]:
    """The canonical URLs of pruned articles (any source)."""
    wanted = [url for url in urls if url]
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = await session.scalars(
            select(ArticleTombstone.url).where(
                ArticleTombstone.url.in_(wanted[start : start + 500])
            )
        )
        found.update(url for url in rows if url)
    return found


async def mark_seen(
    session: AsyncSession,
    source_id: int,
    *,
    guids: Iterable[str],
    urls: Iterable[str],
    now: datetime,
) -> None:
    """A fetch carried these pruned items (guids of this source, URLs of any): keep their
    tombstones for another retention period."""
    for column, values, scope in (
        (ArticleTombstone.guid, list(guids), ArticleTombstone.source_id == source_id),
        (ArticleTombstone.url, [url for url in urls if url], None),
    ):
        for start in range(0, len(values), 500):
            statement = (
                update(ArticleTombstone)
                .where(column.in_(values[start : start + 500]))
                .values(seen_at=now)
            )
            if scope is not None:
                statement = statement.where(scope)
            await session.execute(statement)


async def prune_tombstones(session: AsyncSession, *, unseen_since: datetime) -> int:
    """Drop tombstones no fetch has carried since `unseen_since`, of sources fetched
    successfully after it (a source that was down did not show the item was gone)."""
    observed = exists().where(
        Source.id == ArticleTombstone.source_id, Source.last_success_at > unseen_since
    )
    result = await session.execute(
        delete(ArticleTombstone).where(ArticleTombstone.seen_at < unseen_since, observed)
    )
    return int(getattr(result, "rowcount", 0) or 0)
