"""The outbox: one row per (chat, article), the durable queue between matching and sending.

Life of a row::

    pending ──claim──▶ claimed ──sent──▶ sent
       ▲                  │  ├──answer lost──▶ unconfirmed   (counted as delivered)
       └──retry/lease─────┘  ├──chat gone────▶ dropped
                             └──gave up──────▶ failed        (kept, with the error)

A claim is a lease: a sender that dies leaves `claimed` rows whose lease runs out, and any
sender takes them again. So after a crash only the sends that were in flight can repeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.articles import dialect_insert, get_stories
from storage.models import Chat, OutboxEntry, OutboxStatus
from storage.records import PendingAlert

ENQUEUE_BATCH = 1000


async def enqueue(
    session: AsyncSession, article_id: int, chat_ids: Iterable[int], *, now: datetime
) -> int:
    """Queue one alert per chat; a (chat, article) pair already queued is left alone."""
    ids = sorted(set(chat_ids))
    queued = 0
    for start in range(0, len(ids), ENQUEUE_BATCH):
        rows = [
            {
                "chat_id": chat_id,
                "article_id": article_id,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for chat_id in ids[start : start + ENQUEUE_BATCH]
        ]
        result = await session.execute(
            dialect_insert(session, OutboxEntry)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(OutboxEntry.id)
        )
        queued += len(result.all())
    return queued


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxEntry.status == OutboxStatus.PENDING, OutboxEntry.next_attempt_at <= now),
        and_(OutboxEntry.status == OutboxStatus.CLAIMED, OutboxEntry.lease_until <= now),
    )


async def claim_due(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[PendingAlert]:
    """Take up to `limit` due alerts, oldest first, for one sender, until now + lease."""
    query = (
        select(
            OutboxEntry.id,
            OutboxEntry.chat_id,
            Chat.type,
            OutboxEntry.attempts,
            OutboxEntry.article_id,
        )
        .join(Chat, Chat.id == OutboxEntry.chat_id)
        .where(_claimable(now), Chat.active.is_(True))
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxEntry)
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_([row[0] for row in rows]))
        .values(status=OutboxStatus.CLAIMED, lease_until=now + lease)
    )
    stories = await get_stories(session, (row[4] for row in rows))
    return [
        PendingAlert(
            outbox_id=outbox_id,
            chat_id=chat_id,
            chat_type=chat_type,
            attempts=attempts,
            story=stories[article_id],
        )
        for outbox_id, chat_id, chat_type, attempts, article_id in rows
    ]


async def mark_sent(
    session: AsyncSession,
    outbox_ids: Iterable[int],
    *,
    now: datetime,
    message_id: int | None,
    confirmed: bool = True,
) -> None:
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(list(outbox_ids)))
        .values(
            status=OutboxStatus.SENT if confirmed else OutboxStatus.UNCONFIRMED,
            sent_at=now,
            message_id=message_id,
            attempts=OutboxEntry.attempts + 1,
            lease_until=None,
        )
    )


async def release(
    session: AsyncSession,
    outbox_ids: Iterable[int],
    *,
    retry_at: datetime,
    error: str | None = None,
    count_attempt: bool = True,
) -> None:
    """Put claimed rows back in the queue, due again at `retry_at`."""
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(list(outbox_ids)))
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=retry_at,
            lease_until=None,
            attempts=OutboxEntry.attempts + (1 if count_attempt else 0),
            last_error=error[:2000] if error else OutboxEntry.last_error,
        )
    )


async def mark_failed(
    session: AsyncSession, outbox_ids: Iterable[int], *, error: str, dropped: bool = False
) -> None:
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(list(outbox_ids)))
        .values(
            status=OutboxStatus.DROPPED if dropped else OutboxStatus.FAILED,
            attempts=OutboxEntry.attempts + 1,
            lease_until=None,
            last_error=error[:2000],
        )
    )


async def depth(session: AsyncSession) -> int:
    """Alerts waiting to be sent (pending or claimed)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED]))
        )
        or 0
    )


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
    )
    return {str(status): int(count) for status, count in rows}
