"""The web chat's HTTP side: the page, a small JSON API and a WebSocket of live events.

    GET  /                              the chat page (static/index.html)
    GET  /static/…                      its CSS and JavaScript
    GET  /api/chats                     the bot and the simulated chats to pick from
    GET  /api/chats/{id}/messages       one chat's history
    POST /api/chats/{id}/messages       {"text": …}: the chat's user writes to the bot
    POST /api/chats/{id}/buttons        {"message_id": …, "data": …}: the user presses a button
    GET  /api/events                    WebSocket: a snapshot of every chat, then live events
    GET  /healthz                       200 {"status": "ok"} while the bot's database works

Users act only through the Bot API emulator (`send_text`, `press_button`), so the real bot
sees exactly the updates Telegram would send. The server listens on 127.0.0.1; the POST
endpoints take JSON only and the WebSocket checks its Origin, so another web site open in
the same browser cannot drive the chat.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import WSMsgType, web
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator import BotAPIEmulator
from bot.sandbox.chatlog import ChatLog

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_TEXT = 4096


@dataclass(frozen=True, slots=True)
class SimulatedChat:
    """A chat the page can switch to, and the user who writes in it."""

    id: int
    type: str
    title: str
    user_id: int
    user_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "title": self.title,
            "user": {"id": self.user_id, "first_name": self.user_name},
        }


SIMULATED_CHATS = (
    SimulatedChat(1001, "private", "Alice", 1001, "Alice"),
    SimulatedChat(1002, "private", "Bohdan", 1002, "Bohdan"),
    SimulatedChat(1003, "private", "Chen", 1003, "Chen"),
    # A basic group (negative id without -100): Alice writes there too.
    SimulatedChat(-4001, "group", "Newsroom group", 1001, "Alice"),
)


def register_chats(emulator: BotAPIEmulator, chats: tuple[SimulatedChat, ...]) -> None:
    """Introduce the simulated chats, so getChat and getChatMember work before anyone wrote."""
    for chat in chats:
        if chat.type == "private":
            emulator.register_chat(chat.id, "private", first_name=chat.user_name)
        else:
            emulator.register_chat(chat.id, chat.type, title=chat.title)
            # The group is the user's own, so they may change what it follows.
            emulator.set_chat_member_status(chat.id, chat.user_id, "creator")


class WebChat:
    """Builds the aiohttp application; owns the open WebSockets so it can close them."""

    def __init__(
        self,
        emulator: BotAPIEmulator,
        chatlog: ChatLog,
        engine: Callable[[], AsyncEngine | None],
        chats: tuple[SimulatedChat, ...] = SIMULATED_CHATS,
    ) -> None:
        """`engine` returns the bot's database engine once the bot is up (None before)."""
        self._emulator = emulator
        self._chatlog = chatlog
        self._engine = engine
        self._chats = {chat.id: chat for chat in chats}
        self._sockets: set[web.WebSocketResponse] = set()

    def build(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC_DIR)
        app.router.add_get("/api/chats", self._list_chats)
        app.router.add_get("/api/chats/{chat_id}/messages", self._history)
        app.router.add_post("/api/chats/{chat_id}/messages", self._send)
        app.router.add_post("/api/chats/{chat_id}/buttons", self._press)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/healthz", self._healthz)
        app.on_shutdown.append(self._close_sockets)
        return app

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _list_chats(self, _request: web.Request) -> web.Response:
        bot = {"username": self._emulator.bot_username, "first_name": self._emulator.bot_first_name}
        chats = [chat.to_json() for chat in self._chats.values()]
        return web.json_response(
            {"bot": bot, "chats": chats, "commands": await self._bot_commands()}
        )

    async def _bot_commands(self) -> list[dict[str, str]]:
        """The command menu the bot registered, asked of the emulator as a client would."""
        url = f"{self._emulator.api_url}/bot{self._emulator.token}/getMyCommands"
        try:
            async with aiohttp.ClientSession() as http, http.post(url) as response:
                answer = await response.json()
        except (aiohttp.ClientError, ValueError) as error:
            logger.warning("Could not read the bot's commands: %s", error)
            return []
        result = answer.get("result") if isinstance(answer, dict) else None
        return result if isinstance(result, list) else []

    async def _history(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        return web.json_response({"messages": self._chatlog.history(chat.id)})

    async def _send(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("text must be a non-empty string")
        if len(text) > MAX_TEXT:
            raise _bad_request(f"text must be at most {MAX_TEXT} characters")
        update = self._emulator.send_text(
            chat.id,
            text.strip(),
            user_id=chat.user_id,
            chat_type=chat.type,
            first_name=chat.user_name,
            chat_title=chat.title if chat.type != "private" else None,
        )
        return web.json_response({"message_id": update["message"]["message_id"]})

    async def _press(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _json_body(request)
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _bad_request("message_id (integer) and data (string) are required")
        try:
            update = self._emulator.press_button(chat.id, message_id, data, user_id=chat.user_id)
        except KeyError:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no such bot message in this chat"}),
                content_type="application/json",
            ) from None
        return web.json_response({"callback_query_id": update["callback_query"]["id"]})

    async def _events(self, request: web.Request) -> web.WebSocketResponse:
        if not _same_origin(request):
            raise web.HTTPForbidden(text="cross-origin WebSocket refused")
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        snapshot, queue = self._chatlog.listen()
        self._sockets.add(socket)
        try:
            await socket.send_json({"type": "snapshot", "events": snapshot})
            reader = asyncio.create_task(_drain(socket))
            try:
                while True:
                    getter = asyncio.create_task(queue.get())
                    done, _ = await asyncio.wait(
                        {getter, reader}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if getter not in done:
                        getter.cancel()
                        break
                    await socket.send_json(getter.result())
            finally:
                reader.cancel()
        except ConnectionResetError:
            logger.debug("Web chat socket went away")
        finally:
            self._chatlog.unlisten(queue)
            self._sockets.discard(socket)
            await socket.close()
        return socket

    async def _healthz(self, _request: web.Request) -> web.Response:
        engine = self._engine()
        if engine is None:
            return web.json_response({"status": "starting"}, status=503)
        try:
            async with engine.connect() as connection:
                await connection.execute(sql_text("SELECT 1"))
        except Exception as error:
            logger.warning("Health check: database unreachable: %s", error)
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def _close_sockets(self, _app: web.Application) -> None:
        for socket in list(self._sockets):
            await socket.close(code=1001, message=b"sandbox stopping")

    def _chat(self, request: web.Request) -> SimulatedChat:
        try:
            return self._chats[int(request.match_info["chat_id"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no such chat"}), content_type="application/json"
            ) from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise _bad_request("send application/json")
    try:
        body = await request.json()
    except ValueError:
        raise _bad_request("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("the body must be a JSON object")
    return body


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _same_origin(request: web.Request) -> bool:
    """Browsers always send Origin on WebSockets; other clients (tests, curl) may omit it."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


async def _drain(socket: web.WebSocketResponse) -> None:
    """Read (and ignore) what the page sends, so a close from its side is noticed."""
    async for message in socket:
        if message.type == WSMsgType.ERROR:
            break
