"""The sender: drains the outbox into Telegram, one worker per chat, within the flood limits.

Telegram's answers, and what each does to the outbox row (see `storage.outbox`)::

    ok                         → sent
    RetryAfter (429)           → the limiter paused every send and retried; if it still fails,
                                 back to pending, due after retry_after (not counted as a try)
    Forbidden (403)            → chat inactive (blocked, kicked, deactivated); its alerts dropped
    BadRequest chat not found  → the same
    ChatMigrated               → chat moved to the new id with its subscriptions and alerts
    BadRequest can't parse     → resent once as plain text; logged as a defect
    other BadRequest           → failed (permanent: retrying the same request cannot help)
    TimedOut                   → unconfirmed: the request may have reached Telegram, so it is
                                 counted as delivered rather than risk a duplicate alert
    NetworkError, 5xx          → retried with exponential backoff and jitter, then failed
    answer not understood      → unconfirmed, as for a timeout

Repeats after a crash are bounded by the sends in flight at that moment: a row becomes `sent`
right after Telegram's answer, and a claimed row that was never sent just goes back to the
queue when its lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, LinkPreviewOptions, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.clock import Clock
from bot.delivery.format import RenderedMessage, render_story_plain
from bot.delivery.ratelimit import retry_after_seconds
from storage import chats as chat_store
from storage import outbox
from storage.records import PendingAlert, Story

logger = logging.getLogger(__name__)

Renderer = Callable[[Story], RenderedMessage]


class Sender:
    """Owns the send loop; `wake()` after enqueueing, `stop()` to finish in-flight sends."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        render: Renderer,
        max_queued: int = 500,
        lease: timedelta = timedelta(minutes=2),
        poll_interval: float = 1.0,
        max_attempts: int = 6,
        base_backoff: float = 2.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bot = bot
        self._clock = clock
        self._render = render
        self._max_queued = max_queued
        self._lease = lease
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self._wake = asyncio.Event()
        self._stopping = False
        self._queues: dict[int, list[PendingAlert]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._queued = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="newsbot-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let in-flight sends finish (up to `grace` seconds), then cancel."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def run(self) -> None:
        while not self._stopping:
            claimed = 0
            try:
                claimed = await self.fill()
            except Exception:
                logger.exception("Claiming alerts from the outbox failed; retrying")
            if claimed == 0 or self._queued >= self._max_queued:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        await self._finish_in_flight()

    async def _finish_in_flight(self) -> None:
        """On stop: put queued-but-unsent alerts back at once, let the in-flight ones finish."""
        unsent: list[int] = []
        for queue in self._queues.values():
            unsent.extend(alert.outbox_id for alert in queue[1:])
            del queue[1:]
        self._queued = sum(len(queue) for queue in self._queues.values())
        if unsent:
            async with self._sessionmaker() as session, session.begin():
                await outbox.release(session, unsent, retry_at=self._now(), count_attempt=False)
        if self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def fill(self) -> int:
        """Claim due alerts up to the in-memory bound and hand them to per-chat workers."""
        room = self._max_queued - self._queued
        if room <= 0:
            return 0
        async with self._sessionmaker() as session, session.begin():
            alerts = await outbox.claim_due(
                session, now=self._clock.now(), lease=self._lease, limit=room
            )
        for alert in alerts:
            self._queues.setdefault(alert.chat_id, []).append(alert)
            self._queued += 1
            if alert.chat_id not in self._workers:
                self._workers[alert.chat_id] = asyncio.get_running_loop().create_task(
                    self._work(alert.chat_id), name=f"newsbot-send-{alert.chat_id}"
                )
        return len(alerts)

    async def _work(self, chat_id: int) -> None:
        """Send one chat's alerts in order; the limiter spaces them."""
        queue = self._queues[chat_id]
        try:
            while queue:
                alert = queue[0]
                try:
                    await self.deliver(alert)
                except Exception:
                    logger.exception("Delivering alert %d failed unexpectedly", alert.outbox_id)
                    await self._retry_later(alert, "unexpected error")
                finally:
                    if queue and queue[0] is alert:
                        queue.pop(0)
                        self._queued -= 1
                    self._wake.set()
        finally:
            self._workers.pop(chat_id, None)
            if not queue:
                self._queues.pop(chat_id, None)

    async def _send(self, chat_id: int, message: RenderedMessage) -> Message:
        return await self._bot.send_message(
            chat_id=chat_id,
            text=message.text,
            parse_mode=message.parse_mode,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def deliver(self, alert: PendingAlert) -> None:
        """Send one alert and record the outcome; never raises for Telegram's answers."""
        try:
            message = await self._send(alert.chat_id, self._render(alert.story))
        except RetryAfter as error:
            delay = retry_after_seconds(error)
            await self._release(alert, delay, f"flood control: retry after {delay:g} s", False)
        except ChatMigrated as error:
            await self._migrate(alert, error.new_chat_id)
        except Forbidden as error:
            await self._deactivate(alert.chat_id, str(error))
        except BadRequest as error:
            await self._bad_request(alert, error)
        except TimedOut as error:
            await self._unconfirmed(alert, f"timed out: {error}")
        except TelegramError as error:
            await self._retry_later(alert, str(error))
        except (KeyError, TypeError, ValueError) as error:
            # Telegram accepted the request but its answer made no sense to PTB.
            await self._unconfirmed(alert, f"unreadable answer: {error!r}")
        else:
            await self._mark_sent(alert, message.message_id)

    async def _bad_request(self, alert: PendingAlert, error: BadRequest) -> None:
        text = str(error).lower()
        if "chat not found" in text:
            await self._deactivate(alert.chat_id, str(error))
        elif "can't parse entities" in text:
            logger.error(
                "Telegram rejected the HTML of article %d (%s); sending it as plain text",
                alert.story.id,
                error,
            )
            try:
                message = await self._send(alert.chat_id, render_story_plain(alert.story))
            except TelegramError as retry_error:
                await self._fail(alert, f"plain-text resend failed: {retry_error}")
            else:
                await self._mark_sent(alert, message.message_id)
        else:
            await self._fail(alert, str(error))

    def _now(self) -> datetime:
        return self._clock.now()

    async def _mark_sent(self, alert: PendingAlert, message_id: int) -> None:
        async with self._sessionmaker() as session, session.begin():
            await outbox.mark_sent(
                session, [alert.outbox_id], now=self._now(), message_id=message_id
            )

    async def _unconfirmed(self, alert: PendingAlert, reason: str) -> None:
        logger.warning("Alert %d may or may not have arrived: %s", alert.outbox_id, reason)
        async with self._sessionmaker() as session, session.begin():
            await outbox.mark_sent(
                session, [alert.outbox_id], now=self._now(), message_id=None, confirmed=False
            )

    async def _release(
        self, alert: PendingAlert, delay: float, reason: str, count_attempt: bool
    ) -> None:
        async with self._sessionmaker() as session, session.begin():
            await outbox.release(
                session,
                [alert.outbox_id],
                retry_at=self._now() + timedelta(seconds=delay),
                error=reason,
                count_attempt=count_attempt,
            )

    async def _retry_later(self, alert: PendingAlert, reason: str) -> None:
        attempts = alert.attempts + 1
        if attempts >= self._max_attempts:
            await self._fail(alert, f"gave up after {attempts} attempts: {reason}")
            return
        delay = self._base_backoff * 2 ** (attempts - 1)
        delay += random.uniform(0, delay / 2)
        logger.info("Alert %d failed (%s); retrying in %.1f s", alert.outbox_id, reason, delay)
        await self._release(alert, delay, reason, True)

    async def _fail(self, alert: PendingAlert, reason: str) -> None:
        logger.error("Alert %d to chat %d failed: %s", alert.outbox_id, alert.chat_id, reason)
        async with self._sessionmaker() as session, session.begin():
            await outbox.mark_failed(session, [alert.outbox_id], error=reason)

    async def _deactivate(self, chat_id: int, reason: str) -> None:
        logger.info("Chat %d is gone (%s): marking it inactive", chat_id, reason)
        async with self._sessionmaker() as session, session.begin():
            await chat_store.deactivate_chat(session, chat_id, reason=reason, now=self._now())
        queue = self._queues.get(chat_id, [])
        dropped = len(queue) - 1
        if dropped > 0:
            del queue[1:]
            self._queued -= dropped

    async def _migrate(self, alert: PendingAlert, new_chat_id: int) -> None:
        logger.info("Chat %d migrated to %d", alert.chat_id, new_chat_id)
        async with self._sessionmaker() as session, session.begin():
            await chat_store.migrate_chat(session, alert.chat_id, new_chat_id, now=self._now())
        queue = self._queues.get(alert.chat_id, [])
        moved = len(queue) - 1
        if moved > 0:
            del queue[1:]
            self._queued -= moved
        self._wake.set()
