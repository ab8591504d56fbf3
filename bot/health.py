"""The bot's small HTTP server on 127.0.0.1: `GET /healthz` for process supervisors."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)


def build_web_app(engine: AsyncEngine) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            logger.warning("Health check: database unreachable: %s", error)
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
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
        logger.info("Health endpoint on http://%s:%d/healthz", self._host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
