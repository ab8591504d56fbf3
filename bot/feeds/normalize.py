"""Turn raw feed entries into normalised articles ready to store.

Normalising gives every article a stable identity (guid, canonical URL) and a
usable time, so that storage can enforce once-only delivery on
``(source, guid)`` and on the canonical URL. All functions are pure: the fetch
time is passed in, never read from a clock. Bad entries do not raise: one with
neither title nor link is dropped (``None``). A naive ``fetched_at`` is a
programming error and raises ``ValueError``.
"""

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from bot.feeds.parse import ParsedFeed, RawEntry

# Query parameters that only identify the campaign or click that led to a page.
# Removing them makes the same article shared through different channels one URL.
# Keys are compared case-insensitively.
TRACKING_PARAM_PREFIXES = (
    "utm_",  # Google Analytics campaign tags (utm_source, utm_medium, ...)
    "at_",  # AT Internet / Piano Analytics (at_medium, at_campaign, at_custom1, ...)
)
TRACKING_PARAMS = frozenset(
    {
        "fbclid",  # Facebook click id
        "gclid",  # Google Ads click ids
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",  # Microsoft Ads click id
        "yclid",  # Yandex click id
        "mc_cid",  # Mailchimp campaign and member ids
        "mc_eid",
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "igshid",  # Instagram share id
        "ocid",  # Microsoft/MSN campaign id
        "cmpid",  # campaign id
        "wt_mc",  # Webtrekk campaign (heise)
        "wt.mc_id",
        "smid",  # NYT share id
    }
)
FUTURE_TOLERANCE = timedelta(minutes=10)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAG = re.compile(r"<!--.*?-->|</?([a-zA-Z][a-zA-Z0-9:-]*)(?:\s[^<>]*)?/?>", re.DOTALL)
# Tags that break a line: removing them must leave a space, unlike inline tags.
_BREAKING_TAGS = frozenset({"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr"})
_WHITESPACE = re.compile(r"\s+")
_MAX_UNESCAPE_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Article:
    """A normalised entry. Text fields are plain text except ``summary_source``.

    ``guid`` is the entry's guid, else its canonical URL, else ``"sha1:"`` plus a
    hash of title and published time. ``url`` is ``""`` only when the entry had no
    link. ``title`` may be ``""``; callers decide whether to skip such articles.
    ``summary_source`` is raw HTML or text for the summariser to clean.
    """

    guid: str
    url: str
    title: str
    summary_source: str
    published_at: datetime
    categories: tuple[str, ...]


def canonical_url(url: str, *, base: str | None = None) -> str:
    """Return one spelling of ``url``, so the same article is recognised across feeds.

    Resolves against ``base``; lower-cases scheme and host; drops default ports,
    the fragment and tracking parameters (``TRACKING_PARAMS``,
    ``TRACKING_PARAM_PREFIXES``); keeps the other parameters as written and in
    order. ``http`` is not upgraded to ``https``: not every site serves both.
    """
    url = url.strip()
    if base:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(scheme, parts.netloc)
    path = parts.path
    if not path and netloc and scheme in _DEFAULT_PORTS:
        path = "/"
    return urlunsplit((scheme, netloc, path, _without_tracking(parts.query), ""))


def _canonical_netloc(scheme: str, netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    if hostport.startswith("["):  # IPv6 literal: [::1]:8080
        closing = hostport.find("]")
        if closing != -1:
            host, port = hostport[: closing + 1], hostport[closing + 1 :].removeprefix(":")
    elif ":" in hostport:
        host, port = hostport.rsplit(":", 1)
    if port and port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme):
        port = ""
    hostport = host.lower() + (f":{port}" if port else "")
    return f"{userinfo}{at}{hostport}"


def _without_tracking(query: str) -> str:
    # Filter the raw pairs instead of parsing and re-encoding: re-encoding would
    # change how the kept parameters are spelled (e.g. "%20" becoming "+").
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(kept)


def _is_tracking(pair: str) -> bool:
    key = unquote(pair.split("=", 1)[0]).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PARAM_PREFIXES)


def normalize_entry(
    entry: RawEntry, *, feed_link: str | None, feed_url: str, fetched_at: datetime
) -> Article | None:
    """Normalise one entry, or return ``None`` when it has neither title nor link.

    Relative links resolve against the channel link (the publisher's site) and,
    when the feed has none, against the feed URL. ``fetched_at`` must be aware:
    it stands in for a missing time and caps times in the future, which come
    from wrong time zones and would otherwise sort an item above real news.
    """
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    fetched_at = fetched_at.astimezone(UTC)
    title = _plain_text(entry.title)
    link = (entry.link or "").strip()
    url = canonical_url(link, base=_link_base(feed_link, feed_url)) if link else ""
    if not title and not url:
        return None
    published_at = entry.published.astimezone(UTC) if entry.published else fetched_at
    if published_at > fetched_at + FUTURE_TOLERANCE:
        published_at = fetched_at
    return Article(
        guid=_guid(entry, url=url, title=title),
        url=url,
        title=title,
        summary_source=_summary_source(entry),
        published_at=published_at,
        categories=entry.categories,
    )


def normalize_feed(feed: ParsedFeed, *, feed_url: str, fetched_at: datetime) -> list[Article]:
    """Normalise a feed's entries in feed order, keeping the first of any duplicates.

    Publishers repeat an item (same guid, or the same article under two guids);
    storing it once here keeps the per-feed batch free of self-conflicts.
    """
    articles: list[Article] = []
    seen_guids: set[str] = set()
    seen_urls: set[str] = set()
    for entry in feed.entries:
        article = normalize_entry(
            entry, feed_link=feed.link, feed_url=feed_url, fetched_at=fetched_at
        )
        if article is None or article.guid in seen_guids or article.url in seen_urls:
            continue
        seen_guids.add(article.guid)
        if article.url:
            seen_urls.add(article.url)
        articles.append(article)
    return articles


def _link_base(feed_link: str | None, feed_url: str) -> str:
    # The channel link may itself be relative (rare), so it is resolved first.
    return urljoin(feed_url, feed_link.strip()) if feed_link and feed_link.strip() else feed_url


def _guid(entry: RawEntry, *, url: str, title: str) -> str:
    if entry.guid:
        return entry.guid
    if url:
        return url
    # Built from the feed's own data only (never fetched_at), so the next fetch
    # of the same entry yields the same guid.
    published = entry.published.isoformat() if entry.published else ""
    digest = hashlib.sha1(f"{title}\n{published}".encode(), usedforsecurity=False)
    return "sha1:" + digest.hexdigest()


def _summary_source(entry: RawEntry) -> str:
    """Full content when it says more than the summary, else the summary.

    Compared as plain text: markup (a tracking pixel, empty paragraphs) must
    not make an empty ``content:encoded`` look longer than a real description.
    """
    if len(_plain_text(entry.content)) > len(_plain_text(entry.summary)):
        return entry.content.strip()
    return entry.summary.strip()


def _plain_text(markup: str) -> str:
    """Strip tags and decode entities, repeatedly for double-escaped text (``&amp;#39;``).

    The tag pattern needs a letter right after ``<``, so a title such as
    "Rates < 5% & > 2%" keeps its text.
    """
    text = markup
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        decoded = html.unescape(_TAG.sub(_tag_replacement, text))
        if decoded == text:
            break
        text = decoded
    return _WHITESPACE.sub(" ", text).strip()


def _tag_replacement(match: re.Match[str]) -> str:
    name = match.group(1)
    return " " if name and name.lower() in _BREAKING_TAGS else ""
