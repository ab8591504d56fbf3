"""Telegram's flood limits, kept for every message the bot sends (alerts and replies alike).

PTB's `AIORateLimiter` covers the overall and per-group limits but not one message per second
per private chat, and its leaky buckets allow bursts that break a strict per-second window.
This limiter throttles instead of reacting:

* overall: sends are spaced 1/rate apart (`NEWSBOT_SEND_RATE`, Telegram's ~30/s by default);
* private chats: one message per `private_interval` (Bot FAQ: "avoid sending more than one
  message per second" in a chat);
* groups: one per `group_interval`, i.e. 20 per minute evenly spread (Bot FAQ).

Spacing alone is not enough: a send released late (the event loop was busy) bunches up
with the ones after it, and Telegram counts sends in a sliding window. So a send is also
held until fewer than `overall_rate` × `HEADROOM` sends were released in the last second,
and the spacing uses the same rate. The 3 % headroom absorbs the jitter between a release
and its arrival at Telegram (measured against the emulator: bursts of a few sends arriving
50–100 ms late under load); without it a bot at exactly the limit sees the odd 429.

When Telegram still answers 429, *every* send pauses for exactly the `retry_after` it asked
for, and the request is retried up to `max_retries` times before the `RetryAfter` is raised to
the caller (the outbox then reschedules it).

Only message-producing methods are throttled; `getUpdates`, `answerCallbackQuery`, `getMe`
and the like go straight through.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

THROTTLED_PREFIXES = ("send", "edit", "copy", "forward")
UNTHROTTLED = frozenset({"sendChatAction", "editMessageReplyMarkup"})
PRUNE_EVERY = 4096
OVERALL_WINDOW = 1.0  # seconds: Telegram's "30 messages per second" window
HEADROOM = 0.97  # the share of the overall rate actually used; see the module docstring


def retry_after_seconds(error: RetryAfter) -> float:
    """`RetryAfter.retry_after` as seconds, without PTB's int→timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: object = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


def is_group_chat(chat_id: object) -> bool:
    """Negative ids are groups, supergroups and channels; "@name" strings are public ones."""
    if isinstance(chat_id, str):
        return not chat_id.lstrip("-").isdigit() or chat_id.startswith("-")
    return isinstance(chat_id, int) and chat_id < 0


class FloodLimiter(BaseRateLimiter[int]):
    """Spaces sends per chat and overall; pauses everything on 429. See the module docstring."""

    def __init__(
        self,
        *,
        overall_rate: float = 30.0,
        private_interval: float = 1.0,
        group_interval: float = 3.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall_gap = 1.0 / (overall_rate * HEADROOM)
        self._private_interval = private_interval
        self._group_interval = group_interval
        self._max_retries = max_retries
        self._clock = clock
        self._next_overall = 0.0
        self._window_cap = max(1, int(overall_rate * HEADROOM))
        self._released: deque[float] = deque()
        self._next_by_chat: dict[object, float] = {}
        self._paused_until = 0.0
        self._reservations = 0
        self.retry_after_pauses = 0  # how often Telegram made us wait: a health signal

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def chat_ready_at(self, chat_id: object) -> float:
        """The earliest monotonic time at which a send to this chat would not be delayed."""
        return max(self._next_by_chat.get(chat_id, 0.0), self._paused_until)

    def _interval(self, chat_id: object) -> float:
        return self._group_interval if is_group_chat(chat_id) else self._private_interval

    def _reserve(self, chat_id: object | None) -> float:
        """Book the next free slot for this send and return when it starts."""
        now = self._clock()
        start = max(now, self._paused_until)
        if chat_id is not None:
            start = max(start, self._next_by_chat.get(chat_id, 0.0))
        start = max(start, self._next_overall)
        self._next_overall = start + self._overall_gap
        if chat_id is not None:
            self._next_by_chat[chat_id] = start + self._interval(chat_id)
        self._reservations += 1
        if self._reservations % PRUNE_EVERY == 0:
            self._prune(now)
        return start

    def _prune(self, now: float) -> None:
        stale = [chat for chat, at in self._next_by_chat.items() if at < now]
        for chat in stale:
            del self._next_by_chat[chat]

    async def _wait_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _release_in_window(self) -> float:
        """Hold the send until the last second holds fewer releases than the cap."""
        while True:
            now = self._clock()
            released = self._released
            while released and released[0] <= now - OVERALL_WINDOW:
                released.popleft()
            if len(released) < self._window_cap:
                released.append(now)
                return now
            await asyncio.sleep(released[0] + OVERALL_WINDOW - now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        throttled = endpoint.startswith(THROTTLED_PREFIXES) and endpoint not in UNTHROTTLED
        max_retries = self._max_retries if rate_limit_args is None else rate_limit_args
        chat_id = data.get("chat_id")
        attempt = 0
        while True:
            if throttled:
                await self._wait_until(self._reserve(chat_id))
                released = await self._release_in_window()
                if chat_id is not None:
                    # A late release pushes the chat's next slot back: the gap is kept
                    # between the sends that happened, not the ones that were planned.
                    self._next_by_chat[chat_id] = max(
                        self._next_by_chat.get(chat_id, 0.0), released + self._interval(chat_id)
                    )
            else:
                await self._wait_until(self._paused_until)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                self.retry_after_pauses += 1
                self._paused_until = max(self._paused_until, self._clock() + seconds)
                logger.warning(
                    "Telegram asked to wait %.1f s (%s to chat %s, attempt %d)",
                    seconds,
                    endpoint,
                    chat_id,
                    attempt + 1,
                )
                if attempt >= max_retries:
                    raise
                attempt += 1
