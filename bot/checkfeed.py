"""`newsbot check-feed URL_OR_FILE [--json]`: what the bot would make of a feed, before adding it.

The items go through the same steps as an ingest (parse, normalise, summarise, classify) plus
story clustering, without a database: an operator sees each item's title, link, time, summary,
topics and story cluster. Items of one feed that repeat each other word for word (headline and
lead) share a cluster id, the 1-based position of the cluster's first item: one feed is one
source, and ingest merges a source's items only then (bot.stories). Untitled items, which
ingest skips, are counted on stderr.

Exceptions::

    CheckFeedError    the URL cannot be fetched or the file read, or the bytes are not a feed;
                      the message is one line for stderr
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import aiohttp

from bot.dedupe import signature
from bot.feeds.errors import FeedError
from bot.feeds.fetch import fetch_feed
from bot.feeds.normalize import normalize_feed
from bot.feeds.parse import parse_feed
from bot.summary import make_summary
from bot.topics import CatalogueError, TopicCatalogue, load_catalogue

XML_POSITION = re.compile(r"^<unknown>:(\d+):(\d+): ")

_WEB_SCHEMES = ("http", "https")
FETCH_TIMEOUT = 20.0
FETCH_MAX_BYTES = 5 * 1024 * 1024
EXIT_UNREADABLE = 1
EXIT_CONFIG = 2


class CheckFeedError(Exception):
    """The feed could not be read; str(error) is one line for the operator."""


@dataclass(frozen=True, slots=True)
class CheckedItem:
    """One feed item as the bot would store and classify it."""

    title: str
    link: str
    published: datetime | None
    summary: str
    topics: tuple[str, ...]
    story: int

    def as_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "link": self.link,
            "published": self.published.isoformat() if self.published else None,
            "summary": self.summary,
            "topics": list(self.topics),
            "story": self.story,
        }


class CheckedFeed(NamedTuple):
    """A feed's items as the bot sees them, and how many it skips for having no title."""

    items: list[CheckedItem]
    untitled: int


def inspect_feed(
    body: bytes,
    *,
    url: str,
    catalogue: TopicCatalogue,
    now: datetime,
    content_type: str | None = None,
) -> CheckedFeed:
    """Parse, normalise, summarise, classify and cluster a feed's items, as ingest does."""
    feed = parse_feed(body, url=url, content_type=content_type)
    articles = normalize_feed(feed, feed_url=url, fetched_at=now)
    items: list[CheckedItem] = []
    repeated: dict[tuple[int, ...] | int, int] = {}
    untitled = 0
    for article in articles:
        if not article.title:  # ingest stores no untitled item: nothing to alert with
            untitled += 1
            continue
        position = len(items) + 1
        summary = make_summary(article.summary_source, title=article.title)
        topics = catalogue.classify(article.title, summary, article.categories)
        # One feed is one source: as in ingest (bot.stories), its items are one story only
        # when it repeats a headline and lead word for word.
        story = repeated.setdefault(signature(article.title, summary) or position, position)
        items.append(
            CheckedItem(
                title=article.title,
                link=article.url,
                # normalise gives an undated item the fetch time; the operator should see
                # that the feed gave none.
                published=None if article.published_at == now else article.published_at,
                summary=summary,
                topics=tuple(sorted(topics)),
                story=story,
            )
        )
    return CheckedFeed(items, untitled)


async def read_target(target: str) -> tuple[bytes, str, str | None]:
    """The bytes of a feed URL or file, the URL to resolve links against, and its type."""
    if urlsplit(target).scheme.lower() in _WEB_SCHEMES:
        try:
            async with aiohttp.ClientSession() as http:
                result = await fetch_feed(
                    http, target, timeout=FETCH_TIMEOUT, max_bytes=FETCH_MAX_BYTES
                )
        except FeedError as error:
            raise CheckFeedError(f"cannot fetch {target}: {error}") from error
        if result.body is None:
            raise CheckFeedError(f"cannot fetch {target}: the server sent no body")
        return result.body, result.url, result.content_type
    return await asyncio.to_thread(_read_file, target)


def _read_file(target: str) -> tuple[bytes, str, str | None]:
    path = Path(target)
    try:
        body = path.read_bytes()
    except OSError as error:
        raise CheckFeedError(f"cannot read {target}: {error.strerror or error}") from error
    return body, path.resolve().as_uri(), None


async def check_feed(target: str, catalogue: TopicCatalogue) -> CheckedFeed:
    """Fetch or read ``target`` and inspect its items."""
    body, url, content_type = await read_target(target)
    try:
        return inspect_feed(
            body,
            url=url,
            catalogue=catalogue,
            now=datetime.now(UTC).replace(microsecond=0),
            content_type=content_type,
        )
    except FeedError as error:
        raise CheckFeedError(f"{target} is not a feed: {_parse_reason(error)}") from error


def _parse_reason(error: FeedError) -> str:
    """The parser's reason once: without its own "not a feed: " and the URL the line names
    already, and with expat's "<unknown>:2:0:" as a line and column."""
    reason = str(error)
    url = getattr(error, "url", None)
    if url:
        reason = reason.removesuffix(f" ({url})")
    reason = reason.removeprefix("not a feed: ")
    return XML_POSITION.sub(r"line \1, column \2: ", reason)


def render_json(items: Sequence[CheckedItem]) -> str:
    return json.dumps([item.as_json() for item in items], ensure_ascii=False, indent=2)


def render_text(items: Sequence[CheckedItem]) -> str:
    """A readable listing, one block per item, blank line between blocks."""
    blocks = []
    for number, item in enumerate(items, start=1):
        published = item.published.isoformat() if item.published else "(no date in the feed)"
        lines = [
            f"{number}. {item.title}",
            f"   link:      {item.link or '(none)'}",
            f"   published: {published}",
            f"   topics:    {', '.join(item.topics) or '(none)'}",
            f"   story:     {item.story}"
            + ("" if item.story == number else f" (same story as item {item.story})"),
            f"   summary:   {item.summary or '(none)'}",
        ]
        blocks.append("\n".join(lines))
    blocks.append(f"{len(items)} items")
    return "\n\n".join(blocks)


def run_check_feed(target: str, *, as_json: bool, topics_file: Path | None) -> int:
    """The `check-feed` verb: print the items, or one line on stderr and exit code 1 or 2."""
    try:
        catalogue = load_catalogue(topics_file)
    except CatalogueError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        items, untitled = asyncio.run(check_feed(target, catalogue))
    except CheckFeedError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(render_json(items) if as_json else render_text(items))
    if untitled:
        print(
            f"newsbot: {untitled} item(s) without a title left out (the bot skips them too)",
            file=sys.stderr,
        )
    return 0
