"""The lead of an article page, for feed items that carry a headline and nothing else.

Fetched with the same bounded GET as feeds (``bot.feeds.fetch``: total timeout, size cap,
bounded redirects) and extracted with trafilatura, which drops navigation, footers and
comments. Extraction is CPU work on untrusted HTML, so it runs in a worker thread and the
page is capped in size before it gets there.

Failure is not an error here: a page that cannot be fetched or yields no text gives ``""``,
and the alert goes out with its headline alone, as before.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import trafilatura

from bot.feeds.errors import FeedError
from bot.feeds.fetch import fetch_feed

logger = logging.getLogger(__name__)

PAGE_TIMEOUT = 10.0
PAGE_MAX_BYTES = 2 * 1024 * 1024
# The extracted text kept: enough for the summariser's three sentences.
LEAD_MAX_CHARS = 2000


def extract_lead(page: bytes | str) -> str:
    """The main text of an article page, plain, or ``""`` when none is found."""
    if not page.strip():
        return ""  # trafilatura would log an empty document as an error
    try:
        text = trafilatura.extract(
            page,
            include_comments=False,
            include_tables=False,
            include_images=False,
            favor_precision=True,
        )
    except (ValueError, TypeError) as error:
        logger.debug("Extracting a page failed: %r", error)
        return ""
    return (text or "").strip()[:LEAD_MAX_CHARS]


async def fetch_lead(
    http: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float = PAGE_TIMEOUT,  # noqa: ASYNC109
    max_bytes: int = PAGE_MAX_BYTES,
) -> str:
    """Fetch ``url`` and return its lead text, or ``""`` when the page gives none."""
    try:
        result = await fetch_feed(http, url, timeout=timeout, max_bytes=max_bytes)
    except FeedError as error:
        logger.info("Article page %s not fetched: %s", url, error)
        return ""
    if not result.body:
        return ""
    return await asyncio.to_thread(extract_lead, result.body)
