"""Shared parts of the delivery benchmarks: an emulator in its own process, a seeded database,
and the delivery stack as `bot.app` builds it (PTB bot, aiohttp transport, limiter, sender).

The emulator runs in a child process so that the CPU the benchmark reports is the bot's
alone (`resource.getrusage(RUSAGE_SELF)`).
"""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from telegram.ext import ExtBot

from bot.delivery.format import digest_heading, render_story
from bot.delivery.ratelimit import FloodLimiter
from bot.delivery.sender import Sender
from bot.delivery.transport import AiohttpRequest
from storage import migrate
from storage.db import create_engine, create_sessionmaker

TOKEN = "123456:BENCH-TOKEN"
T0 = "2026-10-04 06:00:00.000000"


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@asynccontextmanager
async def emulator_process(
    *, limits: bool, overall: float = 30.0
) -> AsyncIterator[tuple[str, str]]:
    """Start `python -m bench.emulator_child`; yield its API URL and its stats URL."""
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "url"
        args = [sys.executable, "-m", "bench.emulator_child", str(url_file), TOKEN]
        args += ["--limits", str(overall)] if limits else []
        with (Path(tmp) / "log").open("wb") as log:
            child = await asyncio.create_subprocess_exec(*args, stdout=log, stderr=log)
        try:
            for _ in range(200):
                if url_file.exists() and url_file.read_text().strip():
                    break
                await asyncio.sleep(0.05)
            api_url, stats_url = url_file.read_text().split()
            yield api_url, stats_url
        finally:
            child.terminate()
            await child.wait()


async def emulator_stats(stats_url: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as http, http.get(f"{stats_url}/stats") as response:
        stats: dict[str, int] = await response.json()
        return stats


async def create_database(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    return url


def seed(
    path: Path,
    chat_ids: Iterable[int],
    *,
    stories: int,
    topic: str = "ukraine",
    queue: bool = True,
) -> None:
    """Chats subscribed to `topic`, `stories` articles and (`queue`) an alert for each pair,
    written with plain sqlite3 so that seeding costs the benchmark neither time nor memory."""
    chat_ids = list(chat_ids)
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT OR IGNORE INTO sources (url, name, enabled, next_fetch_at, "
            "consecutive_errors, created_at) VALUES ('https://example.org/feed', 'Example', 1, "
            "?, 0, ?)",
            (T0, T0),
        )
        db.executemany(
            "INSERT INTO chats (id, type, active, created_at, updated_at) "
            "VALUES (?, 'private', 1, ?, ?)",
            ((chat_id, T0, T0) for chat_id in chat_ids),
        )
        db.executemany(
            "INSERT INTO subscriptions (chat_id, kind, value, created_at) "
            "VALUES (?, 'topic', ?, ?)",
            ((chat_id, topic, T0) for chat_id in chat_ids),
        )
        for n in range(stories):
            db.execute(
                "INSERT INTO articles (source_id, guid, url, title, summary, categories, "
                "published_at, first_seen_at) VALUES (1, ?, ?, ?, ?, '[]', ?, ?)",
                (
                    f"g{n}",
                    f"https://example.org/news/{n}",
                    f"Story number {n}: talks on a ceasefire continue in Istanbul",
                    "Delegations met for a third day; no agreement yet, officials said.",
                    T0,
                    T0,
                ),
            )
            db.execute(
                "INSERT INTO article_topics (article_id, topic) VALUES (?, ?)", (n + 1, topic)
            )
            if queue:
                db.executemany(
                    "INSERT INTO outbox (chat_id, article_id, status, attempts, "
                    "next_attempt_at, created_at) VALUES (?, ?, 'pending', 0, ?, ?)",
                    ((chat_id, n + 1, T0, T0) for chat_id in chat_ids),
                )
    db.close()


@dataclass
class Stack:
    sender: Sender
    bot: ExtBot[int]
    limiter: FloodLimiter


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@asynccontextmanager
async def delivery_stack(api_url: str, db_url: str, *, send_rate: float) -> AsyncIterator[Stack]:
    engine = create_engine(db_url)
    sessionmaker = create_sessionmaker(engine)
    limiter = FloodLimiter(overall_rate=send_rate)
    bot: ExtBot[int] = ExtBot(
        TOKEN, base_url=f"{api_url}/bot", request=AiohttpRequest(), rate_limiter=limiter
    )
    await bot.initialize()
    names = {"ukraine": "Ukraine"}
    sender = Sender(
        sessionmaker=sessionmaker,
        bot=bot,
        clock=_Clock(),
        render=lambda story, t: render_story(story, topic_names=names, translator=t),
        heading=lambda stories, t: digest_heading(stories, names, t),
        chat_ready_at=limiter.chat_ready_at,
        poll_interval=0.2,
    )
    try:
        yield Stack(sender, bot, limiter)
    finally:
        await sender.stop()
        await bot.shutdown()
        await engine.dispose()


async def wait_delivered(stats_url: str, count: int, within: float) -> float:
    """Poll the emulator until it accepted `count` messages; returns when that happened."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await emulator_stats(stats_url))["sent"] >= count:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"fewer than {count} messages after {within} s")
