"""Chats and their subscriptions: who wants which stories.

A chat row exists from its first command on. It is never deleted when the bot is blocked:
it is marked inactive with the reason, so unblocking brings the subscriptions back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.articles import dialect_insert
from storage.models import Chat, OutboxEntry, OutboxStatus, Subscription, SubscriptionKind
from storage.records import ChatRecord, SubscriptionRecord


def _chat(row: Chat) -> ChatRecord:
    return ChatRecord(
        id=row.id,
        type=row.type,
        title=row.title,
        language=row.language,
        active=row.active,
        inactive_reason=row.inactive_reason,
    )


async def upsert_chat(
    session: AsyncSession,
    chat_id: int,
    *,
    chat_type: str,
    title: str | None,
    language: str | None,
    now: datetime,
    reactivate: bool = True,
) -> ChatRecord:
    """Register the chat or refresh what we know of it; a chat that talks to us is active."""
    row = await session.get(Chat, chat_id)
    if row is None:
        row = Chat(
            id=chat_id,
            type=chat_type,
            title=title,
            language=language,
            active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.type = chat_type
        row.title = title or row.title
        row.language = language or row.language
        if reactivate and not row.active:
            row.active = True
            row.inactive_reason = None
        row.updated_at = now
    await session.flush()
    return _chat(row)


async def get_chat(session: AsyncSession, chat_id: int) -> ChatRecord | None:
    row = await session.get(Chat, chat_id)
    return None if row is None else _chat(row)


async def deactivate_chat(
    session: AsyncSession, chat_id: int, *, reason: str, now: datetime
) -> None:
    """Stop sending to a chat that blocked or removed the bot, and drop its pending alerts."""
    await session.execute(
        update(Chat)
        .where(Chat.id == chat_id)
        .values(active=False, inactive_reason=reason[:256], updated_at=now)
    )
    await session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.chat_id == chat_id,
            OutboxEntry.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED]),
        )
        .values(status=OutboxStatus.DROPPED, last_error=reason[:2000], lease_until=None)
    )


async def migrate_chat(session: AsyncSession, old_id: int, new_id: int, *, now: datetime) -> None:
    """Move a group that became a supergroup to its new id, keeping subscriptions and alerts."""
    old = await session.get(Chat, old_id)
    if old is None:
        return
    new = await session.get(Chat, new_id)
    if new is None:
        session.add(
            Chat(
                id=new_id,
                type="supergroup",
                title=old.title,
                language=old.language,
                active=True,
                created_at=old.created_at,
                updated_at=now,
            )
        )
    else:
        new.active = True
        new.inactive_reason = None
        new.updated_at = now
    await session.flush()
    # Copy what the new id does not have yet, then remove the old chat (cascades the rest).
    subs = await session.execute(
        select(Subscription.kind, Subscription.value, Subscription.created_at).where(
            Subscription.chat_id == old_id
        )
    )
    sub_rows = [
        {"chat_id": new_id, "kind": kind, "value": value, "created_at": created_at}
        for kind, value, created_at in subs
    ]
    if sub_rows:
        await session.execute(
            dialect_insert(session, Subscription).values(sub_rows).on_conflict_do_nothing()
        )
    pending = await session.execute(
        select(OutboxEntry.article_id, OutboxEntry.created_at).where(
            OutboxEntry.chat_id == old_id,
            OutboxEntry.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED]),
        )
    )
    outbox_rows = [
        {
            "chat_id": new_id,
            "article_id": article_id,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": created_at,
        }
        for article_id, created_at in pending
    ]
    if outbox_rows:
        await session.execute(
            dialect_insert(session, OutboxEntry).values(outbox_rows).on_conflict_do_nothing()
        )
    await session.execute(delete(Chat).where(Chat.id == old_id))


async def add_subscription(
    session: AsyncSession, chat_id: int, kind: SubscriptionKind, value: str, *, now: datetime
) -> bool:
    """Subscribe; False when the chat already had it (the original time is kept)."""
    result = await session.execute(
        dialect_insert(session, Subscription)
        .values(chat_id=chat_id, kind=kind, value=value, created_at=now)
        .on_conflict_do_nothing()
        .returning(Subscription.id)
    )
    return result.scalar_one_or_none() is not None


async def remove_subscription(
    session: AsyncSession, chat_id: int, kind: SubscriptionKind, value: str
) -> bool:
    result = await session.execute(
        delete(Subscription)
        .where(
            Subscription.chat_id == chat_id,
            Subscription.kind == kind,
            Subscription.value == value,
        )
        .returning(Subscription.id)
    )
    return result.first() is not None


async def count_subscriptions(session: AsyncSession, chat_id: int, kind: SubscriptionKind) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.chat_id == chat_id, Subscription.kind == kind)
        )
        or 0
    )


async def list_subscriptions(session: AsyncSession, chat_id: int) -> list[SubscriptionRecord]:
    rows = await session.execute(
        select(Subscription.id, Subscription.kind, Subscription.value, Subscription.created_at)
        .where(Subscription.chat_id == chat_id)
        .order_by(Subscription.kind, Subscription.value)
    )
    return [
        SubscriptionRecord(id=sub_id, kind=kind, value=value, created_at=at)
        for sub_id, kind, value, at in rows
    ]


async def active_keywords(session: AsyncSession) -> set[str]:
    """Every keyword some active chat watches: the matcher is compiled from these."""
    rows = await session.scalars(
        select(Subscription.value)
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(Subscription.kind == SubscriptionKind.KEYWORD, Chat.active.is_(True))
        .distinct()
    )
    return set(rows)


async def subscribers(
    session: AsyncSession,
    *,
    topics: Iterable[str],
    keywords: Iterable[str],
    subscribed_before: datetime,
) -> set[int]:
    """Active chats subscribed, before `subscribed_before`, to any of these topics or keywords.

    The time bound is the article's first sighting: someone who subscribes after a story was
    seen gets it from `/latest`, not as a push.
    """
    conditions = []
    topic_list = sorted(set(topics))
    keyword_list = sorted(set(keywords))
    if topic_list:
        conditions.append(
            (Subscription.kind == SubscriptionKind.TOPIC) & Subscription.value.in_(topic_list)
        )
    if keyword_list:
        conditions.append(
            (Subscription.kind == SubscriptionKind.KEYWORD) & Subscription.value.in_(keyword_list)
        )
    if not conditions:
        return set()
    rows = await session.scalars(
        select(Subscription.chat_id)
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(
            Chat.active.is_(True),
            Subscription.created_at <= subscribed_before,
            or_(*conditions),
        )
        .distinct()
    )
    return set(rows)
