"""Durability: `newsbot run` is SIGKILLed while fanning one story out to 2,000 chats.

After a restart every chat has the story, and the repeats are at most the sends that can be
in flight (`bot.delivery.sender`: 64 slots). Then SIGTERM: a clean stop with exit code 0.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.emulator import BotAPIEmulator, FloodLimits
from storage import chats, migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import SubscriptionKind
from tests.conftest import feed_bytes
from tests.e2e.delivery_rig import T0
from tests.e2e.harness import write_sources
from tests.support.env import child_env
from tests.support.feed_server import FeedServer, withhold_items

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
CHATS = list(range(100_000, 102_000))
IN_FLIGHT_BOUND = 64
NEWSBOT = [sys.executable, "-m", "bot.cli", "run"]

pytestmark = pytest.mark.slow


async def _seed_chats(url: str) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        for chat_id in CHATS:
            await chats.upsert_chat(
                session, chat_id, chat_type="private", title=None, language="en", now=T0
            )
            await chats.add_subscription(
                session, chat_id, SubscriptionKind.TOPIC, "ukraine", now=T0
            )
    await engine.dispose()


async def _start(env: dict[str, str], tmp_path: Path, name: str) -> asyncio.subprocess.Process:
    with (tmp_path / f"{name}.log").open("wb") as log:
        return await asyncio.create_subprocess_exec(
            *NEWSBOT, env=env, cwd=tmp_path, stdout=log, stderr=log
        )


async def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_fan_out_loses_nothing_and_repeats_at_most_the_in_flight(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"
    await _seed_chats(url)
    full = feed_bytes(KYIV)
    feeds = FeedServer()
    await feeds.start()
    limits = FloodLimits(overall_per_second=1000)
    async with BotAPIEmulator(limits=limits) as emulator:
        try:
            feeds.serve("/kyiv.rss", withhold_items(full, 1))
            sources = write_sources(tmp_path / "sources.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
            env = child_env()
            env.update(
                NO_PROXY="127.0.0.1,localhost",
                NEWSBOT_TELEGRAM_TOKEN=emulator.token,
                NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
                NEWSBOT_DATABASE_URL=url,
                NEWSBOT_SOURCES_FILE=str(sources),
                NEWSBOT_POLL_INTERVAL="1",
                NEWSBOT_HTTP_PORT="0",
                NEWSBOT_SEND_RATE="500",
            )
            bot = await _start(env, tmp_path, "first")
            try:
                await _wait(lambda: feeds.hits("/kyiv.rss") >= 2, 30, "the first fetches")
                feeds.serve("/kyiv.rss", full)  # one new story for all 2,000 chats
                await _wait(lambda: len(emulator.sent) >= 400, 30, "the fan-out to start")
            finally:
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
            at_kill = len(emulator.sent)
            reached_before_kill = {m.chat_id for m in emulator.sent}
            assert at_kill < len(CHATS), "the fan-out finished before the kill"

            bot = await _start(env, tmp_path, "second")
            try:
                await _wait(
                    lambda: len({m.chat_id for m in emulator.sent} & set(CHATS)) == len(CHATS),
                    90,
                    "every chat to get the story",
                )
            finally:
                bot.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(bot.wait(), 30)
            assert code == 0
        finally:
            await feeds.stop()

    per_chat = Counter(m.chat_id for m in emulator.sent if m.chat_id in set(CHATS))
    repeats = sum(count - 1 for count in per_chat.values())
    assert set(per_chat) == set(CHATS)
    assert repeats <= IN_FLIGHT_BOUND, f"{repeats} repeats (killed after {at_kill} sends)"
    # The restarted bot cannot know when the in-flight sends reached their chats: a repeat
    # may come within a second of the first copy, which Telegram answers with 429 (and the
    # limiter waits). Every other send keeps the limits.
    flooded = [int(r.params["chat_id"]) for r in emulator.limit_violations]
    assert set(flooded) <= reached_before_kill and len(set(flooded)) <= IN_FLIGHT_BOUND
    print(f"killed after {at_kill} sends; {repeats} repeats after restart")
