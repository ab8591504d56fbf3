"""Ingest: fetch → parse → normalise → store → classify → match subscribers → outbox.

One ingest of one source is one unit of work and one transaction: its new articles, their
topics, the alerts they cause and the source's new fetch state are committed together, so a
crash midway neither loses an alert nor stores an article whose alerts were never queued.

A broken source never stops the others: its error is recorded on its row and logged, and it
is fetched again later with exponential backoff (see `bot.decisions.next_fetch_time`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.decisions import next_fetch_time, random_jitter, select_new, should_push
from bot.feeds.errors import FeedError, HTTPStatusError
from bot.feeds.fetch import fetch_feed
from bot.feeds.normalize import Article, normalize_feed
from bot.feeds.parse import parse_feed
from bot.keywords import KeywordMatcher
from bot.leads import add_page_leads
from bot.stories import assign_stories
from bot.summary import make_summary
from bot.topics import TopicCatalogue
from storage import articles as article_store
from storage import chats as chat_store
from storage import edits, outbox, retention
from storage import sources as source_store
from storage.records import NewArticle, SourceRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestReport:
    source_id: int
    new_articles: int = 0
    alerts_queued: int = 0
    not_modified: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    default_interval: float
    timeout: float
    max_bytes: int
    # How long a claimed source stays this instance's (several instances share the table).
    lease: timedelta = timedelta(minutes=10)


HTTP_GONE = 410


class Ingestor:
    """Runs ingests of due sources concurrently, never two at once for the same source."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        http: aiohttp.ClientSession,
        catalogue: TopicCatalogue,
        clock: Clock,
        policy: FetchPolicy,
        concurrency: int,
        on_alerts: Callable[[], None],
        guarded_http: aiohttp.ClientSession | None = None,
        on_report: Callable[[IngestReport], None] | None = None,
        page_leads: bool = False,
    ) -> None:
        """`guarded_http` (bot.ssrf) fetches the sources chat admins added; `on_report`
        sees every ingest's outcome (metrics); `page_leads` fetches article pages for
        title-only items (bot.leads)."""
        self._page_leads = page_leads
        self._sessionmaker = sessionmaker
        self._http = http
        self._guarded_http = guarded_http
        self._on_report = on_report
        self._concurrency = concurrency
        self._catalogue = catalogue
        self._clock = clock
        self._policy = policy
        self._on_alerts = on_alerts
        self._semaphore = asyncio.Semaphore(concurrency)
        self._running: dict[int, asyncio.Task[IngestReport]] = {}
        self._matcher_key: frozenset[str] = frozenset()
        self._matcher = KeywordMatcher(())

    async def tick(self) -> int:
        """Claim due sources up to twice the fetch concurrency, start their ingests, return how
        many. The claim is a lease in the database, so several instances share the work."""
        room = 2 * self._concurrency - len(self._running)
        async with self._sessionmaker() as session, session.begin():
            due = await source_store.claim_due_sources(
                session, self._clock.now(), lease=self._policy.lease, limit=room
            )
        started = 0
        for source in due:
            if source.id in self._running:
                continue
            task = asyncio.get_running_loop().create_task(
                self._guarded(source), name=f"newsbot-ingest-{source.id}"
            )
            self._running[source.id] = task
            task.add_done_callback(self._forget)
            started += 1
        return started

    def _forget(self, task: asyncio.Task[IngestReport]) -> None:
        for source_id, running in list(self._running.items()):
            if running is task:
                del self._running[source_id]

    async def wait_idle(self) -> None:
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _guarded(self, source: SourceRecord) -> IngestReport:
        async with self._semaphore:
            try:
                report = await self.ingest(source)
            except Exception as error:
                # A bug or a database outage: log it loudly, schedule a retry, keep going.
                logger.exception("Ingest of %s failed unexpectedly", source.url)
                await self._record_failure(source, f"internal error: {error!r}", None)
                report = IngestReport(source_id=source.id, error=repr(error))
            if self._on_report is not None:
                self._on_report(report)
            return report

    def _interval(self, source: SourceRecord) -> float:
        return source.interval or self._policy.default_interval

    async def ingest(self, source: SourceRecord) -> IngestReport:
        """Fetch one source and take its new items all the way to the outbox."""
        try:
            result = await fetch_feed(
                self._session_for(source),
                source.url,
                etag=source.etag,
                last_modified=source.last_modified,
                timeout=self._policy.timeout,
                max_bytes=self._policy.max_bytes,
            )
            fetched_at = self._clock.now()
            if result.status == 304 or result.body is None:
                await self._record_success(
                    source,
                    fetched_at,
                    result.etag or source.etag,
                    result.last_modified or source.last_modified,
                )
                return IngestReport(source_id=source.id, not_modified=True)
            feed = parse_feed(result.body, url=result.url, content_type=result.content_type)
        except HTTPStatusError as error:
            if error.status == HTTP_GONE:
                await self._disable(source, str(error))
                return IngestReport(source_id=source.id, error=str(error))
            await self._record_failure(source, str(error), error.retry_after)
            return IngestReport(source_id=source.id, error=str(error))
        except FeedError as error:
            await self._record_failure(source, str(error), None)
            return IngestReport(source_id=source.id, error=str(error))

        articles = normalize_feed(feed, feed_url=result.url, fetched_at=fetched_at)
        if self._page_leads:
            articles = await add_page_leads(
                self._sessionmaker, self._session_for(source), source, articles, fetched_at
            )
        async with self._sessionmaker() as session, session.begin():
            report = await self._store(session, source, articles, fetched_at)
            await source_store.record_success(
                session,
                source.id,
                now=fetched_at,
                next_fetch_at=next_fetch_time(fetched_at, self._interval(source)),
                etag=result.etag,
                last_modified=result.last_modified,
            )
        if report.alerts_queued:
            self._on_alerts()
        logger.info(
            "Fetched %s: %d items, %d new, %d alerts queued%s",
            source.name,
            len(articles),
            report.new_articles,
            report.alerts_queued,
            " (first fetch: stored, not pushed)" if source.never_fetched else "",
        )
        return report

    async def _store(
        self,
        session: AsyncSession,
        source: SourceRecord,
        articles: list[Article],
        now: datetime,
    ) -> IngestReport:
        known_guids = await article_store.known_guids(
            session, source.id, (a.guid for a in articles)
        )
        known_urls = await article_store.known_urls(session, (a.url for a in articles))
        # Articles pruned by retention still count as seen (storage.retention), and their
        # tombstones are kept while feeds carry them.
        pruned_guids = await retention.pruned_guids(session, source.id, (a.guid for a in articles))
        pruned_urls = await retention.pruned_urls(session, (a.url for a in articles))
        if pruned_guids or pruned_urls:
            await retention.mark_seen(
                session, source.id, guids=pruned_guids, urls=pruned_urls, now=now
            )
        known_guids |= pruned_guids
        known_urls |= pruned_urls
        fresh = select_new(articles, known_guids, known_urls)
        if not fresh:
            return IngestReport(source_id=source.id)
        candidates = [
            NewArticle(
                guid=article.guid,
                url=article.url or None,
                title=article.title,
                summary=make_summary(article.summary_source, title=article.title),
                categories=article.categories,
                published_at=article.published_at,
            )
            for article in fresh
            if article.title
        ]
        inserted = await article_store.insert_new(session, source.id, candidates, now)
        # A story already told (by another source, or by this one word for word) is stored and
        # classified, and alerted only to chats that have not had it (bot.stories).
        assigned = await assign_stories(
            session, source.id, [(inserted[c.guid], c) for c in candidates if c.guid in inserted]
        )
        push = should_push(source.never_fetched)
        matcher = await self._keyword_matcher(session) if push else None
        queued = 0
        for candidate in candidates:
            article_id = inserted.get(candidate.guid)
            if article_id is None:
                continue
            topics = self._catalogue.classify(
                candidate.title, candidate.summary, candidate.categories
            )
            await article_store.set_topics(session, article_id, topics)
            if article_id in assigned.new_sources:
                # Chats already alerted to the story get "Also: <this source>" edited in.
                await edits.mark_story_edits(session, article_id, now=now)
            if matcher is None:
                continue
            text = "\n".join((candidate.title, candidate.summary, *candidate.categories))
            keywords = matcher.matches(text)
            chats = await chat_store.subscribers(
                session, topics=topics, keywords=keywords, subscribed_before=now
            )
            if article_id in assigned.repeats and chats:
                # One alert per story: only chats that had none for it get this one (they
                # match only this wording, or the first copy came from a first fetch).
                chats -= await edits.chats_alerted_to_story(session, article_id)
            queued += await outbox.enqueue(session, article_id, chats, now=now)
        return IngestReport(source_id=source.id, new_articles=len(inserted), alerts_queued=queued)

    async def _keyword_matcher(self, session: AsyncSession) -> KeywordMatcher:
        """One matcher for every watched keyword, rebuilt only when the set changes."""
        keywords = frozenset(await chat_store.active_keywords(session))
        if keywords != self._matcher_key:
            self._matcher = KeywordMatcher(keywords)
            self._matcher_key = keywords
        return self._matcher

    async def _record_success(
        self, source: SourceRecord, now: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        async with self._sessionmaker() as session, session.begin():
            await source_store.record_success(
                session,
                source.id,
                now=now,
                next_fetch_at=next_fetch_time(now, self._interval(source)),
                etag=etag,
                last_modified=last_modified,
            )

    def _session_for(self, source: SourceRecord) -> aiohttp.ClientSession:
        """Chat-added sources are untrusted: they go through the SSRF guard."""
        if source.origin == source_store.SourceOrigin.CHAT:
            if self._guarded_http is None:
                raise RuntimeError("a chat-added source needs the guarded HTTP session")
            return self._guarded_http
        return self._http

    async def _disable(self, source: SourceRecord, error: str) -> None:
        """410 Gone: the publisher says the feed is gone for good; stop fetching it."""
        logger.warning("Fetching %s: %s (gone): disabling the source", source.url, error)
        async with self._sessionmaker() as session, session.begin():
            await source_store.disable_source(
                session, source.id, now=self._clock.now(), error=error
            )

    async def _record_failure(
        self, source: SourceRecord, error: str, retry_after: float | None
    ) -> None:
        now = self._clock.now()
        next_at = next_fetch_time(
            now,
            self._interval(source),
            consecutive_errors=source.consecutive_errors + 1,
            retry_after=retry_after,
            jitter=random_jitter(),
        )
        logger.warning(
            "Fetching %s failed (%d in a row): %s; next try at %s",
            source.url,
            source.consecutive_errors + 1,
            error,
            next_at.isoformat(timespec="seconds"),
        )
        async with self._sessionmaker() as session, session.begin():
            await source_store.record_failure(
                session, source.id, now=now, next_fetch_at=next_at, error=error
            )
