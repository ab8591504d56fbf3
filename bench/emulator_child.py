"""The Bot API emulator as a process of its own, for the delivery benchmarks.

    python -m bench.emulator_child URL_FILE TOKEN [--limits OVERALL_PER_SECOND]

Writes its API URL to URL_FILE once listening. `GET {url}/stats` answers
{"sent": n, "violations": n}. Sent messages are counted, not kept, so memory stays flat.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from bot.emulator import BotAPIEmulator, FloodLimits


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url_file", type=Path)
    parser.add_argument("token")
    parser.add_argument("--limits", type=float, default=None)
    args = parser.parse_args()
    emulator = BotAPIEmulator(
        token=args.token,
        enforce_limits=args.limits is not None,
        limits=FloodLimits(overall_per_second=args.limits) if args.limits else None,
    )
    await emulator.start()
    sent = 0

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {"sent": sent + len(emulator.sent), "violations": len(emulator.limit_violations)}
        )

    app = web.Application()
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stats_port = runner.addresses[0][1]
    args.url_file.write_text(f"{emulator.api_url} http://127.0.0.1:{stats_port}")
    while True:
        await asyncio.sleep(1)
        # Forget what was sent (the benchmark only needs the count); keep the last minute
        # of limit bookkeeping, which the emulator holds separately.
        sent += len(emulator.sent)
        emulator.sent.clear()
        emulator.requests.clear()
        emulator._messages.clear()


if __name__ == "__main__":
    asyncio.run(main())
