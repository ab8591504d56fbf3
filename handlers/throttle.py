"""Per-chat throttling of commands and button presses, checked before every other handler.

A chat may send `burst` commands at once, then `rate` per second (a button press costs half a
command: tapping through a menu is quicker than typing). Beyond that its updates
are dropped (the first one of a burst gets a short "slow down"; a button press always gets
its answer so the client stops spinning). Nothing about the chat is touched: its
subscriptions and settings are exactly as before, and it can go on once it slows down.
Without this, one chat flooding commands would use up the bot's shared 30 messages/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler

from bot.context import CustomContext
from handlers.common import register_chat, reply, translator

MAX_TRACKED = 10_000
BUTTON_COST = 0.5


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class Throttle:
    """Token buckets per chat; `clock` is monotonic seconds (injected in tests)."""

    def __init__(
        self, *, rate: float = 1.0, burst: int = 8, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def take(self, chat_id: int, cost: float = 1.0) -> tuple[bool, bool]:
        """(allowed, first refusal of this burst) for one command of `chat_id`."""
        now = self._clock()
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_idle(now)
            bucket = self._buckets[chat_id] = _Bucket(tokens=self._burst, at=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            bucket.warned = False
            return True, False
        first = not bucket.warned
        bucket.warned = True
        return False, first

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled: they hold nothing a new bucket would not."""
        full = [
            chat_id
            for chat_id, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.at) * self._rate >= self._burst
        ]
        for chat_id in full:
            del self._buckets[chat_id]


class ThrottleHandler(BaseHandler[Update, CustomContext, None]):
    """Claims an update only when its chat is over the limit; otherwise lets it through."""

    def __init__(self, throttle: Throttle) -> None:
        super().__init__(self._refuse)
        self._throttle = throttle
        self._to_answer: set[int] = set()  # update ids that get a "slow down"

    def check_update(self, update: object) -> bool | None:
        if not isinstance(update, Update) or update.effective_chat is None:
            return None
        message = update.message
        # A command, or text in a private chat (it gets a hint: handlers.start), costs a reply.
        is_command = message is not None and (
            (message.text or "").startswith("/")
            or (message.text is not None and update.effective_chat.type == ChatType.PRIVATE)
        )
        if not is_command and update.callback_query is None:
            return None
        cost = 1.0 if is_command else BUTTON_COST
        allowed, first = self._throttle.take(update.effective_chat.id, cost)
        if allowed:
            return None
        if first or update.callback_query is not None:
            self._to_answer.add(update.update_id)
        return True  # claimed: no other handler sees it

    async def _refuse(self, update: Update, context: CustomContext) -> None:
        if update.update_id not in self._to_answer:
            return
        self._to_answer.discard(update.update_id)
        chat = await register_chat(update, context)
        _ = translator(context, chat).gettext
        text = _("Too many commands at once. Please wait a few seconds and try again.")
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        else:
            await reply(update, text)


def build(throttle: Throttle | None = None) -> list[BaseHandler[Update, CustomContext, None]]:
    return [ThrottleHandler(throttle or Throttle())]
