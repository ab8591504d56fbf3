"""Figures for operators (`/stats`, `newsbot stats`, `/metrics`): counts, read in one session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage import sources as source_store
from storage.models import Article, Chat, OutboxEntry, OutboxStatus, Subscription
from storage.records import SourceRecord


@dataclass(frozen=True, slots=True)
class Stats:
    chats: int
    active_chats: int
    subscriptions: int
    articles: int
    outbox_depth: int
    sent_last_hour: int
    sources: list[SourceRecord]

    @property
    def failing_sources(self) -> list[SourceRecord]:
        return [s for s in self.sources if s.enabled and s.consecutive_errors > 0]


async def _count(session: AsyncSession, query: object) -> int:
    return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


async def collect(session: AsyncSession, *, now: datetime) -> Stats:
    sent_states = [OutboxStatus.SENT, OutboxStatus.UNCONFIRMED]
    return Stats(
        chats=await _count(session, select(func.count()).select_from(Chat)),
        active_chats=await _count(
            session, select(func.count()).select_from(Chat).where(Chat.active.is_(True))
        ),
        subscriptions=await _count(session, select(func.count()).select_from(Subscription)),
        articles=await _count(session, select(func.count()).select_from(Article)),
        outbox_depth=await outbox.depth(session),
        sent_last_hour=await _count(
            session,
            select(func.count())
            .select_from(OutboxEntry)
            .where(
                OutboxEntry.status.in_(sent_states),
                OutboxEntry.sent_at >= now - timedelta(hours=1),
            ),
        ),
        sources=await source_store.list_sources(session),
    )
