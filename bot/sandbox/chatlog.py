"""The web chat's view of the emulator: what each chat shows, as JSON-ready events.

`chat_event` turns one emulator event (a user's update or a bot's API call) into what a chat
window needs: a message to show or replace, a message to remove, or a button's answer.
Messages keep the emulator's parsed text and entities (offsets in UTF-16 code units, as in
Telegram and in JavaScript strings), so the page builds DOM nodes from them and never
interprets the bot's HTML itself.

`ChatLog` is the emulator's one subscriber here: it keeps each chat's history (so a page that
opens late, or switches chats, sees what happened) and fans every event out to the open
pages. A page takes its snapshot and its listener in one step, so it misses nothing and sees
nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

ChatEvent = dict[str, Any]
MAX_MESSAGES_PER_CHAT = 300
SAFE_URL_SCHEMES = ("http://", "https://", "tg://", "mailto:")
SHOWN_METHODS = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup"})


def chat_event(event: Mapping[str, Any]) -> ChatEvent | None:
    """What a chat window shows for one `BotAPIEmulator.subscribe_events()` event, if anything."""
    method = event.get("method")
    payload = event.get("payload")
    chat_id = event.get("chat_id")
    if not isinstance(payload, Mapping) or not isinstance(chat_id, int):
        return None
    if event.get("direction") == "incoming":
        message = payload.get("message")
        if method == "message" and isinstance(message, Mapping):
            shown = _message(message, "user", edited=False)
            return {"type": "message", "chat_id": chat_id, "message": shown}
        return None
    if method in SHOWN_METHODS:
        message = _message(payload, "bot", edited=method == "editmessagetext")
        return {"type": "message", "chat_id": chat_id, "message": message}
    if method == "deletemessage":
        return {"type": "delete", "chat_id": chat_id, "message_id": payload.get("message_id")}
    if method == "answercallbackquery":
        text = payload.get("text")
        return {
            "type": "answer",
            "chat_id": chat_id,
            "text": "" if text is None else str(text),
            "show_alert": str(payload.get("show_alert", "")).lower() in ("true", "1"),
        }
    return None


def _message(message: Mapping[str, Any], side: str, *, edited: bool) -> dict[str, Any]:
    """`edited` only for a new text: Telegram marks no edit when just the buttons change."""
    sender = message.get("from") or {}
    entities = [_entity(e) for e in message.get("entities") or () if isinstance(e, Mapping)]
    return {
        "id": message.get("message_id"),
        "from": side,
        "sender": str(sender.get("first_name") or ""),
        "date": message.get("date"),
        "text": str(message.get("text") or ""),
        "entities": [entity for entity in entities if entity is not None],
        "buttons": _buttons(message.get("reply_markup")),
        "edited": edited,
    }


def _entity(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
    if not isinstance(kind, str) or not isinstance(offset, int) or not isinstance(length, int):
        return None
    result: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    url = entity.get("url")
    if isinstance(url, str) and url.lower().startswith(SAFE_URL_SCHEMES):
        result["url"] = url
    if isinstance(entity.get("language"), str):
        result["language"] = entity["language"]
    return result


def _buttons(markup: object) -> list[list[dict[str, str]]]:
    """Inline keyboard rows; a button keeps its callback data or a safe URL, nothing else."""
    if not isinstance(markup, Mapping) or not isinstance(markup.get("inline_keyboard"), list):
        return []
    rows = []
    for row in markup["inline_keyboard"]:
        buttons = []
        for button in row if isinstance(row, list) else ():
            if not isinstance(button, Mapping) or not isinstance(button.get("text"), str):
                continue
            shown = {"text": button["text"]}
            if isinstance(button.get("callback_data"), str):
                shown["data"] = button["callback_data"]
            url = button.get("url")
            if isinstance(url, str) and url.lower().startswith(SAFE_URL_SCHEMES):
                shown["url"] = url
            buttons.append(shown)
        if buttons:
            rows.append(buttons)
    return rows


class ChatLog:
    """Each chat's messages in order, and the pages listening for more."""

    def __init__(self, limit: int = MAX_MESSAGES_PER_CHAT) -> None:
        self._limit = limit
        self._chats: dict[int, dict[int, dict[str, Any]]] = {}
        self._listeners: set[asyncio.Queue[ChatEvent]] = set()

    def apply(self, event: ChatEvent) -> None:
        """Record `event` and pass it to every listener."""
        chat_id = event["chat_id"]
        messages = self._chats.setdefault(chat_id, {})
        if event["type"] == "message":
            message = event["message"]
            messages[message["id"]] = message
            while len(messages) > self._limit:
                del messages[next(iter(messages))]
        elif event["type"] == "delete":
            messages.pop(event["message_id"], None)
        for listener in self._listeners:
            listener.put_nowait(event)

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages, oldest first (an edited message keeps its place)."""
        return list(self._chats.get(chat_id, {}).values())

    def listen(self) -> tuple[list[ChatEvent], asyncio.Queue[ChatEvent]]:
        """Every chat's messages so far as events, and a queue of everything after them."""
        snapshot = [
            {"type": "message", "chat_id": chat_id, "message": message}
            for chat_id, messages in self._chats.items()
            for message in messages.values()
        ]
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self._listeners.add(queue)
        return snapshot, queue

    def unlisten(self, queue: asyncio.Queue[ChatEvent]) -> None:
        self._listeners.discard(queue)

    async def follow(self, events: asyncio.Queue[dict[str, Any]]) -> None:
        """Apply the emulator's events as they come, until cancelled."""
        while True:
            raw = await events.get()
            event = chat_event(raw)
            if event is not None:
                self.apply(event)
