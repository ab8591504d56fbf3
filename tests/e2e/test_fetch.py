"""fetch_feed against a real aiohttp server on 127.0.0.1 serving fixture bytes."""

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.feeds.errors import FetchError, HTTPStatusError, TooLargeError
from bot.feeds.fetch import USER_AGENT, FetchResult, fetch_feed
from bot.feeds.parse import parse_feed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
FEED = (FIXTURES / "skynews-home-2022-04-05.rss.xml").read_bytes()
ETAG = '"sky-v1"'
LAST_MODIFIED = "Tue, 05 Apr 2022 21:30:00 GMT"
RSS_TYPE = "application/rss+xml; charset=utf-8"
SMALL_CAP = 64 * 1024
LONG_LABEL = "http://" + "a" * 70 + ".test/feed"  # over DNS's 63, so IDNA encoding fails


@dataclass
class FeedServer:
    """The routes a feed host might answer with, and the requests it saw."""

    base_url: str = ""
    requests: list[web.Request] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return self.base_url + path

    async def feed(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        if request.headers.get("If-None-Match") == ETAG or (
            request.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return web.Response(status=304, headers={"ETag": ETAG})
        return web.Response(
            body=FEED,
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED, "Content-Type": RSS_TYPE},
        )

    async def bare_304(self, request: web.Request) -> web.Response:
        return web.Response(status=304)

    async def redirect(self, request: web.Request) -> web.Response:
        hops = int(request.match_info["hops"])
        target = "/feed" if hops <= 1 else f"/redirect/{hops - 1}"
        raise web.HTTPMovedPermanently(location=target)

    async def status(self, request: web.Request) -> web.Response:
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        if "date" in request.query:
            headers["Date"] = request.query["date"]
        return web.Response(status=int(request.match_info["code"]), headers=headers)

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (SMALL_CAP + 1), content_type="application/xml")

    async def huge_declared(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        response.content_length = SMALL_CAP * 100
        await response.prepare(request)
        await response.write(b"z" * 100)
        await self.release.wait()
        return response

    async def big_chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(SMALL_CAP // 1024 + 8):
            await response.write(b"y" * 1024)
        await response.write_eof()
        return response

    async def gzipped(self, request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(FEED),
            headers={"Content-Encoding": "gzip", "Content-Type": RSS_TYPE},
        )

    async def gzip_bomb(self, request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b"\0" * (SMALL_CAP * 16)),
            headers={"Content-Encoding": "gzip", "Content-Type": RSS_TYPE},
        )

    async def silent(self, request: web.Request) -> web.Response:
        await self.release.wait()
        return web.Response(body=FEED)

    async def stalled_body(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(FEED[:100])
        await self.release.wait()
        return response


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed_server = FeedServer()
    app = web.Application()
    app.router.add_get("/feed", feed_server.feed)
    app.router.add_get("/bare-304", feed_server.bare_304)
    app.router.add_get("/redirect/{hops}", feed_server.redirect)
    app.router.add_get("/status/{code}", feed_server.status)
    app.router.add_get("/big", feed_server.big)
    app.router.add_get("/big-chunked", feed_server.big_chunked)
    app.router.add_get("/huge-declared", feed_server.huge_declared)
    app.router.add_get("/gzip", feed_server.gzipped)
    app.router.add_get("/gzip-bomb", feed_server.gzip_bomb)
    app.router.add_get("/silent", feed_server.silent)
    app.router.add_get("/stalled-body", feed_server.stalled_body)
    # handler_cancellation: a handler still waiting when the client gives up is cancelled.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    feed_server.base_url = f"http://{host}:{port}"
    yield feed_server
    feed_server.release.set()
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_200_returns_body_validators_and_content_type(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(session, server.url("/feed"))
    assert result == FetchResult(
        url=server.url("/feed"),
        status=200,
        body=FEED,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
        content_type=RSS_TYPE,
    )
    (request,) = server.requests
    assert request.headers["User-Agent"] == USER_AGENT
    assert "application/rss+xml" in request.headers["Accept"]
    assert "application/feed+json" in request.headers["Accept"]
    assert "If-None-Match" not in request.headers
    assert "If-Modified-Since" not in request.headers


async def test_fetched_bytes_parse(server: FeedServer, session: aiohttp.ClientSession) -> None:
    result = await fetch_feed(session, server.url("/feed"))
    assert result.body is not None
    feed = parse_feed(result.body, url=result.url, content_type=result.content_type)
    assert len(feed.entries) == 10


async def test_matching_etag_gives_304_without_body(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(session, server.url("/feed"), etag=ETAG)
    assert (result.status, result.body, result.etag) == (304, None, ETAG)
    assert server.requests[0].headers["If-None-Match"] == ETAG


async def test_matching_last_modified_gives_304_and_keeps_the_validator(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(session, server.url("/feed"), last_modified=LAST_MODIFIED)
    assert result.status == 304
    assert result.body is None
    # The 304 carries no Last-Modified; the one sent is kept for next time.
    assert result.last_modified == LAST_MODIFIED
    assert server.requests[0].headers["If-Modified-Since"] == LAST_MODIFIED


async def test_stale_validators_get_the_full_body(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(
        session,
        server.url("/feed"),
        etag='"old"',
        last_modified="Mon, 04 Apr 2022 00:00:00 GMT",
    )
    assert (result.status, result.body, result.etag) == (200, FEED, ETAG)


async def test_304_without_validators_keeps_the_ones_sent(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(
        session, server.url("/bare-304"), etag='"e"', last_modified=LAST_MODIFIED
    )
    assert (result.status, result.etag, result.last_modified) == (304, '"e"', LAST_MODIFIED)


async def test_redirects_are_followed_and_the_final_url_reported(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(session, server.url("/redirect/5"))
    assert result.status == 200
    assert result.url == server.url("/feed")
    assert result.body == FEED


async def test_more_than_five_redirects_is_a_fetch_error(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    url = server.url("/redirect/6")
    with pytest.raises(FetchError) as caught:
        await fetch_feed(session, url)
    assert type(caught.value) is FetchError
    assert caught.value.url == url
    assert isinstance(caught.value.__cause__, aiohttp.TooManyRedirects)


@pytest.mark.parametrize("code", [404, 410, 500, 502])
async def test_error_status_raises_http_status_error(
    server: FeedServer, session: aiohttp.ClientSession, code: int
) -> None:
    url = server.url(f"/status/{code}")
    with pytest.raises(HTTPStatusError) as caught:
        await fetch_feed(session, url)
    assert (caught.value.status, caught.value.retry_after, caught.value.url) == (code, None, url)


@pytest.mark.parametrize(
    ("query", "retry_after"),
    [
        ("retry_after=120", 120.0),
        ("retry_after=0", 0.0),
        # An HTTP-date is measured against the response's Date header.
        (
            "retry_after=Wed, 21 Oct 2015 07:30:00 GMT&date=Wed, 21 Oct 2015 07:28:00 GMT",
            120.0,
        ),
        (
            "retry_after=Wed, 21 Oct 2015 07:00:00 GMT&date=Wed, 21 Oct 2015 07:28:00 GMT",
            0.0,
        ),
        ("retry_after=soon", None),
        ("retry_after=-5", None),
    ],
)
@pytest.mark.parametrize("code", [429, 503])
async def test_retry_after_is_read(
    server: FeedServer,
    session: aiohttp.ClientSession,
    code: int,
    query: str,
    retry_after: float | None,
) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await fetch_feed(session, server.url(f"/status/{code}?{query}"))
    assert caught.value.status == code
    assert caught.value.retry_after == retry_after


async def test_retry_after_date_without_a_date_header_uses_the_local_clock(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    retry_at = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3600))
    with pytest.raises(HTTPStatusError) as caught:
        # An unreadable Date header is ignored like a missing one.
        await fetch_feed(session, server.url(f"/status/503?retry_after={retry_at}&date=nonsense"))
    assert caught.value.retry_after is not None
    assert 3500 < caught.value.retry_after <= 3600


async def test_content_length_over_the_cap_is_too_large(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TooLargeError) as caught:
        await fetch_feed(session, server.url("/big"), max_bytes=SMALL_CAP)
    assert caught.value.max_bytes == SMALL_CAP


async def test_content_length_is_checked_before_reading(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    # The body never completes, so only the Content-Length check can answer in time.
    started = time.monotonic()
    with pytest.raises(TooLargeError):
        await fetch_feed(session, server.url("/huge-declared"), max_bytes=SMALL_CAP, timeout=5)
    assert time.monotonic() - started < 2.0


async def test_exactly_the_cap_is_allowed(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await fetch_feed(session, server.url("/big"), max_bytes=SMALL_CAP + 1)
    assert result.body is not None
    assert len(result.body) == SMALL_CAP + 1


async def test_chunked_body_over_the_cap_is_too_large(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TooLargeError):
        await fetch_feed(session, server.url("/big-chunked"), max_bytes=SMALL_CAP)


async def test_gzip_body_is_decoded(server: FeedServer, session: aiohttp.ClientSession) -> None:
    result = await fetch_feed(session, server.url("/gzip"))
    assert result.body == FEED


async def test_cap_applies_to_the_decoded_size(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TooLargeError):
        await fetch_feed(session, server.url("/gzip-bomb"), max_bytes=SMALL_CAP)


@pytest.mark.parametrize("path", ["/silent", "/stalled-body"])
async def test_a_server_that_does_not_finish_times_out_as_fetch_error(
    server: FeedServer, session: aiohttp.ClientSession, path: str
) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        await fetch_feed(session, server.url(path), timeout=0.3)
    elapsed = time.monotonic() - started
    assert type(caught.value) is FetchError
    assert "timed out" in str(caught.value)
    assert 0.25 <= elapsed < 2.0


async def test_connection_refused_is_fetch_error(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    with pytest.raises(FetchError) as caught:
        await fetch_feed(session, url, timeout=5)
    assert type(caught.value) is FetchError
    assert caught.value.url == url
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/feed", "not a url", "http://", "http://127.0.0.1:99999/", LONG_LABEL]
)
async def test_unusable_url_is_fetch_error(session: aiohttp.ClientSession, url: str) -> None:
    with pytest.raises(FetchError):
        await fetch_feed(session, url, timeout=5)
