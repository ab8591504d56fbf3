"""Queries on feed sources: which are due, and what a fetch found out about them.

Like every storage module, these functions take the caller's session and never commit: the
ingest of one source is one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Source
from storage.records import SourceRecord


def _record(row: Source) -> SourceRecord:
    return SourceRecord(
        id=row.id,
        url=row.url,
        name=row.name,
        interval=row.interval,
        enabled=row.enabled,
        next_fetch_at=row.next_fetch_at,
        last_fetch_at=row.last_fetch_at,
        last_success_at=row.last_success_at,
        etag=row.etag,
        last_modified=row.last_modified,
        consecutive_errors=row.consecutive_errors,
        last_error=row.last_error,
    )


async def sync_sources(
    session: AsyncSession,
    configured: Iterable[tuple[str, str, float | None]],
    now: datetime,
) -> None:
    """Make the table hold the configured (url, name, interval) sources.

    New sources are due at once; known ones keep their fetch state (ETag, schedule, whether
    the first fetch happened) so a restart does not push old items or refetch everything.
    Sources no longer configured are disabled, not deleted: their articles stay for `/latest`.
    """
    wanted = {url: (name, interval) for url, name, interval in configured}
    existing = {row.url: row for row in (await session.scalars(select(Source))).all()}
    for url, (name, interval) in wanted.items():
        row = existing.get(url)
        if row is None:
            session.add(
                Source(
                    url=url,
                    name=name,
                    interval=interval,
                    enabled=True,
                    next_fetch_at=now,
                    consecutive_errors=0,
                    created_at=now,
                )
            )
        else:
            row.name = name
            row.interval = interval
            row.enabled = True
    for url, row in existing.items():
        if url not in wanted:
            row.enabled = False
    await session.flush()


async def due_sources(session: AsyncSession, now: datetime, limit: int = 100) -> list[SourceRecord]:
    rows = await session.scalars(
        select(Source)
        .where(Source.enabled.is_(True), Source.next_fetch_at <= now)
        .order_by(Source.next_fetch_at)
        .limit(limit)
    )
    return [_record(row) for row in rows]


async def get_source(session: AsyncSession, source_id: int) -> SourceRecord | None:
    row = await session.get(Source, source_id)
    return None if row is None else _record(row)


async def list_sources(session: AsyncSession) -> list[SourceRecord]:
    rows = await session.scalars(select(Source).order_by(Source.id))
    return [_record(row) for row in rows]


async def record_success(
    session: AsyncSession,
    source_id: int,
    *,
    now: datetime,
    next_fetch_at: datetime,
    etag: str | None,
    last_modified: str | None,
) -> None:
    await session.execute(
        update(Source)
        .where(Source.id == source_id)
        .values(
            last_fetch_at=now,
            last_success_at=now,
            next_fetch_at=next_fetch_at,
            etag=etag,
            last_modified=last_modified,
            consecutive_errors=0,
            last_error=None,
        )
    )


async def record_failure(
    session: AsyncSession,
    source_id: int,
    *,
    now: datetime,
    next_fetch_at: datetime,
    error: str,
) -> None:
    await session.execute(
        update(Source)
        .where(Source.id == source_id)
        .values(
            last_fetch_at=now,
            next_fetch_at=next_fetch_at,
            consecutive_errors=Source.consecutive_errors + 1,
            last_error=error[:2000],
        )
    )
