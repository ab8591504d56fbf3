"""Three `newsbot run` processes on one PostgreSQL: 5,000 alerts, each delivered, none lost
when one process is killed (SIGKILL) mid-way; the feed fetched by one instance at a time;
Telegram updates polled by one elected instance, and by another once it dies.

The emulator's flood limits are off and NEWSBOT_SEND_RATE is raised: this is about sharing
work, not about Telegram's limits (tests/e2e/test_emulator.py and the sender's tests cover
those).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.app import SEND_CONNECTIONS
from bot.emulator import BotAPIEmulator
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import Chat, Source, Subscription, SubscriptionKind
from tests.conftest import PG_DSN, _pg_admin, feed_bytes
from tests.e2e.harness import write_sources
from tests.support.env import child_env
from tests.support.feed_server import FeedServer, withhold_items

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
CHATS = 5000
INSTANCES = 3
ASKER = 999_999


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    admin = await _pg_admin()
    name = f"newsbot_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def fast_emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(enforce_limits=False) as emulator:
        yield emulator


async def _seed(url: str) -> None:
    """5,000 private chats, each watching the keyword of the story about to break."""
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        then = datetime.now(UTC) - timedelta(hours=1)
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                insert(Chat),
                [
                    {
                        "id": i,
                        "type": "private",
                        "active": True,
                        "created_at": then,
                        "updated_at": then,
                    }
                    for i in range(1, CHATS + 1)
                ],
            )
            await session.execute(
                insert(Subscription),
                [
                    {
                        "chat_id": i,
                        "kind": SubscriptionKind.KEYWORD,
                        "value": "lukoil",
                        "created_at": then,
                    }
                    for i in range(1, CHATS + 1)
                ],
            )
    finally:
        await engine.dispose()


async def _first_fetch_done(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return bool(await session.scalar(select(Source.last_success_at)))
    finally:
        await engine.dispose()


async def _until(condition: object, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition() if callable(condition) else condition  # type: ignore[operator]
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


async def test_three_instances_share_work_and_survive_a_kill(
    fast_emulator: BotAPIEmulator, feeds: FeedServer, pg_url: str, tmp_path: Path
) -> None:
    emulator = fast_emulator
    full = feed_bytes(KYIV)
    feeds.serve("/kyiv.rss", withhold_items(full, 1))
    sources = write_sources(tmp_path / "sources.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    await _seed(pg_url)
    env = child_env()
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        NEWSBOT_TELEGRAM_TOKEN=emulator.token,
        NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
        NEWSBOT_DATABASE_URL=pg_url,
        NEWSBOT_SOURCES_FILE=str(sources),
        NEWSBOT_POLL_INTERVAL="1",
        NEWSBOT_HTTP_PORT="0",
        NEWSBOT_SEND_RATE="1000",
    )
    logs = [tmp_path / f"newsbot-{i}.log" for i in range(INSTANCES)]
    files = [path.open("wb") for path in logs]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=log,
        )
        for log in files
    ]
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        await _until(lambda: _first_fetch_done(pg_url), 60, "the first fetch")

        def leaders() -> list[int]:
            return [i for i, p in enumerate(logs) if "Elected to poll" in p.read_text("utf-8")]

        await _until(lambda: len(leaders()) == 1, 30, "one instance elected to poll")
        (leader,) = leaders()
        emulator.send_text(ASKER, "/help")
        await emulator.wait_for_messages(ASKER, 1, timeout=15)

        feeds.serve("/kyiv.rss", full)  # the story breaks: 5,000 alerts are queued

        def delivered() -> Counter[int]:
            return Counter(m.chat_id for m in emulator.sent if 1 <= m.chat_id <= CHATS)

        await _until(lambda: len(delivered()) >= CHATS // 4, 60, "a quarter of the alerts")
        processes[leader].send_signal(signal.SIGKILL)  # mid-way, and the poller at that
        await processes[leader].wait()

        # Another instance takes over polling and answers.
        emulator.send_text(ASKER, "/help")
        await emulator.wait_for_messages(ASKER, 2, timeout=30)

        await _until(lambda: len(delivered()) == CHATS, 90, "every alert")
        await asyncio.sleep(1.0)  # let any straggler duplicates arrive before counting
        counts = delivered()
        duplicates = sum(n - 1 for n in counts.values())
        print(
            f"\n{CHATS} alerts, {duplicates} repeated after SIGKILL, {loop.time() - started:.1f} s"
        )
        assert set(counts) == set(range(1, CHATS + 1))  # none lost
        # Only sends in flight in the killed process when it died can repeat (they reached
        # Telegram, but their result never reached the database): at most its connections.
        assert duplicates <= SEND_CONNECTIONS
        # One instance at a time fetched the feed: with three pollers and no claims it would
        # be fetched about three times per interval.
        elapsed = loop.time() - started
        assert feeds.hits("/kyiv.rss") <= elapsed / 1.0 + 3

        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            assert await asyncio.wait_for(process.wait(), 20) in (0, -signal.SIGKILL)
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        for log in files:
            log.close()
    secret = emulator.token.split(":", 1)[1]
    for path in logs:
        assert secret not in path.read_text("utf-8")
