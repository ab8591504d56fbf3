"""Retrieve a feed's bytes over HTTP; parsing them is ``bot.feeds.parse``'s job.

One function, :func:`fetch_feed`, does a polite conditional GET: validators
from the last fetch, a total timeout, a size cap, a bounded number of
redirects. It raises only the tree in ``bot.feeds.errors``::

    FetchError                  network, timeout, DNS, TLS, too many redirects
    ├── HTTPStatusError         a status other than 2xx/304, with retry_after
    └── TooLargeError           body over max_bytes

The session is passed in because the application owns one ``ClientSession``
for its lifetime (STYLE.md, practice 8). Content encodings (gzip, deflate) are
decoded by that session, as aiohttp does by default.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from bot.feeds.errors import FeedError, FetchError, HTTPStatusError, TooLargeError

logger = logging.getLogger(__name__)

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.1"
)
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one successful fetch returned.

    ``status`` is 304 when the validators matched (then ``body`` is ``None``),
    otherwise the 2xx status, normally 200. ``etag`` and ``last_modified`` are the
    validators to send next time; on a 304 that omits them, the ones that were
    sent are carried over so they are not lost.
    """

    url: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    # The timeout is handed to aiohttp (ClientTimeout), which applies it to body reads too.
    timeout: float = 20.0,  # noqa: ASYNC109
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> FetchResult:
    """GET ``url`` and return its body, or a 304 result when it has not changed.

    ``timeout`` bounds the whole exchange, body included, so a server that
    trickles bytes cannot hold a poller slot forever.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with session.get(
            url,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=True,
            # aiohttp raises on the Nth redirect response, so N follows N - 1 of them.
            max_redirects=MAX_REDIRECTS + 1,
        ) as response:
            result = await _read_response(
                response, url=url, etag=etag, last_modified=last_modified, max_bytes=max_bytes
            )
    except FeedError:
        raise
    except aiohttp.TooManyRedirects as exc:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", url=url) from exc
    except TimeoutError as exc:
        # Before ClientError: aiohttp's ServerTimeoutError is both, and this message is clearer.
        raise FetchError(f"timed out after {timeout:g}s", url=url) from exc
    except (aiohttp.ClientError, ValueError) as exc:
        # ValueError: a host label too long for IDNA escapes aiohttp as a raw UnicodeError.
        raise FetchError(f"{type(exc).__name__}: {exc}", url=url) from exc
    logger.debug("fetched %s: status %d, final URL %s", url, result.status, result.url)
    return result


async def _read_response(
    response: aiohttp.ClientResponse,
    *,
    url: str,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
) -> FetchResult:
    final_url = str(response.url)
    new_etag = response.headers.get("ETag") or etag
    new_last_modified = response.headers.get("Last-Modified") or last_modified
    content_type = response.headers.get("Content-Type")
    if response.status == 304:
        return FetchResult(final_url, 304, None, new_etag, new_last_modified, content_type)
    if not 200 <= response.status < 300:
        raise HTTPStatusError(
            url=url, status=response.status, retry_after=_retry_after(response.headers)
        )
    # Content-Length counts the encoded bytes; the streamed count below catches the rest.
    if response.content_length is not None and response.content_length > max_bytes:
        raise TooLargeError(url=url, max_bytes=max_bytes)
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK_SIZE):
        body += chunk
        if len(body) > max_bytes:
            raise TooLargeError(url=url, max_bytes=max_bytes)
    return FetchResult(
        final_url, response.status, bytes(body), new_etag, new_last_modified, content_type
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3).

    The header is either delay-seconds or an HTTP-date. A date is measured
    against the response's own ``Date`` header when there is one, so a skewed
    local clock does not stretch or shrink the wait.
    """
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    retry_at = _http_date(value)
    if retry_at is None:
        return None
    now = _http_date(headers.get("Date", "")) or datetime.now(UTC)
    return max(0.0, (retry_at - now).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
