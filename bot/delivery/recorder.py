"""Group commit for send results: many outcomes, one transaction.

A commit per message would cost more than the send itself at hundreds of messages a second.
Each caller of `record` waits until the transaction holding its outcome has committed, so the
sender never moves on from a send the database does not know about yet: batching changes
how many rows one commit carries, not how many sends can repeat after a crash.

A batch closes when it holds `max_batch` outcomes or `max_delay` seconds after its first one.
If the write fails it is retried (the database may be restarting); after `attempts` tries the
error reaches every waiter, and the rows stay claimed until their lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from storage import outbox

logger = logging.getLogger(__name__)


class Result(Enum):
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to the rows of one message (one alert, or every alert of a digest)."""

    result: Result
    outbox_ids: tuple[int, ...]
    message_id: int | None = None
    retry_at: datetime | None = None
    error: str | None = None
    count_attempt: bool = True


@dataclass
class _Batch:
    outcomes: list[Outcome] = field(default_factory=list)
    full: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class OutcomeRecorder:
    """Collects outcomes from concurrent senders and writes them in one transaction."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        max_batch: int = 256,
        max_delay: float = 0.02,
        attempts: int = 5,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._attempts = attempts
        self._open: _Batch | None = None
        self.commits = 0  # how many transactions were written: the benchmark reports it

    async def record(self, outcome: Outcome) -> None:
        """Returns once `outcome` is committed; cancelling the caller does not cancel the write."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            batch.task = asyncio.get_running_loop().create_task(
                self._commit(batch), name="newsbot-outbox-commit"
            )
        batch.outcomes.append(outcome)
        if len(batch.outcomes) >= self._max_batch:
            batch.full.set()
        assert batch.task is not None
        await asyncio.shield(batch.task)

    async def _commit(self, batch: _Batch) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(batch.full.wait(), self._max_delay)
        if self._open is batch:
            self._open = None
        for attempt in range(1, self._attempts + 1):
            try:
                await self._write(batch.outcomes)
            except Exception:
                if attempt == self._attempts:
                    raise
                logger.exception("Writing %d send results failed; retrying", len(batch.outcomes))
                await asyncio.sleep(0.2 * 2**attempt)
            else:
                self.commits += 1
                return

    async def _write(self, outcomes: list[Outcome]) -> None:
        now = self._clock.now()
        sent: list[tuple[int, int | None]] = []
        unconfirmed: list[tuple[int, int | None]] = []
        async with self._sessionmaker() as session, session.begin():
            for outcome in outcomes:
                if outcome.result is Result.SENT:
                    sent.extend((row, outcome.message_id) for row in outcome.outbox_ids)
                elif outcome.result is Result.UNCONFIRMED:
                    unconfirmed.extend((row, None) for row in outcome.outbox_ids)
                elif outcome.result is Result.RETRY:
                    await outbox.release(
                        session,
                        outcome.outbox_ids,
                        retry_at=outcome.retry_at or now,
                        error=outcome.error,
                        count_attempt=outcome.count_attempt,
                    )
                else:
                    await outbox.mark_failed(
                        session, outcome.outbox_ids, error=outcome.error or "failed"
                    )
            await outbox.record_sent(session, sent, now=now)
            await outbox.record_sent(session, unconfirmed, now=now, confirmed=False)
