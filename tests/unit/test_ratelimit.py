"""The flood limiter: per-chat and overall spacing, and the shared pause on 429."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.delivery.ratelimit import FloodLimiter, is_group_chat, retry_after_seconds


class Recorder:
    def __init__(self, fail_first: int = 0, retry_after: int = 1) -> None:
        self.calls: list[tuple[float, Any]] = []
        self._fail = fail_first
        self._retry_after = retry_after

    async def __call__(self, chat_id: Any) -> bool:
        if self._fail > 0:
            self._fail -= 1
            raise RetryAfter(self._retry_after)
        self.calls.append((time.monotonic(), chat_id))
        return True


async def _send(
    limiter: FloodLimiter, recorder: Recorder, chat_id: Any, endpoint: str = "sendMessage"
) -> Any:
    return await limiter.process_request(
        recorder, (chat_id,), {}, endpoint, {"chat_id": chat_id}, None
    )


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def test_private_chat_sends_are_spaced() -> None:
    limiter = FloodLimiter(overall_rate=1000, private_interval=0.05, group_interval=0.15)
    recorder = Recorder()
    await asyncio.gather(*(_send(limiter, recorder, 42) for _ in range(5)))
    gaps = _gaps([at for at, _ in recorder.calls])
    assert len(gaps) == 4
    assert min(gaps) >= 0.045


async def test_group_sends_use_the_group_interval() -> None:
    limiter = FloodLimiter(overall_rate=1000, private_interval=0.01, group_interval=0.1)
    recorder = Recorder()
    await asyncio.gather(*(_send(limiter, recorder, -100123) for _ in range(3)))
    assert min(_gaps([at for at, _ in recorder.calls])) >= 0.095


async def test_overall_rate_spaces_sends_across_chats() -> None:
    limiter = FloodLimiter(overall_rate=50, private_interval=1.0)
    recorder = Recorder()
    await asyncio.gather(*(_send(limiter, recorder, chat) for chat in range(1, 11)))
    times = sorted(at for at, _ in recorder.calls)
    assert len(times) == 10
    assert min(_gaps(times)) >= 0.018  # 1/50 s, less scheduling noise
    assert times[-1] - times[0] >= 9 * 0.018


async def test_unthrottled_methods_go_straight_through() -> None:
    limiter = FloodLimiter(overall_rate=1, private_interval=10)
    recorder = Recorder()
    start = time.monotonic()
    for _ in range(3):
        await _send(limiter, recorder, 42, endpoint="answerCallbackQuery")
    assert time.monotonic() - start < 0.5


async def test_retry_after_pauses_every_send_then_retries() -> None:
    limiter = FloodLimiter(overall_rate=1000, private_interval=0.0, max_retries=2)
    failing = Recorder(fail_first=1, retry_after=1)
    other = Recorder()
    start = time.monotonic()
    first = asyncio.create_task(_send(limiter, failing, 1))
    await asyncio.sleep(0.05)  # the 429 has been answered; the pause is in force
    await _send(limiter, other, 2)
    await first
    assert failing.calls and failing.calls[0][0] - start >= 1.0
    assert other.calls[0][0] - start >= 0.95  # the other chat waited for the pause too
    assert limiter.retry_after_pauses == 1


async def test_retry_after_is_raised_when_retries_run_out() -> None:
    limiter = FloodLimiter(overall_rate=1000, private_interval=0.0, max_retries=0)
    with pytest.raises(RetryAfter):
        await _send(limiter, Recorder(fail_first=1, retry_after=1), 1)


def test_retry_after_seconds_accepts_int_and_timedelta() -> None:
    assert retry_after_seconds(RetryAfter(7)) == 7.0
    assert retry_after_seconds(RetryAfter(timedelta(seconds=3))) == 3.0


def test_group_detection() -> None:
    assert is_group_chat(-100123)
    assert is_group_chat("@channel")
    assert not is_group_chat(42)
    assert not is_group_chat("42")
