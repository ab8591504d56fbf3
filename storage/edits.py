"""Sent alerts that gain "Also: <source>" when another source carries the same story.

A story told again by a second source is not a second alert (bot.stories). Chats that were
already alerted to it have their alert edited to name the new source instead: ingest marks
their sent rows (`mark_story_edits`, `outbox.edit_due_at`), and the editor
(bot.delivery.editor) claims them with a lease, edits the message and clears the mark.
A chat that had no alert for the story yet (it matches only the new wording, or the first
copy came from a source's first fetch, which never pushes) gets the new article as its alert.

Only a row sent as a single alert is edited: a row that went out inside a digest shares its
message id with the digest's other rows, and a digest is not rewritten for one line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Article, Chat, OutboxEntry, OutboxStatus
from storage.outbox import as_seen_by_chats, claim_rows
from storage.records import PendingAlert

# Alerts older than this are not edited: a message that far back is rarely looked at again.
EDIT_WITHIN = timedelta(hours=24)

__all__ = [
    "EDIT_WITHIN",
    "alerts_waiting",
    "chats_alerted_to_story",
    "claim_edits",
    "clear_edits",
    "mark_story_edits",
    "retry_edit",
]


def _story_of(article_id: int) -> ScalarSelect[int | None]:
    """The story id of an article, as a scalar subquery."""
    return select(Article.story_id).where(Article.id == article_id).scalar_subquery()


async def chats_alerted_to_story(session: AsyncSession, article_id: int) -> set[int]:
    """Chats with an outbox row (in any state) for another article of this article's story."""
    rows = await session.scalars(
        select(OutboxEntry.chat_id)
        .join(Article, Article.id == OutboxEntry.article_id)
        .where(Article.story_id == _story_of(article_id), Article.id != article_id)
        .distinct()
    )
    return set(rows)


async def mark_story_edits(
    session: AsyncSession, article_id: int, *, now: datetime, within: timedelta = EDIT_WITHIN
) -> int:
    """Mark for editing the single alerts sent in the last `within` for this article's story
    (its other articles); returns how many. Older ones are left as they are."""
    other = aliased(OutboxEntry)
    in_digest = exists().where(
        other.chat_id == OutboxEntry.chat_id,
        other.message_id == OutboxEntry.message_id,
        other.id != OutboxEntry.id,
    )
    story_articles = select(Article.id).where(
        Article.story_id == _story_of(article_id), Article.id != article_id
    )
    result = await session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.article_id.in_(story_articles),
            OutboxEntry.status == OutboxStatus.SENT,
            OutboxEntry.message_id.is_not(None),
            OutboxEntry.sent_at >= now - within,
            ~in_digest,
        )
        .values(edit_due_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def alerts_waiting(session: AsyncSession, *, now: datetime) -> bool:
    """Whether any alert is due to be sent: edits wait for them, alerts come first."""
    due = await session.scalar(
        select(OutboxEntry.id)
        .where(
            OutboxEntry.status == OutboxStatus.PENDING,
            OutboxEntry.next_attempt_at <= now,
            OutboxEntry.digest.is_(False),
        )
        .limit(1)
    )
    return due is not None


def _edit_due(entry: type[OutboxEntry], now: datetime) -> ColumnElement[bool]:
    """The rows of `entry` (the table or an alias of it) whose edit is due by `now`."""
    return and_(entry.edit_due_at.is_not(None), entry.edit_due_at <= now)


async def claim_edits(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[tuple[PendingAlert, int]]:
    """Take up to `limit` due edits until now + lease: (the alert as sent, its message id).

    At most one per chat: the flood limiter spaces a chat's messages a second apart, and the
    editor's job must end quickly (PTB waits for running jobs when the bot stops), so a chat's
    other edits wait for the next run.
    """
    other = aliased(OutboxEntry)
    first_of_chat = (
        select(func.min(other.id))
        .where(other.chat_id == OutboxEntry.chat_id, _edit_due(other, now))
        .scalar_subquery()
    )
    query = (
        select(
            OutboxEntry.id,
            OutboxEntry.chat_id,
            Chat.type,
            OutboxEntry.article_id,
            OutboxEntry.message_id,
            OutboxEntry.message_thread_id,
            Chat.language,
        )
        .join(Chat, Chat.id == OutboxEntry.chat_id)
        .where(_edit_due(OutboxEntry, now), OutboxEntry.id == first_of_chat, Chat.active.is_(True))
        .order_by(OutboxEntry.edit_due_at, OutboxEntry.id)
        .limit(limit)
    )
    rows = await claim_rows(session, query, edit_due_at=now + lease)
    if not rows:
        return []
    seen = await as_seen_by_chats(session, [(row[1], row[3]) for row in rows])
    return [
        (
            PendingAlert(
                outbox_id=outbox_id,
                chat_id=chat_id,
                chat_type=chat_type,
                attempts=0,
                story=seen[chat_id, article_id][0],
                message_thread_id=thread_id,
                language=language,
                watches=seen[chat_id, article_id][1],
            ),
            message_id,
        )
        for outbox_id, chat_id, chat_type, article_id, message_id, thread_id, language in rows
        if (chat_id, article_id) in seen and message_id is not None
    ]


async def clear_edits(session: AsyncSession, outbox_ids: list[int]) -> None:
    """The edits are made (or can never be): no longer waiting."""
    if outbox_ids:
        await session.execute(
            update(OutboxEntry).where(OutboxEntry.id.in_(outbox_ids)).values(edit_due_at=None)
        )


async def retry_edit(session: AsyncSession, outbox_id: int, *, at: datetime) -> None:
    await session.execute(
        update(OutboxEntry).where(OutboxEntry.id == outbox_id).values(edit_due_at=at)
    )
