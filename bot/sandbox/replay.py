"""Replays bundled real feeds as if their publishers were writing right now.

Each feed is first served with only its oldest few items, so the bot's first fetch fills
`/latest` without alerting anyone (a source's first fetch never pushes). Then one withheld
item is published every few seconds, round robin across the feeds, newest on top, its
`pubDate` set to now so the alert reads as breaking news. When a feed runs out, its withheld
items are published again as a new "round": their guid and link get a `sandbox_replay=N`
mark, because the bot rightly ignores a story it has already seen (same guid or same
canonical URL), and the mark keeps the link opening the real article.

The bundled feeds are RSS 2.0; only `<item>`, `<pubDate>`, `<dc:date>`, `<guid>` and
`<link>` are rewritten, by byte-level substitution so everything else stays as published.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from importlib import resources

from bot.clock import Clock
from bot.sandbox.feeds import ITEM, FeedServer
from bot.sources import SourceConfig

logger = logging.getLogger(__name__)

PUB_DATE = re.compile(rb"<pubDate>.*?</pubDate>", re.S)
DC_DATE = re.compile(rb"<dc:date>.*?</dc:date>", re.S)
GUID = re.compile(rb"(<guid[^>]*>)(.*?)(</guid>)", re.S)
LINK = re.compile(rb"(<link>)(.*?)(</link>)", re.S)
CDATA = re.compile(rb"^\s*<!\[CDATA\[(.*)\]\]>\s*$", re.S)
TITLE = re.compile(rb"<title>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</title>", re.S)
MAX_VISIBLE = 30


@dataclass(frozen=True, slots=True)
class BundledFeed:
    """A feed shipped in `bot/sandbox/data`, served at `path`."""

    name: str
    path: str
    filename: str

    def read(self) -> bytes:
        return resources.files("bot.sandbox").joinpath("data", self.filename).read_bytes()


BUNDLED_FEEDS = (
    BundledFeed("The Kyiv Independent", "/kyivindependent.rss", "kyivindependent.rss.xml"),
    BundledFeed("Ukrainska Pravda", "/ukrainskapravda.rss", "ukrainskapravda.rss.xml"),
    BundledFeed("Ukrinform", "/ukrinform.rss", "ukrinform.rss.xml"),
)


@dataclass(frozen=True, slots=True)
class FeedParts:
    """A feed cut around its items: `head + b"".join(items) + tail` is the original, less
    whatever lay between two items (whitespace, in real feeds)."""

    head: bytes
    items: tuple[bytes, ...]
    tail: bytes

    def with_items(self, items: Sequence[bytes]) -> bytes:
        return self.head + b"".join(items) + self.tail


def split_feed(feed: bytes) -> FeedParts:
    """Cut an RSS feed into the bytes before its first item, its items, and the rest."""
    matches = list(ITEM.finditer(feed))
    if not matches:
        raise ValueError("the feed has no <item>")
    items = tuple(match.group(0) for match in matches)
    return FeedParts(feed[: matches[0].start()], items, feed[matches[-1].end() :])


def restamp(item: bytes, now: datetime, replay_round: int = 1) -> bytes:
    """The item as published at `now`; from round 2 on, with a guid and link of its own."""
    item = PUB_DATE.sub(b"<pubDate>" + format_datetime(now).encode() + b"</pubDate>", item)
    item = DC_DATE.sub(b"<dc:date>" + now.isoformat().encode() + b"</dc:date>", item)
    if replay_round > 1:
        mark = b"sandbox_replay=%d" % replay_round
        item = GUID.sub(lambda m: m[1] + _mark_text(m[2], b"#" + mark) + m[3], item, count=1)
        item = LINK.sub(lambda m: m[1] + _mark_text(m[2], _query_mark(m[2], mark)) + m[3], item)
    return item


def item_title(item: bytes) -> str:
    """The item's title as plain text, for the replayer's log."""
    match = TITLE.search(item)
    return match[1].decode("utf-8", "replace").strip() if match else "(untitled)"


def _query_mark(url: bytes, mark: bytes) -> bytes:
    inner = CDATA.match(url)
    text = inner[1] if inner else url
    return (b"&" if b"?" in text else b"?") + mark


def _mark_text(text: bytes, suffix: bytes) -> bytes:
    """Append `suffix` to an element's text, inside its CDATA section when it has one."""
    inner = CDATA.match(text)
    if inner:
        return b"<![CDATA[" + inner[1].strip() + suffix + b"]]>"
    return text.strip() + suffix


@dataclass
class _FeedState:
    feed: BundledFeed
    parts: FeedParts
    withheld: tuple[bytes, ...]
    visible: list[bytes]
    queue: list[bytes] = field(default_factory=list)
    replay_round: int = 0

    def next_item(self) -> tuple[bytes, int]:
        """The next item to publish and its replay round (1, then 2 once all were out…)."""
        if not self.queue:
            self.replay_round += 1
            # Oldest withheld item first, so each feed reads in publication order.
            self.queue = list(reversed(self.withheld))
        return self.queue.pop(0), self.replay_round


class FeedReplayer:
    """Serves the bundled feeds on a `FeedServer` and publishes one withheld item at a time."""

    def __init__(
        self,
        server: FeedServer,
        clock: Clock,
        *,
        feeds: Sequence[BundledFeed] = BUNDLED_FEEDS,
        keep: int = 3,
    ) -> None:
        """`keep` items of each feed (its oldest) are there from the start; the rest are
        withheld and published one by one."""
        self._server = server
        self._clock = clock
        self._feeds = list(feeds)
        self._keep = keep
        self._states: list[_FeedState] = []
        self._turn = 0
        self.published: list[str] = []

    def sources(self) -> list[SourceConfig]:
        """The bot's sources: one per bundled feed, on the running feed server."""
        return [SourceConfig(url=self._server.url(f.path), name=f.name) for f in self._feeds]

    def start(self) -> None:
        """Serve every feed with its newest items withheld."""
        self._states = []
        for feed in self._feeds:
            parts = split_feed(feed.read())
            shown = max(0, min(self._keep, len(parts.items) - 1))
            cut = len(parts.items) - shown
            state = _FeedState(feed, parts, parts.items[:cut], list(parts.items[cut:]))
            self._states.append(state)
            self._server.serve(feed.path, parts.with_items(state.visible))

    def publish_next(self) -> str:
        """Publish one withheld item (round robin across feeds); returns its title."""
        if not self._states:
            raise RuntimeError("start() the replayer first")
        state = self._states[self._turn % len(self._states)]
        self._turn += 1
        item, replay_round = state.next_item()
        fresh = restamp(item, self._clock.now(), replay_round)
        state.visible = [fresh, *state.visible][:MAX_VISIBLE]
        self._server.serve(state.feed.path, state.parts.with_items(state.visible))
        title = item_title(item)
        self.published.append(title)
        logger.info("Sandbox: %s published %r", state.feed.name, title)
        return title

    async def run(self, every: float) -> None:
        """Publish one item every `every` seconds until cancelled."""
        while True:
            await asyncio.sleep(every)
            self.publish_next()
