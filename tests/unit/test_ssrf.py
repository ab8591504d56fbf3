"""SSRF guard: which addresses are refused, and that the guarded session refuses them on the
first request, after DNS resolution and on every redirect, against real servers."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.feeds.errors import FetchError
from bot.feeds.fetch import fetch_feed
from bot.ssrf import IPAddress, UnsafeURLError, check_url, forbidden_reason, guarded_session

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public"),
        ("::ffff:127.0.0.1", "loopback"),
    ],
)
def test_forbidden_addresses(address: str, reason: str) -> None:
    found = forbidden_reason(ipaddress.ip_address(address))
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:85e5", "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


class TableResolver(AbstractResolver):
    """Resolves test names from a fixed table, as a DNS server would."""

    def __init__(self, table: dict[str, str]) -> None:
        self._table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self._table[host.rstrip(".")]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def only_127_0_0_2_blocked(address: IPAddress) -> str | None:
    """A policy for tests: the feed server on 127.0.0.1 is "public", 127.0.0.2 is not."""
    return "blocked for the test" if str(address) == "127.0.0.2" else None


@pytest.fixture
async def server() -> AsyncIterator[int]:
    async def feed(_request: web.Request) -> web.Response:
        return web.Response(body=RSS, content_type="application/rss+xml")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_get("/redirect", redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def test_default_guard_refuses_loopback_by_ip_and_by_name(server: int) -> None:
    async with guarded_session() as http:
        for url in (f"http://127.0.0.1:{server}/feed", f"http://localhost:{server}/feed"):
            with pytest.raises(FetchError, match="refused to connect"):
                await fetch_feed(http, url, timeout=5)
    # The same URL through an ordinary session works: the guard is what refused it.
    async with aiohttp.ClientSession() as http:
        result = await fetch_feed(http, f"http://127.0.0.1:{server}/feed", timeout=5)
        assert result.body == RSS


async def test_guard_checks_after_dns_and_on_every_redirect(server: int) -> None:
    resolver = TableResolver({"good.test": "127.0.0.1", "evil.test": "127.0.0.2"})
    async with guarded_session(policy=only_127_0_0_2_blocked, resolver=resolver) as http:
        ok = await fetch_feed(http, f"http://good.test:{server}/feed", timeout=5)
        assert ok.body == RSS
        with pytest.raises(FetchError, match=r"127\.0\.0\.2"):
            await fetch_feed(http, f"http://evil.test:{server}/feed", timeout=5)
        # A public feed that redirects into the private network, by name and by IP literal.
        for target in (f"http://evil.test:{server}/feed", f"http://127.0.0.2:{server}/feed"):
            with pytest.raises(FetchError, match=r"refused to connect to 127\.0\.0\.2"):
                await fetch_feed(http, f"http://good.test:{server}/redirect?to={target}", timeout=5)
        # A redirect to an allowed address is followed.
        target = f"http://good.test:{server}/feed"
        followed = await fetch_feed(http, f"http://good.test:{server}/redirect?to={target}")
        assert followed.body == RSS


async def test_check_url_explains_refusals() -> None:
    with pytest.raises(UnsafeURLError, match="loopback"):
        await check_url("http://localhost/feed")
    with pytest.raises(UnsafeURLError, match="link-local"):
        await check_url("http://169.254.169.254/latest/meta-data")
    with pytest.raises(UnsafeURLError, match="http"):
        await check_url("file:///etc/passwd")
    with pytest.raises(UnsafeURLError, match="private"):
        await check_url("http://[fd00::1]:8080/feed")
    assert await check_url(" http://1.1.1.1/feed ") == "http://1.1.1.1/feed"
