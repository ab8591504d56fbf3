"""Pure decisions of the ingest pipeline: which items are new, and when to fetch next.

No I/O and no clock here: everything comes in as arguments, so each rule is tested on its own.
The database still has the last word on novelty (its unique keys), these only save work.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from bot.feeds.normalize import Article

MAX_BACKOFF = timedelta(hours=6)


def should_push(source_never_fetched: bool) -> bool:
    """A source's first successful fetch fills `/latest` but alerts nobody.

    Its items were published before the bot knew the source; pushing them would flood every
    subscriber with old news the moment a source is added.
    """
    return not source_never_fetched


def select_new(
    articles: Sequence[Article], known_guids: Collection[str], known_urls: Collection[str]
) -> list[Article]:
    """The articles not seen before, by guid within the source and by URL across sources."""
    fresh = []
    for article in articles:
        if article.guid in known_guids or (article.url and article.url in known_urls):
            continue
        fresh.append(article)
    return fresh


def next_fetch_time(
    now: datetime,
    interval: float,
    *,
    consecutive_errors: int = 0,
    retry_after: float | None = None,
    jitter: float = 0.0,
) -> datetime:
    """When to fetch a source again.

    After errors the interval doubles per consecutive failure up to `MAX_BACKOFF`, so a dead
    feed costs little; a server's Retry-After is honoured when it asks for longer. `jitter`
    (0..1, chosen by the caller) spreads retries so failing sources don't fetch in lockstep.
    """
    delay = timedelta(seconds=interval)
    if consecutive_errors > 0:
        delay = min(delay * (2 ** min(consecutive_errors, 16)), max(MAX_BACKOFF, delay))
        delay += delay * 0.1 * jitter
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return now + delay


def random_jitter() -> float:
    return random.random()
