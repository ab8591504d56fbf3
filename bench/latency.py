"""Push latency: from an item's appearance in a feed to the alert's arrival at Telegram.

    python -m bench.latency [--samples 20] [--poll-interval 2]

A real `newsbot run` process (NEWSBOT_POLL_INTERVAL as given) polls a feed served here and
sends to the Bot API emulator, also here. At random moments a new Ukraine story is added to
the feed; the latency is the time until the emulator accepts the push for it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from bench.delivery_stack import create_database, machine, seed
from bot.emulator import BotAPIEmulator

CHAT = 4242


class Feed:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = [
            (f"old-{n}", f"Older Ukraine story {n}") for n in range(5)
        ]

    def rss(self) -> bytes:
        now = format_datetime(datetime.now(UTC))
        entries = "".join(
            f"<item><guid>{guid}</guid><title>{title}</title>"
            f"<link>https://example.org/{guid}</link><pubDate>{now}</pubDate>"
            "<description>Kyiv said the talks would continue.</description></item>"
            for guid, title in reversed(self.items)
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>'
            f"<link>https://example.org/</link>{entries}</channel></rss>"
        ).encode()

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.rss(), content_type="application/rss+xml")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=2.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        f"command: python -m bench.latency --samples {args.samples} "
        f"--poll-interval {args.poll_interval:g}"
    )
    feed = Feed()
    app = web.Application()
    app.router.add_get("/feed.rss", feed.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    feed_url = f"http://127.0.0.1:{runner.addresses[0][1]}/feed.rss"
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db_url = await create_database(path)
        seed(path, [CHAT], stories=0)
        sources = Path(tmp) / "sources.toml"
        sources.write_text(f'[[sources]]\nname = "Bench"\nurl = "{feed_url}"\n')
        async with BotAPIEmulator() as emulator:
            env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
            env["NEWSBOT_ARTICLE_PAGES"] = "false"  # the bench feed links to real hosts
            env.update(
                NO_PROXY="127.0.0.1,localhost",
                NEWSBOT_TELEGRAM_TOKEN=emulator.token,
                NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
                NEWSBOT_DATABASE_URL=db_url,
                NEWSBOT_SOURCES_FILE=str(sources),
                NEWSBOT_POLL_INTERVAL=f"{args.poll_interval:g}",
                NEWSBOT_HTTP_PORT="0",
            )
            with (Path(tmp) / "bot.log").open("wb") as log:
                bot = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "run", env=env, stdout=log, stderr=log
                )
            try:
                await asyncio.sleep(args.poll_interval * 2 + 3)  # the first fetch stores only
                for n in range(args.samples):
                    await asyncio.sleep(random.uniform(0, args.poll_interval))
                    before = len(emulator.messages_to(CHAT))
                    feed.items.append((f"new-{n}", f"Ukraine: new development number {n}"))
                    appeared = time.monotonic()
                    await emulator.wait_for_messages(CHAT, before + 1, timeout=60)
                    latencies.append(emulator.messages_to(CHAT)[before].at - appeared)
            finally:
                bot.send_signal(signal.SIGTERM)
                await bot.wait()
    await runner.cleanup()
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{len(latencies)} pushes at poll interval {args.poll_interval:g} s: "
        f"p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
