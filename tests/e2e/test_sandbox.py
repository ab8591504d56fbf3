"""The sandbox's HTTP and WebSocket API, with the real bot, emulator and replayed feeds behind it.

A page's whole conversation: it connects, writes a command, gets the formatted reply, presses
an inline button (the answer and the edited keyboard come back), and receives a push once a
replayed story matches its subscription. A group chat and the API's refusals are covered too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.sandbox import Sandbox

ALICE, GROUP = 1001, -4001


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    settings = Settings(http_port=0, _env_file=None)  # type: ignore[call-arg]
    sandbox = Sandbox(settings, publish_every=0.3, poll_interval=1.0)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


class Page:
    """What a browser tab does: one WebSocket of events and JSON posts."""

    def __init__(self, http: aiohttp.ClientSession, base: str, socket: Any) -> None:
        self.http, self.base, self.socket = http, base, socket

    async def post(self, path: str, body: object) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.base + path, json=body) as response:
            return response.status, await response.json()

    async def event(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        """The next event that `matches`, skipping others (pushes to other chats, edits…)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.socket.receive_json()
                if matches(event):
                    return event


def bot_message(chat_id: int, where: Callable[[dict[str, Any]], bool] = bool) -> Any:
    def matches(event: dict[str, Any]) -> bool:
        message = event.get("message") or {}
        return (
            event["type"] == "message"
            and event["chat_id"] == chat_id
            and message.get("from") == "bot"
            and where(message)
        )

    return matches


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[Page]:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(sandbox.url + "api/events") as socket,
    ):
        snapshot = await socket.receive_json()
        assert snapshot == {"type": "snapshot", "events": []}
        yield Page(http, sandbox.url.rstrip("/"), socket)


async def test_command_reply_button_and_push(sandbox: Sandbox, page: Page) -> None:
    status, sent = await page.post(f"/api/chats/{ALICE}/messages", {"text": "/subscribe"})
    assert status == 200 and isinstance(sent["message_id"], int)
    # The page sees its own message first, as Telegram echoes it, with the command marked.
    mine = await page.event(lambda e: e["type"] == "message" and e["message"]["from"] == "user")
    assert mine["message"]["text"] == "/subscribe"
    assert mine["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 10}]

    keyboard = await page.event(bot_message(ALICE, lambda m: bool(m["buttons"])))
    buttons = {b["text"]: b["data"] for row in keyboard["message"]["buttons"] for b in row}
    assert buttons["Ukraine"] == "sub:ukraine"

    message_id = keyboard["message"]["id"]
    status, pressed = await page.post(
        f"/api/chats/{ALICE}/buttons", {"message_id": message_id, "data": "sub:ukraine"}
    )
    assert status == 200 and pressed["callback_query_id"]
    answer = await page.event(lambda e: e["type"] == "answer")
    assert answer == {
        "type": "answer",
        "chat_id": ALICE,
        "text": "Following Ukraine",
        "show_alert": False,
    }
    edited = await page.event(bot_message(ALICE, lambda m: m["id"] == message_id))
    labels = [b["text"] for row in edited["message"]["buttons"] for b in row]
    assert "✓ Ukraine" in labels and "Ukraine" not in labels

    # A replayed story about Ukraine arrives as a push: bold headline, source linked.
    push = await page.event(
        bot_message(ALICE, lambda m: any(e["type"] == "text_link" for e in m["entities"])),
        timeout=30,
    )
    message = push["message"]
    assert message["entities"][0]["type"] == "bold" and message["entities"][0]["offset"] == 0
    link = next(e for e in message["entities"] if e["type"] == "text_link")
    assert link["url"].startswith("https://")
    assert sandbox.replayer.published  # the story came from the replayer

    # The chat's history holds the same conversation for a page that opens later.
    async with page.http.get(f"{page.base}/api/chats/{ALICE}/messages") as response:
        history = (await response.json())["messages"]
    assert [m["from"] for m in history[:2]] == ["user", "bot"]
    assert any(m["id"] == message["id"] for m in history)


async def test_group_chat_and_page_assets(sandbox: Sandbox, page: Page) -> None:
    status, _ = await page.post(f"/api/chats/{GROUP}/messages", {"text": "/start"})
    assert status == 200
    mine = await page.event(lambda e: e["type"] == "message" and e["chat_id"] == GROUP)
    assert mine["message"]["sender"] == "Alice"
    reply = await page.event(bot_message(GROUP))
    assert "/subscribe" in reply["message"]["text"]
    assert sandbox.emulator.messages_to(GROUP)[0].plain_text == reply["message"]["text"]
    # The group is Alice's own: she may change what it follows.
    await page.post(f"/api/chats/{GROUP}/messages", {"text": "/subscribe sanctions"})
    reply = await page.event(bot_message(GROUP, lambda m: "Sanctions" in m["text"]))
    assert "Subscribed to Sanctions" in reply["message"]["text"]

    async with page.http.get(page.base + "/") as response:
        assert response.status == 200
        assert "newsbot sandbox" in await response.text()
    for asset in ("/static/chat.js", "/static/chat.css"):
        async with page.http.get(page.base + asset) as response:
            assert response.status == 200
    async with page.http.get(page.base + "/api/chats") as response:
        info = await response.json()
    assert [chat["id"] for chat in info["chats"]] == [1001, 1002, 1003, GROUP]
    assert "subscribe" in {command["command"] for command in info["commands"]}
    async with page.http.get(page.base + "/healthz") as response:
        assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_api_refuses_bad_requests(sandbox: Sandbox, page: Page) -> None:
    assert (await page.post("/api/chats/42/messages", {"text": "/start"}))[0] == 404
    assert (await page.post(f"/api/chats/{ALICE}/messages", {"text": "  "}))[0] == 400
    missing = await page.post(f"/api/chats/{ALICE}/buttons", {"message_id": 999, "data": "x"})
    assert missing[0] == 404
    # A form post (what another site could make a browser send) is refused.
    async with page.http.post(
        f"{page.base}/api/chats/{ALICE}/messages", data={"text": "/start"}
    ) as response:
        assert response.status == 400
    headers = {"Origin": "http://evil.example"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await page.http.ws_connect(sandbox.url + "api/events", headers=headers)
    assert refused.value.status == 403


async def test_stop_removes_the_throwaway_database() -> None:
    settings = Settings(http_port=0, _env_file=None)  # type: ignore[call-arg]
    sandbox = Sandbox(settings, publish_every=60)
    await sandbox.start()
    ctx = sandbox.ctx
    assert ctx is not None
    database = Path(ctx.settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    assert await asyncio.to_thread(database.exists)
    await sandbox.stop()
    assert not await asyncio.to_thread(database.parent.exists)
