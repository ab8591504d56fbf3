"""The leads taken from article pages, cached so each page is fetched once.

An empty lead is cached too: a page that had no text is not fetched again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.articles import dialect_insert
from storage.models import PageLead


async def cached_leads(session: AsyncSession, urls: Iterable[str]) -> dict[str, str]:
    """{url: lead} of the pages already fetched among ``urls``."""
    wanted = sorted(set(urls))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(PageLead.url, PageLead.lead).where(PageLead.url.in_(wanted[start : start + 500]))
        )
        found.update({url: lead for url, lead in rows})
    return found


async def save_leads(session: AsyncSession, leads: Mapping[str, str], now: datetime) -> None:
    for url, lead in leads.items():
        await session.execute(
            dialect_insert(session, PageLead)
            .values(url=url, lead=lead, fetched_at=now)
            .on_conflict_do_nothing()
        )


async def prune_leads(session: AsyncSession, *, older_than: datetime) -> int:
    """Forget leads fetched before `older_than` (retention): their articles are no longer new,
    so their pages are not fetched again."""
    result = await session.execute(delete(PageLead).where(PageLead.fetched_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
