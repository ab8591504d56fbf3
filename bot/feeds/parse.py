"""Turn a feed document's bytes into raw entries, keeping what the feed said.

RSS 0.9x/1.0/2.0 and Atom go through feedparser; JSON Feed 1.0/1.1 is read by
hand because feedparser does not know it. Nothing here cleans or judges the
entries beyond what the format implies: ``bot.feeds.normalize`` does that.

Raises only::

    ParseError      the bytes are not a feed (HTML page, garbage, empty) or nothing usable

A malformed feed that feedparser recovered entries from is not an error: it is
returned with ``bozo=True`` (real feeds are often broken in small ways, e.g. a
newline before the XML declaration).
"""

import calendar
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.feeds.errors import ParseError

logger = logging.getLogger(__name__)

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"
_UTF8_BOM = b"\xef\xbb\xbf"
_WEB_SCHEMES = ("http://", "https://")


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One item as the feed gave it.

    ``link`` may be relative and ``title``/``summary``/``content`` may hold HTML
    or entities. ``published`` is aware UTC, or ``None`` when the feed gives no
    date or one that cannot be read (e.g. Italian or Portuguese month names).
    """

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed. ``link`` is the channel's home page, the base for relative item links."""

    title: str
    link: str | None
    entries: tuple[RawEntry, ...]
    bozo: bool


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document fetched from ``url``.

    A body that starts with ``{`` is read as JSON Feed whatever the declared
    type, and anything else goes to feedparser: servers mislabel feeds often
    enough that the bytes are a better witness than ``Content-Type``. The
    declared type is still passed to feedparser, whose charset handling uses it.

    ``url`` is not given to feedparser as the document's base: an RSS item's
    relative link is relative to the publisher's site, which is the channel
    link and often a different host from the feed (``rss.nytimes.com`` serving
    ``www.nytimes.com``). Links therefore stay as written, and the normaliser
    resolves them against the channel link first, as miniflux does.
    """
    if not body.strip():
        raise ParseError("empty body", url=url)
    if _looks_like_json(body):
        return _parse_json_feed(body, url=url)
    return _parse_xml_feed(body, url=url, content_type=content_type)


def _looks_like_json(body: bytes) -> bool:
    return body.removeprefix(_UTF8_BOM).lstrip().startswith(b"{")


def _parse_xml_feed(body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    headers = {"content-type": content_type} if content_type else {}
    # No sanitising: feedparser's sanitiser drops elements such as <template> but keeps their
    # text, so a tooltip ("A hromada is an administrative unit…") would land mid-sentence in
    # a summary. Nothing from a feed is ever rendered as HTML here: bot.summary reads the
    # markup, dropping scripts, styles and templates whole, and the sender escapes the text.
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    bozo = bool(parsed.get("bozo", False))
    title = _text(feed.get("title"))
    if not entries:
        # feedparser leaves version empty when no RSS/Atom root element was found.
        if not parsed.get("version"):
            raise ParseError(f"not a feed: {_reason(parsed)}", url=url)
        if bozo and not title:
            raise ParseError(f"malformed feed with no entries: {_reason(parsed)}", url=url)
    if bozo:
        logger.debug("%s: recovered from a malformed feed: %s", url, _reason(parsed))
    return ParsedFeed(
        title=title,
        link=_optional_text(feed.get("link")),
        entries=tuple(_xml_entry(entry) for entry in entries),
        bozo=bozo,
    )


def _reason(parsed: Mapping[str, Any]) -> str:
    exception = parsed.get("bozo_exception")
    return str(exception) if exception is not None else "no RSS or Atom element"


def _xml_entry(entry: Mapping[str, Any]) -> RawEntry:
    return RawEntry(
        guid=_optional_text(entry.get("id")),
        link=_xml_link(entry),
        title=_text(entry.get("title")),
        summary=_text(entry.get("summary")),
        content=_xml_content(entry),
        published=_xml_published(entry),
        categories=_categories(tag.get("term") for tag in entry.get("tags") or ()),
    )


def _xml_link(entry: Mapping[str, Any]) -> str | None:
    """The article's link: FeedBurner's original link over its ``~r/`` redirect.

    When an item has no link, feedparser copies the guid into ``link``
    (``guidislink``). That is right for a permalink guid but not for an Atom
    ``tag:`` id or a bare UUID, so a copied guid counts only if it is a web URL.
    """
    origlink = _optional_text(entry.get("feedburner_origlink"))
    if origlink:
        return origlink
    link = _optional_text(entry.get("link"))
    if link and entry.get("guidislink") and not link.lower().startswith(_WEB_SCHEMES):
        return None
    return link


def _xml_content(entry: Mapping[str, Any]) -> str:
    for content in entry.get("content") or ():
        value = _text(content.get("value"))
        if value.strip():
            return value
    return ""


def _xml_published(entry: Mapping[str, Any]) -> datetime | None:
    # The "in" test matters: reading a missing updated_parsed makes feedparser
    # fall back to published_parsed with a DeprecationWarning (an error under
    # pytest), while its "in" does not fall back.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if key in entry and entry[key] is not None:
            published = _from_struct_time(entry[key])
            if published is not None:
                return published
    return None


def _from_struct_time(value: time.struct_time) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC ``struct_time``s."""
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_json_feed(body: bytes, *, url: str) -> ParsedFeed:
    """Read a JSON Feed (https://www.jsonfeed.org/version/1.1/)."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"invalid JSON: {exc}", url=url) from exc
    if not isinstance(document, dict):
        raise ParseError("JSON document is not a JSON Feed", url=url)
    version = document.get("version")
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION_PREFIX):
        raise ParseError("JSON document is not a JSON Feed", url=url)
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed has no items list", url=url)
    entries = tuple(_json_entry(item) for item in items if isinstance(item, dict))
    return ParsedFeed(
        title=_text(document.get("title")),
        link=_optional_text(document.get("home_page_url")),
        entries=entries,
        # Items that are not objects were skipped: the same kind of recovery as bozo.
        bozo=len(entries) != len(items),
    )


def _json_entry(item: Mapping[str, Any]) -> RawEntry:
    identifier = item.get("id")
    # The spec says id is a string, but some publishers emit numbers.
    if isinstance(identifier, int | float) and not isinstance(identifier, bool):
        identifier = str(identifier)
    tags = item.get("tags")
    return RawEntry(
        guid=_optional_text(identifier),
        link=_optional_text(item.get("url")) or _optional_text(item.get("external_url")),
        title=_text(item.get("title")),
        summary=_text(item.get("summary")),
        content=_text(item.get("content_html")) or _text(item.get("content_text")),
        published=_rfc3339(item.get("date_published")) or _rfc3339(item.get("date_modified")),
        categories=_categories(tags if isinstance(tags, list) else ()),
    )


def _rfc3339(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # RFC 3339 requires an offset; a missing one is most likely UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _categories(terms: Iterable[object]) -> tuple[str, ...]:
    stripped = (term.strip() for term in terms if isinstance(term, str))
    return tuple(dict.fromkeys(term for term in stripped if term))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
