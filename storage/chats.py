"""Chats, their settings and their subscriptions: who wants which stories, when and how.

A chat row exists from its first command on. It is never deleted when the bot is blocked:
it is marked inactive with the reason, so unblocking brings the subscriptions back. Only
`/stop` deletes it (`delete_chat`), with everything that hangs off it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.articles import dialect_insert
from storage.models import (
    Chat,
    DeliveryMode,
    OutboxEntry,
    OutboxStatus,
    QuietBehaviour,
    Subscription,
    SubscriptionKind,
)
from storage.records import ChatRecord, ChatSettings, SubscriptionRecord


def _minutes(moment: time | None) -> int | None:
    return None if moment is None else moment.hour * 60 + moment.minute


def _time(minutes: int | None) -> time | None:
    if minutes is None or not 0 <= minutes < 24 * 60:
        return None
    return time(minutes // 60, minutes % 60)


def _settings(row: Chat) -> ChatSettings:
    return ChatSettings(
        timezone=row.timezone or "UTC",
        mode=DeliveryMode(row.delivery_mode or DeliveryMode.INSTANT),
        digest_time=_time(row.digest_minute) or time(8, 0),
        quiet_start=_time(row.quiet_start_minute),
        quiet_end=_time(row.quiet_end_minute),
        quiet_behaviour=QuietBehaviour(row.quiet_behaviour or QuietBehaviour.HOLD),
        paused=bool(row.paused),
    )


def _chat(row: Chat) -> ChatRecord:
    return ChatRecord(
        id=row.id,
        type=row.type,
        title=row.title,
        language=row.language,
        active=row.active,
        inactive_reason=row.inactive_reason,
        settings=_settings(row),
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
    """Register the chat or refresh what we know of it; a chat that talks to us is active.

    `language` (the user's language_code) is taken only while the chat has none: after that
    the chat's language changes only through `set_language` (/language), so one member of a
    group with another app language does not flip it for everyone.
    """
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
            timezone="UTC",
            delivery_mode=DeliveryMode.INSTANT,
            digest_minute=480,
            quiet_behaviour=QuietBehaviour.HOLD,
            paused=False,
        )
        session.add(row)
    else:
        row.type = chat_type
        row.title = title or row.title
        row.language = row.language or language
        if reactivate and not row.active:
            row.active = True
            row.inactive_reason = None
        row.updated_at = now
    await session.flush()
    return _chat(row)


async def get_chat(session: AsyncSession, chat_id: int) -> ChatRecord | None:
    row = await session.get(Chat, chat_id)
    return None if row is None else _chat(row)


async def save_settings(
    session: AsyncSession, chat_id: int, settings: ChatSettings, *, now: datetime
) -> bool:
    """Store all of a chat's delivery settings; False when the chat is unknown."""
    result = await session.execute(
        update(Chat)
        .where(Chat.id == chat_id)
        .values(
            timezone=settings.timezone,
            delivery_mode=settings.mode,
            digest_minute=_minutes(settings.digest_time),
            quiet_start_minute=_minutes(settings.quiet_start),
            quiet_end_minute=_minutes(settings.quiet_end),
            quiet_behaviour=settings.quiet_behaviour,
            paused=settings.paused,
            updated_at=now,
        )
        .returning(Chat.id)
    )
    return result.first() is not None


async def set_language(
    session: AsyncSession, chat_id: int, language: str, *, now: datetime
) -> None:
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(language=language, updated_at=now)
    )


async def settings_for(session: AsyncSession, chat_ids: Iterable[int]) -> dict[int, ChatSettings]:
    """The delivery settings of these chats (the unknown ones are left out)."""
    ids = sorted(set(chat_ids))
    if not ids:
        return {}
    rows = await session.scalars(select(Chat).where(Chat.id.in_(ids)))
    return {row.id: _settings(row) for row in rows}


async def followed_topics(
    session: AsyncSession, chat_ids: Iterable[int]
) -> dict[int, frozenset[str]]:
    """The topics each chat follows (chats that follow none are absent)."""
    ids = sorted(set(chat_ids))
    followed: dict[int, set[str]] = {}
    for start in range(0, len(ids), 1000):
        rows = await session.execute(
            select(Subscription.chat_id, Subscription.value).where(
                Subscription.chat_id.in_(ids[start : start + 1000]),
                Subscription.kind == SubscriptionKind.TOPIC,
            )
        )
        for chat_id, value in rows:
            followed.setdefault(chat_id, set()).add(value)
    return {chat_id: frozenset(values) for chat_id, values in followed.items()}


async def keyword_watches(
    session: AsyncSession, chat_ids: Iterable[int]
) -> dict[int, tuple[tuple[int, str], ...]]:
    """Each chat's keyword watches as (subscription id, watch); chats with none are absent."""
    ids = sorted(set(chat_ids))
    watches: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(ids), 1000):
        rows = await session.execute(
            select(Subscription.chat_id, Subscription.id, Subscription.value)
            .where(
                Subscription.chat_id.in_(ids[start : start + 1000]),
                Subscription.kind == SubscriptionKind.KEYWORD,
            )
            .order_by(Subscription.id)
        )
        for chat_id, sub_id, value in rows:
            watches.setdefault(chat_id, []).append((sub_id, value))
    return {chat_id: tuple(found) for chat_id, found in watches.items()}


async def threads_for(
    session: AsyncSession, chat_ids: Iterable[int], topics: Iterable[str]
) -> dict[int, int]:
    """The forum thread each chat's alert about `topics` goes to, for chats that set one.

    A chat subscribed in a forum topic gets its alerts there: the thread of a matching
    topic subscription if there is one, else of its newest subscription made in a thread.
    """
    ids = sorted(set(chat_ids))
    if not ids:
        return {}
    wanted = set(topics)
    rows = await session.execute(
        select(
            Subscription.chat_id,
            Subscription.kind,
            Subscription.value,
            Subscription.message_thread_id,
        )
        .where(Subscription.chat_id.in_(ids), Subscription.message_thread_id.is_not(None))
        .order_by(Subscription.created_at, Subscription.id)
    )
    newest: dict[int, int] = {}
    matching: dict[int, int] = {}
    for chat_id, kind, value, thread_id in rows:  # oldest first: later ones win
        if thread_id is None:
            continue
        newest[chat_id] = thread_id
        if kind == SubscriptionKind.TOPIC and value in wanted:
            matching[chat_id] = thread_id
    return newest | matching


async def delete_chat(session: AsyncSession, chat_id: int) -> bool:
    """Forget a chat entirely (/stop): its settings, subscriptions and queued alerts."""
    await session.execute(delete(OutboxEntry).where(OutboxEntry.chat_id == chat_id))
    await session.execute(delete(Subscription).where(Subscription.chat_id == chat_id))
    result = await session.execute(delete(Chat).where(Chat.id == chat_id).returning(Chat.id))
    return result.first() is not None


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


async def drop_queued_alerts(session: AsyncSession, chat_id: int, *, reason: str) -> int:
    """Drop a chat's alerts still waiting in the outbox (on /pause); how many were dropped.

    Only `pending` rows: a `claimed` one is being sent this very moment and its outcome is
    recorded by the sender as usual.
    """
    result = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.chat_id == chat_id, OutboxEntry.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DROPPED, last_error=reason[:2000], lease_until=None)
        .returning(OutboxEntry.id)
    )
    return len(result.all())


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
                timezone=old.timezone,
                delivery_mode=old.delivery_mode,
                digest_minute=old.digest_minute,
                quiet_start_minute=old.quiet_start_minute,
                quiet_end_minute=old.quiet_end_minute,
                quiet_behaviour=old.quiet_behaviour,
                paused=old.paused,
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
    session: AsyncSession,
    chat_id: int,
    kind: SubscriptionKind,
    value: str,
    *,
    now: datetime,
    message_thread_id: int | None = None,
) -> bool:
    """Subscribe; False when the chat already had it (the original time is kept).

    `message_thread_id` is the forum topic the command came from; subscribing again from
    another topic moves the subscription's alerts there.
    """
    result = await session.execute(
        dialect_insert(session, Subscription)
        .values(
            chat_id=chat_id,
            kind=kind,
            value=value,
            created_at=now,
            message_thread_id=message_thread_id,
        )
        .on_conflict_do_nothing()
        .returning(Subscription.id)
    )
    created = result.scalar_one_or_none() is not None
    if not created:
        await session.execute(
            update(Subscription)
            .where(
                Subscription.chat_id == chat_id,
                Subscription.kind == kind,
                Subscription.value == value,
            )
            .values(message_thread_id=message_thread_id)
        )
    return created


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


async def remove_subscription_by_id(
    session: AsyncSession, chat_id: int, sub_id: int, kind: SubscriptionKind
) -> str | None:
    """Remove this chat's subscription `sub_id` of `kind`; its value, or None if it had none."""
    result = await session.execute(
        delete(Subscription)
        .where(
            Subscription.id == sub_id, Subscription.chat_id == chat_id, Subscription.kind == kind
        )
        .returning(Subscription.value)
    )
    return result.scalar_one_or_none()


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
