"""Operator commands of the `newsbot` CLI: `sources list|add|remove|import|export`, `stats`.

They work on the database directly (the schema is upgraded first, as `newsbot run` does), so
they can run next to a running bot: a source added here is picked up at the bot's next
scheduler tick. Sources added here have origin "cli": the sources-file sync leaves them alone.

Exit codes: 0 done, 1 the command could not do what was asked (unknown source, bad file, a
database that cannot be reached: one line on stderr, its URL without the password).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TextIO
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.opml import Feed, OPMLError, parse_opml, render_opml
from bot.sources import MIN_INTERVAL
from storage import migrate
from storage import sources as source_store
from storage import stats as stats_store
from storage.db import DatabaseUnreachable, create_engine, create_sessionmaker, ensure_reachable
from storage.records import SourceRecord

COMMANDS = frozenset({"sources", "stats"})
EXIT_FAILED = 1
PROGRESS_ALWAYS_ABOVE = 50  # feeds; below this a bar only shows on a terminal
BAR_WIDTH = 30


def add_parsers(commands: Any) -> None:
    """Add `sources …` and `stats` to the `newsbot` subcommands."""
    sources = commands.add_parser("sources", help="list, add, remove, import or export sources")
    actions = sources.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="every source with its state")
    add = actions.add_parser("add", help="add a feed (fetched from the bot's next tick)")
    add.add_argument("url")
    add.add_argument("--name", help="display name (default: the host name)")
    add.add_argument("--interval", type=float, help="seconds between fetches")
    remove = actions.add_parser("remove", help="stop fetching a source (by URL or id)")
    remove.add_argument("source", metavar="URL_OR_ID")
    imp = actions.add_parser("import", help="add every feed of an OPML file")
    imp.add_argument("file", metavar="FILE.opml")
    actions.add_parser("export", help="write the enabled sources as OPML to stdout")
    commands.add_parser("stats", help="chats, subscriptions, sources, outbox")


def main(args: argparse.Namespace, database_url: str) -> int:
    action: Callable[[async_sessionmaker[AsyncSession]], Awaitable[int]]
    command = getattr(args, "sources_command", None)
    if args.command == "stats":
        action = _stats
    elif command == "list":
        action = _list
    elif command == "add":
        action = partial(_add, url=args.url, name=args.name, interval=args.interval)
    elif command == "remove":
        action = partial(_remove, target=args.source)
    elif command == "import":
        action = partial(_import, path=args.file)
    else:
        action = _export
    try:
        return asyncio.run(_with_db(database_url, action))
    except DatabaseUnreachable as error:
        return _err(str(error))


async def _with_db(
    database_url: str, action: Callable[[async_sessionmaker[AsyncSession]], Awaitable[int]]
) -> int:
    engine = create_engine(database_url)
    try:
        await ensure_reachable(engine)
        await migrate.upgrade(engine)
        return await action(create_sessionmaker(engine))
    finally:
        await engine.dispose()


def _err(message: str) -> int:
    print(f"newsbot: {message}", file=sys.stderr)
    return EXIT_FAILED


def _when(record: SourceRecord) -> str:
    if record.last_fetch_at is None:
        return "never"
    return record.last_fetch_at.strftime("%Y-%m-%d %H:%M")


def _state(record: SourceRecord) -> str:
    if not record.enabled:
        return "disabled"
    if record.consecutive_errors:
        return f"failing({record.consecutive_errors})"
    return "new" if record.last_fetch_at is None else "ok"  # "ok" only once a fetch worked


async def _list(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        rows = await source_store.list_sources(session)
    print(f"{'id':>5}  {'state':<12} {'origin':<6} {'last fetch':<16}  name  url")
    for row in rows:
        state = f"{row.id:>5}  {_state(row):<12} {row.origin:<6} {_when(row):<16}"
        print(f"{state}  {row.name}  {row.url}")
    return 0


def _valid_url(url: str) -> bool:
    """An http(s) URL with a host: no spaces anywhere ("https://exa mple.org/" is two words
    to a fetcher), a port that is a port."""
    if any(ch.isspace() for ch in url):
        return False
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


async def _add(
    maker: async_sessionmaker[AsyncSession], url: str, name: str | None, interval: float | None
) -> int:
    url = url.strip()
    if not _valid_url(url):
        return _err(f"{url!r} is not an http(s) URL")
    if interval is not None and interval < MIN_INTERVAL:
        return _err(f"--interval must be at least {MIN_INTERVAL:g} second")
    async with maker() as session, session.begin():
        record, changed = await source_store.add_source(
            session,
            url,
            name=name or urlsplit(url).hostname or url,
            interval=interval,
            origin=source_store.SourceOrigin.CLI,
            now=SystemClock().now(),
        )
    print(f"{'added' if changed else 'already a source'}: {record.id} {record.url}")
    return 0


async def _remove(maker: async_sessionmaker[AsyncSession], target: str) -> int:
    async with maker() as session, session.begin():
        result, record = await source_store.remove_source(session, target)
    if result is source_store.RemoveResult.REMOVED and record is not None:
        print(f"removed: {record.id} {record.url}")
        return 0
    if result is source_store.RemoveResult.FROM_FILE:
        return _err(f"{target} comes from the sources file: remove it there")
    if record is not None:  # found, but not enabled: removed before (or gone with a 410)
        return _err(f"source {record.id} is already removed: {record.url}")
    return _err(f"no such source: {target}")


class Progress:
    """A one-line progress bar on stderr, redrawn in place; silent when not wanted."""

    def __init__(self, total: int, stream: TextIO, *, show: bool) -> None:
        self._total = max(total, 1)
        self._stream = stream
        self._show = show
        self._done = 0

    def step(self) -> None:
        self._done += 1
        if not self._show:
            return
        filled = BAR_WIDTH * self._done // self._total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self._stream.write(f"\rimporting [{bar}] {self._done}/{self._total}")
        if self._done >= self._total:
            self._stream.write("\n")
        self._stream.flush()


async def _import(maker: async_sessionmaker[AsyncSession], path: str) -> int:
    try:
        with open(path, "rb") as handle:  # noqa: ASYNC230 (a local file, read once)
            feeds = parse_opml(handle.read())
    except OSError as error:
        return _err(f"cannot read {path}: {error.strerror}")
    except OPMLError as error:
        return _err(f"{path}: {error}")
    show = sys.stderr.isatty() or len(feeds) > PROGRESS_ALWAYS_ABOVE
    progress = Progress(len(feeds), sys.stderr, show=show)
    added = present = invalid = 0
    now = SystemClock().now()
    async with maker() as session, session.begin():
        for feed in feeds:
            if not _valid_url(feed.url):
                invalid += 1
            else:
                _record, changed = await source_store.add_source(
                    session,
                    feed.url,
                    name=feed.name[:200],
                    interval=None,
                    origin=source_store.SourceOrigin.CLI,
                    now=now,
                )
                added += changed
                present += not changed
            progress.step()
    print(
        f"imported {len(feeds)} feeds: {added} added, {present} already sources, {invalid} invalid"
    )
    return 0


async def _export(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        rows = await source_store.list_sources(session)
    sys.stdout.write(render_opml([Feed(url=r.url, name=r.name) for r in rows if r.enabled]))
    return 0


async def _stats(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        figures = await stats_store.collect(session, now=SystemClock().now())
    enabled = [s for s in figures.sources if s.enabled]
    print(f"chats: {figures.chats} ({figures.active_chats} active)")
    print(f"subscriptions: {figures.subscriptions}")
    print(f"articles: {figures.articles}")
    print(f"outbox depth: {figures.outbox_depth}")
    print(f"sent in the last hour: {figures.sent_last_hour}")
    print(f"sources: {len(enabled)} enabled, {len(figures.failing_sources)} failing")
    for source in figures.failing_sources:
        print(f"  failing: {source.id} {source.url}: {source.last_error}")
    return 0
