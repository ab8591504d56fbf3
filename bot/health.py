"""The bot's small HTTP server: `GET /healthz`, `GET /metrics` and, in webhook mode, the
webhook route (bot.webhook), all on one aiohttp server (PTB's "custom webhook" pattern).

`/healthz` answers 200 while the database answers and the scheduler (PTB's JobQueue) runs,
503 otherwise, with both states in the JSON body for a supervisor or a human.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.metrics import CONTENT_TYPE, Metrics

logger = logging.getLogger(__name__)


def build_web_app(
    engine: AsyncEngine,
    *,
    scheduler_running: Callable[[], bool] = lambda: True,
    metrics: Metrics | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        database = "ok"
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            logger.warning("Health check: database unreachable: %s", error)
            database = "unreachable"
        scheduler = "running" if scheduler_running() else "stopped"
        healthy = database == "ok" and scheduler == "running"
        return web.json_response(
            {"status": "ok" if healthy else "error", "database": database, "scheduler": scheduler},
            status=200 if healthy else 503,
        )

    async def metrics_page(_request: web.Request) -> web.Response:
        assert metrics is not None
        if sessionmaker is not None:
            try:
                await metrics.refresh(sessionmaker)
            except Exception as error:
                logger.warning("Metrics: could not read the outbox: %s", error)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    if metrics is not None:
        app.router.add_get("/metrics", metrics_page)
    return app


class HealthServer:
    """Owns the aiohttp runner so `post_init` can start it and `post_shutdown` stop it."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._host = host
        self._port = port
        self.port: int | None = None

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        logger.info("HTTP server on http://%s:%d (/healthz, /metrics)", self._host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
