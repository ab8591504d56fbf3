"""A real HTTP feed server on 127.0.0.1: serves feed bytes and honours conditional GET.

The sandbox replays bundled feeds through it, and the end-to-end tests "publish" an article
by serving a fuller version of a real publisher's feed: first with some items withheld
(`withhold_items`), then in full. Each new body gets a new ETag, so the bot's conditional GET
sees a 304 until something really changed, as with a real publisher.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web

ITEM = re.compile(rb"<item[\s>].*?</item>", re.S)
ENTRY = re.compile(rb"<entry[\s>].*?</entry>", re.S)


def withhold_items(feed: bytes, count: int = 1) -> bytes:
    """The feed without its first `count` items (RSS <item> or Atom <entry>)."""
    pattern = ITEM if ITEM.search(feed) else ENTRY
    return pattern.sub(b"", feed, count=count)


@dataclass
class Served:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    version: int = 0


class FeedServer:
    """Serves whatever `serve()` last set per path; records every request it answers."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._feeds: dict[str, Served] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.requests: list[tuple[str, dict[str, str]]] = []

    def url(self, path: str) -> str:
        return f"http://{self._host}:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        previous = self._feeds.get(path)
        version = previous.version + 1 if previous else 1
        self._feeds[path] = Served(body, content_type, status, headers or {}, version)

    def hits(self, path: str) -> int:
        return sum(1 for requested, _ in self.requests if requested == path)

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers)))
        served = self._feeds.get(request.path)
        if served is None:
            return web.Response(status=404, text="not found")
        if served.status != 200:
            return web.Response(status=served.status, headers=served.headers, text="error")
        etag = '"' + hashlib.sha1(served.body).hexdigest()[:16] + '"'
        last_modified = formatdate(1_700_000_000 + served.version * 60, usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": last_modified, **served.headers}
        return web.Response(
            body=served.body, headers={**headers, "Content-Type": served.content_type}
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
