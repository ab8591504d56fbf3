"""The outbox: one row per (chat, article), the durable queue between matching and sending.

Life of a row::

    pending ──claim──▶ claimed ──sent──▶ sent
       ▲                  │  ├──answer lost──▶ unconfirmed   (counted as delivered)
       └──retry/lease─────┘  ├──chat gone────▶ dropped
                             └──gave up──────▶ failed        (kept, with the error)

A claim is a lease: a sender that dies leaves `claimed` rows whose lease runs out, and any
sender takes them again. So after a crash only the sends that were in flight can repeat. A
live sender renews the leases of what it still holds (`renew`), so the lease can be short; a
single process on SQLite gives its own old claims back at start (`release_claims`).

Results are written in batches: `record_sent` is one executemany for many sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVarTuple, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    bindparam,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.policy import place
from storage import chats as chat_store
from storage.articles import dialect_insert, get_stories
from storage.models import OUTBOX_LIVE, ArticleTopic, Chat, OutboxEntry, OutboxStatus
from storage.records import ChatSettings, PendingAlert, Story

ENQUEUE_BATCH = 1000
_Columns = TypeVarTuple("_Columns")


async def enqueue(
    session: AsyncSession, article_id: int, chat_ids: Iterable[int], *, now: datetime
) -> int:
    """Queue one alert per chat; a (chat, article) pair already queued is left alone.

    Each chat's delivery policy (`bot.delivery.policy.place`) decides the row: due now or
    held for a digest until `next_attempt_at`, silent or not; a paused chat gets no row.
    The forum thread comes from the chat's subscriptions (`chats.threads_for`).
    """
    ids = sorted(set(chat_ids))
    if not ids:
        return 0
    topics = list(
        await session.scalars(
            select(ArticleTopic.topic).where(ArticleTopic.article_id == article_id)
        )
    )
    default = ChatSettings()
    queued = 0
    # One batch at a time, settings and threads included, so memory is one batch of chats
    # however many match: loading every chat's settings at once as ORM rows took the
    # 100,000-chat fan-out to a 287 MB peak (106 MB batched; `python -m bench.fanout`).
    for start in range(0, len(ids), ENQUEUE_BATCH):
        batch = ids[start : start + ENQUEUE_BATCH]
        settings = await chat_store.settings_for(session, batch)
        threads = await chat_store.threads_for(session, batch, topics)
        rows = []
        for chat_id in batch:
            placement = place(settings.get(chat_id, default), now)
            if placement is None:
                continue
            rows.append(
                {
                    "chat_id": chat_id,
                    "article_id": article_id,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": placement.send_at,
                    "created_at": now,
                    "digest": placement.digest,
                    "silent": placement.silent,
                    "message_thread_id": threads.get(chat_id),
                }
            )
        if not rows:
            continue
        result = await session.execute(
            dialect_insert(session, OutboxEntry)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(OutboxEntry.id)
        )
        queued += len(result.all())
    return queued


def _due_at() -> ColumnElement[datetime]:
    """When a live row may be claimed: a pending one when due, a claimed one when its lease ends.

    Written as one CASE rather than an OR of two status tests: the OR lets SQLite answer
    from the (status, next_attempt_at) index and then sort every due row by id for each
    claim; the CASE is not indexable, so it walks `ix_outbox_live_id` in id order instead.
    """
    return case(
        (OutboxEntry.status == OutboxStatus.PENDING, OutboxEntry.next_attempt_at),
        else_=OutboxEntry.lease_until,
    )


async def as_seen_by_chats(
    session: AsyncSession, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[Story, tuple[tuple[int, str], ...]]]:
    """{(chat id, article id): (the story as that chat is shown it, the chat's keyword watches
    when no topic it follows brought the story)}; articles no longer stored are absent.

    The story names only the topics the chat follows (`Story.seen_by`); a chat that follows
    none of them was brought by a watch, and its watches come along for the bot to name."""
    stories = await get_stories(session, (article_id for _chat, article_id in pairs))
    chats = {chat_id for chat_id, _article in pairs}
    followed = await chat_store.followed_topics(session, chats)
    by_keyword = {
        chat_id
        for chat_id, article_id in pairs
        if article_id in stories and not stories[article_id].topics & followed.get(chat_id, set())
    }
    watches = await chat_store.keyword_watches(session, by_keyword) if by_keyword else {}
    return {
        (chat_id, article_id): (
            stories[article_id].seen_by(followed.get(chat_id, frozenset())),
            watches.get(chat_id, ()) if chat_id in by_keyword else (),
        )
        for chat_id, article_id in pairs
        if article_id in stories
    }


async def claim_due(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[PendingAlert]:
    """Take up to `limit` due alerts, oldest first, for one sender, until now + lease.

    The claim walks the partial index `ix_outbox_live_id` in id order and stops at `limit`,
    never reading sent rows nor sorting all due ones. SQLite only uses a partial index when
    the query repeats its condition literally (`storage.models.OUTBOX_LIVE_SQLITE`, a bound
    parameter would not match), hence the `text` term.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    live = "outbox." + OUTBOX_LIVE if postgresql else "+outbox." + OUTBOX_LIVE
    query = (
        select(
            OutboxEntry.id,
            OutboxEntry.chat_id,
            Chat.type,
            OutboxEntry.attempts,
            OutboxEntry.article_id,
            OutboxEntry.digest,
            OutboxEntry.silent,
            OutboxEntry.message_thread_id,
            Chat.language,
        )
        .join(Chat, Chat.id == OutboxEntry.chat_id)
        .where(text(live), _due_at() <= now, Chat.active.is_(True))
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    rows = await claim_rows(session, query, status=OutboxStatus.CLAIMED, lease_until=now + lease)
    if not rows:
        return []
    seen = await as_seen_by_chats(session, [(row[1], row[4]) for row in rows])
    return [
        PendingAlert(
            outbox_id=outbox_id,
            chat_id=chat_id,
            chat_type=chat_type,
            attempts=attempts,
            story=seen[chat_id, article_id][0],
            digest=digest,
            silent=silent,
            message_thread_id=thread_id,
            language=language,
            watches=seen[chat_id, article_id][1],
        )
        for (
            outbox_id,
            chat_id,
            chat_type,
            attempts,
            article_id,
            digest,
            silent,
            thread_id,
            language,
        ) in rows
    ]


async def claim_rows(
    session: AsyncSession, query: Select[int, *_Columns], **values: object
) -> Sequence[Row[int, *_Columns]]:
    """The rows of `query` (outbox id first), set to `values`: a claim. On PostgreSQL the rows
    are locked and rows another claimer holds are skipped, so two instances never take the
    same row; SQLite's writer lock (BEGIN IMMEDIATE) serialises claimers anyway."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxEntry)
    rows = (await session.execute(query)).all()
    if rows:
        await session.execute(
            update(OutboxEntry).where(OutboxEntry.id.in_([row[0] for row in rows])).values(**values)
        )
    return rows


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


async def record_sent(
    session: AsyncSession,
    results: Sequence[tuple[int, int | None]],
    *,
    now: datetime,
    confirmed: bool = True,
) -> None:
    """Mark many rows sent at once, each with its own Telegram message id (executemany)."""
    if not results:
        return
    table = cast(Table, OutboxEntry.__table__)
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=OutboxStatus.SENT if confirmed else OutboxStatus.UNCONFIRMED,
            sent_at=now,
            message_id=bindparam("sent_message_id"),
            attempts=table.c.attempts + 1,
            lease_until=None,
        )
    )
    await session.execute(
        statement,
        [{"row_id": row_id, "sent_message_id": message_id} for row_id, message_id in results],
    )


async def renew(session: AsyncSession, outbox_ids: Iterable[int], *, until: datetime) -> None:
    """Extend the lease of rows this sender still holds (claimed and not yet answered)."""
    ids = list(outbox_ids)
    if ids:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.status == OutboxStatus.CLAIMED)
            .values(lease_until=until)
        )


async def release_claims(session: AsyncSession, *, now: datetime) -> int:
    """Give every claimed row back to the queue: only for a database one sender owns alone."""
    result = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.status == OutboxStatus.CLAIMED)
        .values(status=OutboxStatus.PENDING, lease_until=None, next_attempt_at=now)
        .returning(OutboxEntry.id)
    )
    return len(result.all())


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
