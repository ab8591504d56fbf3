"""Cost per article of our processing next to feedparser's own parse of the same feeds.

Run: ``python -m bench.processing``. "Ours" is what an ingest does to each item after
fetching: normalise, summarise, classify, and match against 10,000 keyword watches (plus
``bot.dedupe.signature`` for story clustering). "feedparser" is ``feedparser.parse`` of the
same bytes, per article. Each figure is the best of several rounds, to keep noise out.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import feedparser

from bench.labelled import FEEDS
from bot.dedupe import signature
from bot.feeds.normalize import normalize_feed
from bot.feeds.parse import ParsedFeed, parse_feed
from bot.keywords import KeywordMatcher
from bot.summary import make_summary
from bot.topics import load_catalogue

ROUNDS = 5
WATCHES = 10_000
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _best(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _watches(feeds: list[ParsedFeed]) -> list[str]:
    """10,000 watches built from the feeds' own words, so many of them really match."""
    words = sorted(
        {
            w.casefold()
            for feed in feeds
            for entry in feed.entries
            for w in re.findall(r"[^\W\d_]{4,}", entry.title)
        }
    )
    rng = random.Random(6)
    watches: set[str] = set()
    while len(watches) < WATCHES:
        kind = rng.random()
        if kind < 0.6:
            watches.add(rng.choice(words))
        elif kind < 0.8:
            watches.add(" ".join(rng.sample(words, 2)))  # a phrase
        else:
            required, vetoed = rng.sample(words, 2)
            watches.add(f"{required} -{vetoed}")
    return sorted(watches)


def main() -> None:
    paths = sorted(p for p in FEEDS.iterdir() if p.suffix in {".xml", ".json"})
    bodies = [(p.name, p.read_bytes()) for p in paths]
    xml_bodies = [body for name, body in bodies if not name.endswith(".json")]
    parsed = [parse_feed(body, url=f"https://fixtures.example/{name}") for name, body in bodies]
    catalogue = load_catalogue()
    watches = _watches(parsed)
    matcher = KeywordMatcher(watches)
    articles = sum(len(feed.entries) for feed in parsed)
    xml_articles = sum(
        len(feed.entries)
        for (name, _), feed in zip(bodies, parsed, strict=True)
        if not name.endswith(".json")
    )

    def feedparser_parse() -> None:
        for body in xml_bodies:
            feedparser.parse(body, sanitize_html=False)

    def ours() -> None:
        for feed in parsed:
            for article in normalize_feed(
                feed, feed_url="https://fixtures.example/", fetched_at=NOW
            ):
                summary = make_summary(article.summary_source, title=article.title)
                catalogue.classify(article.title, summary, article.categories)
                matcher.matches("\n".join((article.title, summary, *article.categories)))
                signature(article.title, summary)

    parse_cost = _best(feedparser_parse) / xml_articles
    our_cost = _best(ours) / articles
    print("command: python -m bench.processing")
    print(f"feeds: {len(bodies)} fixture files, {articles} articles; watches: {len(watches)}")
    print(f"feedparser.parse:                               {parse_cost * 1e6:8.1f} µs/article")
    print(f"normalise+summarise+classify+match+signature:   {our_cost * 1e6:8.1f} µs/article")
    print(f"ratio (ours / feedparser):                      {our_cost / parse_cost:8.2f}×")


if __name__ == "__main__":
    main()
