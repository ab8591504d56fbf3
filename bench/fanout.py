"""Fan-out of one story to N chats: time to enqueue, time to deliver, peak memory.

    python -m bench.fanout [--chats 10000 100000]

Each N runs in a fresh process (`--one N`), so the peak RSS (`ru_maxrss`) is that run's.
Enqueue is what ingest does for a new story: `subscribers` then `outbox.enqueue`, in one
transaction. Delivery runs with the emulator's limits lifted and the limiter at 5,000/s, so
it measures the bot, not Telegram's pacing.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.delivery_stack import (
    create_database,
    delivery_stack,
    emulator_process,
    machine,
    peak_rss_mb,
    seed,
    wait_delivered,
)
from storage import chats, outbox
from storage.db import create_engine, create_sessionmaker


async def one(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = await create_database(path)
        seed(path, range(1, count + 1), stories=1, queue=False)
        rss_before = peak_rss_mb()
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        now = datetime.now(UTC)
        t0 = time.monotonic()
        async with sessionmaker() as session, session.begin():
            targets = await chats.subscribers(
                session, topics=["ukraine"], keywords=[], subscribed_before=now
            )
            queued = await outbox.enqueue(session, 1, targets, now=now)
        enqueue = time.monotonic() - t0
        await engine.dispose()
        del targets
        assert queued == count
        async with (
            emulator_process(limits=False) as (api_url, stats_url),
            delivery_stack(api_url, url, send_rate=5000) as stack,
        ):
            t1 = time.monotonic()
            stack.sender.start()
            done = await wait_delivered(stats_url, count, within=3600)
        deliver = done - t1
        print(
            f"{count} chats: enqueue {enqueue:.2f} s; deliver {deliver:.1f} s "
            f"({count / deliver:.0f} msg/s); peak RSS {peak_rss_mb():.0f} MB "
            f"(after seeding {rss_before:.0f} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        asyncio.run(one(args.one))
        return
    print(f"machine: {machine()}")
    print(f"command: python -m bench.fanout --chats {' '.join(map(str, args.chats))}")
    for count in args.chats:
        subprocess.run([sys.executable, "-m", "bench.fanout", "--one", str(count)], check=True)


if __name__ == "__main__":
    main()
