"""Telegram's flood limits, kept for every message the bot sends (alerts and replies alike).

PTB's `AIORateLimiter` covers the overall and per-group limits but not one message per second
per private chat, and its leaky buckets allow bursts that break a strict per-second window.
This limiter throttles instead of reacting:

* overall: sends are spaced 1/rate apart (`NEWSBOT_SEND_RATE`, Telegram's ~30/s by default);
* private chats: one message per `private_interval` (Bot FAQ: "avoid sending more than one
  message per second" in a chat);
* groups: one per `group_interval`, i.e. 20 per minute evenly spread (Bot FAQ).

Spacing alone is not enough: Telegram counts a send when it *arrives*, and a send released
on time can arrive late (the event loop stalled between release and write, or the network
held it), bunching with the sends after it in Telegram's sliding window. The one time we know
a send had arrived by is when its answer came back. So a send counts against the overall
window from its release until one second after its answer (while in flight it counts too),
and a chat's next send waits for the interval after the previous answer, not the previous
release. Every arrival window then holds at most `overall_rate` sends, whatever the jitter:
of any sends that arrived within one second, take the one released last; when it was
released, each of the others had been released and either was in flight or was answered
(after it arrived, so) less than a second earlier, and so was counted. The price is the
round trip: the bot sends about rate / (1 + round-trip seconds), ~27/s at a 100 ms round
trip, instead of gambling on a 429, whose pause costs seconds. (The fixed 3 %
headroom this replaced was measured away by a loaded CI runner: 150 sends arrived within
0.95 s although no second of releases held more than 145.)

When Telegram still answers 429, *every* send pauses for exactly the `retry_after` it asked
for, and the request is retried up to `max_retries` times before the `RetryAfter` is raised to
the caller (the outbox then reschedules it).

Only message-producing methods are throttled; `getUpdates`, `answerCallbackQuery`, `getMe`
and the like go straight through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
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
        self._overall_gap = 1.0 / overall_rate
        self._private_interval = private_interval
        self._group_interval = group_interval
        self._max_retries = max_retries
        self._clock = clock
        self._next_overall = 0.0
        self._window_cap = max(1, int(overall_rate))
        self._in_flight = 0
        self._answered: deque[float] = deque()  # answer times of the last second, in order
        self._answer = asyncio.Event()
        self._next_by_chat: dict[object, float] = {}  # planned: release + interval
        self._free_by_chat: dict[object, float] = {}  # known: last answer + interval
        self._paused_until = 0.0
        self._reservations = 0
        self.retry_after_pauses = 0  # how often Telegram made us wait: a health signal

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def chat_ready_at(self, chat_id: object) -> float:
        """The earliest monotonic time at which a send to this chat would not be delayed."""
        free_at = self._free_by_chat.get(chat_id, 0.0)
        if free_at == math.inf:  # a send is in flight: its answer will tell
            free_at = 0.0
        return max(self._next_by_chat.get(chat_id, 0.0), free_at, self._paused_until)

    def _interval(self, chat_id: object) -> float:
        return self._group_interval if is_group_chat(chat_id) else self._private_interval

    def _reserve(self, chat_id: object | None) -> float:
        """Book the next free slot for this send and return when it starts."""
        now = self._clock()
        start = max(now, self._paused_until)
        if chat_id is not None:
            start = max(start, self.chat_ready_at(chat_id))
        start = max(start, self._next_overall)
        self._next_overall = start + self._overall_gap
        if chat_id is not None:
            self._next_by_chat[chat_id] = start + self._interval(chat_id)
        self._reservations += 1
        if self._reservations % PRUNE_EVERY == 0:
            self._prune(now)
        return start

    def _prune(self, now: float) -> None:
        for by_chat in (self._next_by_chat, self._free_by_chat):
            stale = [chat for chat, at in by_chat.items() if at < now]
            for chat in stale:
                del by_chat[chat]

    async def _wait_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _admit(self, chat_id: object | None) -> None:
        """Hold the send until the chat's previous send was answered and its interval has
        passed since that answer, and fewer than the cap of sends are in flight or were
        answered in the last second; then count it as in flight. One check for both, so
        two sends to one chat cannot slip through while each waits on the other limit."""
        while True:
            self._answer.clear()
            now = self._clock()
            answered = self._answered
            while answered and answered[0] <= now - OVERALL_WINDOW:
                answered.popleft()
            free_at = 0.0 if chat_id is None else self._free_by_chat.get(chat_id, 0.0)
            room = self._in_flight + len(answered) < self._window_cap
            if room and free_at <= now:
                self._in_flight += 1
                if chat_id is not None:
                    self._free_by_chat[chat_id] = math.inf  # until its answer is back
                return
            # Wake at the next moment either limit can change, or at the next answer.
            moments = [free_at] if now < free_at < math.inf else []
            if not room and answered:
                moments.append(answered[0] + OVERALL_WINDOW)
            timeout = min(moments) - now if moments else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answer.wait(), timeout)

    def _done(self, chat_id: object | None) -> None:
        """The send was answered: Telegram had counted it by now."""
        now = self._clock()
        self._in_flight -= 1
        self._answered.append(now)
        self._answer.set()
        if chat_id is not None:
            self._free_by_chat[chat_id] = now + self._interval(chat_id)

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
                await self._admit(chat_id)
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
            finally:
                if throttled:
                    self._done(chat_id)
