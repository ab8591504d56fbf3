"""The sender's own cost and its pacing, against the Bot API emulator in another process.

    python -m bench.sender [--chats 5000] [--limited-chats 900] [--rate 30]

1. Limits lifted (emulator enforces none; limiter at 5,000/s): messages per second and the
   bench process's CPU time per delivered message (outbox claim, render, PTB, HTTP, result
   commit: everything the bot does for a message).
2. Limits on (emulator enforces Telegram's; limiter at `--rate`): delivered rate as a share of
   the configured rate, and the emulator's count of limit violations (429s it had to send).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.delivery_stack import (
    cpu_seconds,
    create_database,
    delivery_stack,
    emulator_process,
    emulator_stats,
    machine,
    seed,
    wait_delivered,
)


async def lifted(chats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = await create_database(path)
        seed(path, range(1, chats + 1), stories=1)
        async with (
            emulator_process(limits=False) as (api_url, stats_url),
            delivery_stack(api_url, url, send_rate=5000) as stack,
        ):
            cpu0, t0 = cpu_seconds(), time.monotonic()
            stack.sender.start()
            done = await wait_delivered(stats_url, chats, within=600)
            cpu = cpu_seconds() - cpu0
            commits = stack.sender.recorder.commits
        elapsed = done - t0
        print(f"limits lifted: {chats} messages in {elapsed:.2f} s = {chats / elapsed:.0f} msg/s")
        print(f"  bot CPU {cpu:.2f} s = {cpu / chats * 1000:.3f} ms per delivered message")
        print(f"  result commits: {commits} ({chats / max(commits, 1):.0f} messages per commit)")


async def limited(chats: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = await create_database(path)
        seed(path, range(1, chats + 1), stories=1)
        async with (
            emulator_process(limits=True, overall=rate) as (api_url, stats_url),
            delivery_stack(api_url, url, send_rate=rate) as stack,
        ):
            stack.sender.start()
            first = await wait_delivered(stats_url, 1, within=60)
            last = await wait_delivered(stats_url, chats, within=chats / rate * 3 + 30)
            stats = await emulator_stats(stats_url)
        achieved = (chats - 1) / (last - first)
        print(
            f"limits on at {rate:g}/s: {chats} messages, {achieved:.2f} msg/s delivered = "
            f"{achieved / rate:.3f} of the configured rate; "
            f"{stats['violations']} limit violations; {stack.limiter.retry_after_pauses} 429s"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--limited-chats", type=int, default=900)
    parser.add_argument("--rate", type=float, default=30.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        f"command: python -m bench.sender --chats {args.chats} "
        f"--limited-chats {args.limited_chats} --rate {args.rate:g}"
    )
    await lifted(args.chats)
    await limited(args.limited_chats, args.rate)


if __name__ == "__main__":
    asyncio.run(main())
