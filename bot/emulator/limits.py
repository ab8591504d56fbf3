"""Telegram's flood limits, enforced the way the emulated Bot API server answers them.

Telegram documents its limits only loosely (Bot FAQ, "My bot is hitting limits"):
about one message per second in a chat, no more than 20 messages per minute in
the same group, and about 30 messages per second overall; ``allow_paid_broadcast``
raises the overall rate to 1000/s.  The real server answers a send that breaks a
limit with HTTP 429 and ``parameters.retry_after``; this module decides *whether*
a send breaks a limit and *how long* the caller must wait.

The windows are strict sliding windows over the sends that were actually
delivered, so a bot that keeps within the documented numbers never sees a 429,
and a bot that relies on Telegram's undocumented burst allowance does.  That is
the point: the emulator is for proving the bot's own rate limiting.

``FloodLimits.tolerance`` is slack in the bot's favour that absorbs the jitter
between the moment the bot's limiter releases a send and the moment the request
reaches the emulator: a private-chat send 0.97 s after the previous one is fine
with the default 0.05 s, one 0.9 s after it is not.

This module raises nothing.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

GROUP_WINDOW = 60.0
OVERALL_WINDOW = 1.0


@dataclass(frozen=True)
class FloodLimits:
    """The numbers the emulator enforces; the defaults are Telegram's documented ones.

    ``per_chat_interval`` applies to private chats (positive ids), ``group_per_minute``
    to groups, supergroups and channels (negative ids) over a sliding 60 s window,
    ``overall_per_second`` across all chats over a sliding 1 s window, and
    ``paid_per_second`` replaces it for sends with ``allow_paid_broadcast``.
    """

    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    overall_per_second: float = 30.0
    paid_per_second: float = 1000.0
    tolerance: float = 0.05

    def __post_init__(self) -> None:
        rates = (
            self.per_chat_interval,
            self.group_per_minute,
            self.overall_per_second,
            self.paid_per_second,
        )
        if min(rates) <= 0:
            raise ValueError("flood limits must be positive")
        if self.tolerance < 0:
            raise ValueError("tolerance must not be negative")


def retry_after_seconds(wait: float) -> int:
    """Round a wait up to whole seconds, as Telegram's ``retry_after`` is an integer ≥ 1."""
    return max(1, math.ceil(wait))


class FloodGate:
    """Remembers delivered sends and admits or refuses the next one.

    One gate belongs to one emulator; it holds no clock of its own, every call
    passes ``now`` so tests can drive it with a fake clock.
    """

    def __init__(self, limits: FloodLimits) -> None:
        self._limits = limits
        self._last_private: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._overall_sends: deque[tuple[float, bool]] = deque()

    @property
    def limits(self) -> FloodLimits:
        return self._limits

    def admit(self, chat_id: int, now: float, *, paid: bool = False) -> int | None:
        """Record a send to ``chat_id`` at ``now`` if it keeps every limit.

        Returns ``None`` when the send is admitted (and remembered), otherwise the
        ``retry_after`` in whole seconds after which the refused send would pass.
        A refused send is not remembered: it was never delivered.
        """
        waits = [self._overall_wait(now, paid=paid)]
        if chat_id > 0:
            waits.append(self._private_wait(chat_id, now))
        else:
            waits.append(self._group_wait(chat_id, now))
        wait = max(waits)
        if wait > 0:
            return retry_after_seconds(wait)
        self._remember(chat_id, now, paid=paid)
        return None

    def _private_wait(self, chat_id: int, now: float) -> float:
        last = self._last_private.get(chat_id)
        if last is None:
            return 0.0
        free_at = last + self._limits.per_chat_interval - self._limits.tolerance
        return max(0.0, free_at - now)

    def _group_wait(self, chat_id: int, now: float) -> float:
        sends = self._group_sends.get(chat_id)
        if not sends:
            return 0.0
        window = GROUP_WINDOW - self._limits.tolerance
        while sends and sends[0] <= now - window:
            sends.popleft()
        if len(sends) < self._limits.group_per_minute:
            return 0.0
        # The send becomes possible once enough of the oldest sends leave the window.
        blocking = sends[len(sends) - self._limits.group_per_minute]
        return max(0.0, blocking + window - now)

    def _overall_wait(self, now: float, *, paid: bool) -> float:
        window = OVERALL_WINDOW - self._limits.tolerance
        while self._overall_sends and self._overall_sends[0][0] <= now - window:
            self._overall_sends.popleft()
        if paid:
            counted = [at for at, _ in self._overall_sends]
            limit = self._limits.paid_per_second
        else:
            counted = [at for at, was_paid in self._overall_sends if not was_paid]
            limit = self._limits.overall_per_second
        if len(counted) < limit:
            return 0.0
        blocking = counted[len(counted) - math.ceil(limit)]
        return max(0.0, blocking + window - now)

    def _remember(self, chat_id: int, now: float, *, paid: bool) -> None:
        if chat_id > 0:
            self._last_private[chat_id] = now
        else:
            self._group_sends.setdefault(chat_id, deque()).append(now)
        self._overall_sends.append((now, paid))
