"""Give title-only feed items a lead from their article page, before the ingest transaction.

Some feeds carry a headline and a link and nothing else; an alert made of a headline alone
says little. For such items that are new, the article page is fetched (bounded in time,
size and number per ingest; ``bot.feeds.page``) and its lead becomes the item's text for
the summariser. Leads are cached in the database (``storage.pages``), the empty ones too, so
a page is fetched at most once. This runs outside the ingest transaction so no database
transaction stays open across slow HTTP requests.

The first fetch of a source stores without pushing, so it fetches no pages either.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.decisions import select_new
from bot.feeds.normalize import Article
from bot.feeds.page import fetch_lead
from bot.summary import make_summary
from storage import articles as article_store
from storage import pages, retention
from storage.records import SourceRecord

# A summary shorter than this is no summary (the bar for a push).
MIN_SUMMARY_CHARS = 40
MAX_PAGES_PER_INGEST = 10
PAGE_CONCURRENCY = 4


def needs_lead(article: Article) -> bool:
    """True when the feed gives an item with a link no usable text of its own."""
    if not article.url or not article.title:
        return False
    return len(make_summary(article.summary_source, title=article.title)) < MIN_SUMMARY_CHARS


async def add_page_leads(
    sessionmaker: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
    source: SourceRecord,
    articles: Sequence[Article],
    now: datetime,
) -> list[Article]:
    """``articles`` with the page lead as ``summary_source`` of the new title-only ones."""
    if source.never_fetched or not any(needs_lead(a) for a in articles):
        return list(articles)
    async with sessionmaker() as session:
        guids = [a.guid for a in articles]
        urls = [a.url for a in articles]
        known_guids = await article_store.known_guids(session, source.id, guids)
        known_guids |= await retention.pruned_guids(session, source.id, guids)
        known_urls = await article_store.known_urls(session, urls)
        known_urls |= await retention.pruned_urls(session, urls)
        wanted = [a.url for a in select_new(articles, known_guids, known_urls) if needs_lead(a)]
        wanted = list(dict.fromkeys(wanted))[:MAX_PAGES_PER_INGEST]
        leads = await pages.cached_leads(session, wanted)
    missing = [url for url in wanted if url not in leads]
    if missing:
        limit = asyncio.Semaphore(PAGE_CONCURRENCY)

        async def fetch(url: str) -> str:
            async with limit:
                return await fetch_lead(http, url)

        fetched = dict(zip(missing, await asyncio.gather(*map(fetch, missing)), strict=True))
        async with sessionmaker() as session, session.begin():
            await pages.save_leads(session, fetched, now)
        leads.update(fetched)
    return [
        dataclasses.replace(a, summary_source=leads[a.url]) if leads.get(a.url) else a
        for a in articles
    ]
