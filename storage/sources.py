"""Queries on feed sources: which are due, what a fetch found out, and operator changes.

Like every storage module, these functions take the caller's session and never commit: the
ingest of one source is one unit of work.

Where a source comes from (`origin`) decides who may change it: "file" rows mirror the
operator's sources file and are synced at every start; "cli" and "chat" rows were added by an
operator at run time and the sync leaves them alone. Nothing is ever deleted: a removed
source is disabled, so its articles stay for `/latest` and its dedupe keys keep working.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Source
from storage.records import SourceRecord


class SourceOrigin(enum.StrEnum):
    FILE = "file"
    CLI = "cli"
    CHAT = "chat"  # untrusted: fetched behind the SSRF guard


class RemoveResult(enum.StrEnum):
    REMOVED = "removed"
    NOT_FOUND = "not found"
    FROM_FILE = "from file"  # the sources file owns it; it would come back at the next start


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
        origin=row.origin,
        failing_since=row.failing_since,
    )


async def sync_sources(
    session: AsyncSession,
    configured: Iterable[tuple[str, str, float | None]],
    now: datetime,
) -> None:
    """Make the file-origin rows hold the configured (url, name, interval) sources.

    New sources are due at once; known ones keep their fetch state (ETag, schedule, whether
    the first fetch happened) so a restart does not push old items or refetch everything.
    File sources no longer configured are disabled, not deleted: their articles stay for
    `/latest`. Sources an operator added (CLI, chat) are not touched, even when the file
    lists the same URL.
    """
    wanted = {url: (name, interval) for url, name, interval in configured}
    existing = {row.url: row for row in (await session.scalars(select(Source))).all()}
    for url, (name, interval) in wanted.items():
        row = existing.get(url)
        if row is None:
            session.add(_new_source(url, name, interval, SourceOrigin.FILE, now))
        elif row.origin == SourceOrigin.FILE:
            row.name = name
            row.interval = interval
            row.enabled = True
    for url, row in existing.items():
        if url not in wanted and row.origin == SourceOrigin.FILE:
            row.enabled = False
    await session.flush()


def _new_source(
    url: str, name: str, interval: float | None, origin: SourceOrigin, now: datetime
) -> Source:
    return Source(
        url=url,
        name=name,
        interval=interval,
        enabled=True,
        next_fetch_at=now,
        consecutive_errors=0,
        created_at=now,
        origin=origin.value,
    )


async def due_sources(session: AsyncSession, now: datetime, limit: int = 100) -> list[SourceRecord]:
    rows = await session.scalars(
        select(Source)
        .where(Source.enabled.is_(True), Source.next_fetch_at <= now)
        .order_by(Source.next_fetch_at)
        .limit(limit)
    )
    return [_record(row) for row in rows]


async def claim_due_sources(
    session: AsyncSession, now: datetime, *, lease: timedelta, limit: int
) -> list[SourceRecord]:
    """Take up to `limit` due sources for this instance until `now + lease`.

    Several `newsbot run` processes share one PostgreSQL: `FOR UPDATE SKIP LOCKED` lets each
    take different rows without waiting, and the lease keeps a claimed source from being
    fetched again until its fetch is recorded (which clears the lease) or the instance died
    and the lease ran out. On SQLite, `BEGIN IMMEDIATE` already serialises the claim.
    """
    if limit <= 0:
        return []
    query = (
        select(Source)
        .where(
            Source.enabled.is_(True),
            Source.next_fetch_at <= now,
            or_(Source.claimed_until.is_(None), Source.claimed_until <= now),
        )
        .order_by(Source.next_fetch_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.scalars(query)).all())
    if not rows:
        return []
    await session.execute(
        update(Source)
        .where(Source.id.in_([row.id for row in rows]))
        .values(claimed_until=now + lease)
    )
    return [_record(row) for row in rows]


async def get_source(session: AsyncSession, source_id: int) -> SourceRecord | None:
    row = await session.get(Source, source_id)
    return None if row is None else _record(row)


async def find_source(session: AsyncSession, url_or_id: str) -> SourceRecord | None:
    """A source by its URL or by its numeric id, as an operator types either."""
    text = url_or_id.strip()
    row = await session.scalar(select(Source).where(Source.url == text))
    if row is None and text.isdigit():
        row = await session.get(Source, int(text))
    return None if row is None else _record(row)


async def list_sources(session: AsyncSession) -> list[SourceRecord]:
    rows = await session.scalars(select(Source).order_by(Source.id))
    return [_record(row) for row in rows]


async def add_source(
    session: AsyncSession,
    url: str,
    *,
    name: str,
    interval: float | None,
    origin: SourceOrigin,
    now: datetime,
) -> tuple[SourceRecord, bool]:
    """Add an operator's source; return it and whether anything changed.

    An enabled source with the URL is left as it is. A disabled one is enabled again and
    becomes the operator's (a file source that left the file is adopted); its fetch state
    is kept, so its old items are not pushed.
    """
    row = await session.scalar(select(Source).where(Source.url == url))
    if row is None:
        row = _new_source(url, name, interval, origin, now)
        session.add(row)
        await session.flush()
        return _record(row), True
    if row.enabled:
        return _record(row), False
    row.enabled = True
    row.origin = origin.value
    row.name = name
    row.interval = interval
    row.next_fetch_at = now
    row.claimed_until = None
    await session.flush()
    return _record(row), True


async def remove_source(
    session: AsyncSession, url_or_id: str
) -> tuple[RemoveResult, SourceRecord | None]:
    """Disable an operator-added source; a file source must be removed from the file."""
    found = await find_source(session, url_or_id)
    if found is None or not found.enabled:
        return RemoveResult.NOT_FOUND, found
    if found.origin == SourceOrigin.FILE:
        return RemoveResult.FROM_FILE, found
    await session.execute(update(Source).where(Source.id == found.id).values(enabled=False))
    return RemoveResult.REMOVED, found


async def disable_source(
    session: AsyncSession, source_id: int, *, now: datetime, error: str
) -> None:
    """Stop fetching a source for good (410 Gone): an operator must add it again."""
    await session.execute(
        update(Source)
        .where(Source.id == source_id)
        .values(enabled=False, **_failed_fetch(now, error))
    )


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
            claimed_until=None,
            failing_since=None,
            failure_notified_at=None,
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
        .values(next_fetch_at=next_fetch_at, **_failed_fetch(now, error))
    )


def _failed_fetch(now: datetime, error: str) -> dict[str, Any]:
    """What every failed fetch records: one more error in a row, since when it has failed."""
    return {
        "last_fetch_at": now,
        "consecutive_errors": Source.consecutive_errors + 1,
        "last_error": error[:2000],
        "claimed_until": None,
        "failing_since": func.coalesce(Source.failing_since, now),
    }


async def failing_unnotified(session: AsyncSession, failing_before: datetime) -> list[SourceRecord]:
    """Sources failing since before `failing_before` whose admins were not told yet.

    Locked (SKIP LOCKED on PostgreSQL) so that of several instances only one tells.
    """
    query = (
        select(Source)
        .where(
            Source.failing_since.is_not(None),
            Source.failing_since <= failing_before,
            Source.failure_notified_at.is_(None),
        )
        .order_by(Source.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = await session.scalars(query)
    return [_record(row) for row in rows]


async def mark_failure_notified(
    session: AsyncSession, source_ids: Iterable[int], *, now: datetime
) -> None:
    """Once per failure streak: a success clears the mark (see `record_success`)."""
    await session.execute(
        update(Source).where(Source.id.in_(list(source_ids))).values(failure_notified_at=now)
    )


async def unmark_failure_notified(
    session: AsyncSession, source_ids: Iterable[int], *, notified_at: datetime
) -> None:
    """The notice marked at `notified_at` reached no admin: let the next run tell them.
    A mark from a later run (another instance) is left alone."""
    await session.execute(
        update(Source)
        .where(Source.id.in_(list(source_ids)), Source.failure_notified_at == notified_at)
        .values(failure_notified_at=None)
    )
