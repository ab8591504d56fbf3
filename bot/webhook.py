"""Webhook mode: Telegram POSTs updates to the bot's own aiohttp server.

`NEWSBOT_WEBHOOK_URL` is the public HTTPS URL (usually a reverse proxy in front of the bot's
HTTP server); its path is the route served locally, e.g. `/telegram/webhook`. Telegram sends
`NEWSBOT_WEBHOOK_SECRET` in `X-Telegram-Bot-Api-Secret-Token` with every request; anything
without the right header is answered 403 and never reaches the bot. Good updates go to
`application.update_queue`, exactly where PTB's own poller puts them (PTB's "custom
webhook" pattern: the Application is built with `.updater(None)`).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_PATH = "/telegram/webhook"


def webhook_path(url: str) -> str:
    """The local route for a public webhook URL: its path, or `/telegram/webhook`."""
    path = urlsplit(url).path
    return path if path and path != "/" else DEFAULT_PATH


def add_webhook_route(app: web.Application, *, path: str, secret: str, application: Any) -> None:
    """Serve POST `path`; `application` is the PTB Application that gets the updates."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("Webhook request without the right secret token: refused (403)")
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("Webhook request with a body that is not an update: %s", error)
            return web.Response(status=400, text="not an update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    app.router.add_post(path, receive)
