"""The sender: drains the outbox into Telegram, one worker per chat, within the flood limits.

Telegram's answers, and what each does to the outbox row (see `storage.outbox`)::

    ok                         → sent (with Telegram's message id)
    RetryAfter (429)           → the limiter paused every send for exactly retry_after and
                                 retried; if it still fails, back to pending, due after
                                 retry_after (not counted as a try)
    Forbidden (403)            → chat inactive (blocked, kicked, deactivated); its alerts dropped
    BadRequest chat not found  → the same
    ChatMigrated               → chat moved to the new id with its subscriptions and alerts,
                                 which are then sent there
    BadRequest can't parse     → resent once as plain text; logged as a defect (ERROR)
    other BadRequest           → failed (permanent: retrying the same request cannot help)
    NetworkError, 5xx          → retried with exponential backoff and jitter, then failed
    TimedOut / AnswerLost      → unconfirmed (see below)
    answer not understood      → unconfirmed, as for a lost answer

Lost answers. `bot.delivery.transport` tells a request that never left (connect error:
`NetworkError`, retried) from one whose answer was lost after it was written (read timeout,
connection closed, broken body: `TimedOut`). Telegram may well have delivered the latter, and
a news alert shown twice is worse than one that, rarely, never arrives, so such a send is
recorded as `unconfirmed`, counted as delivered and never resent.

Burst digests. When more than `digest_threshold` alerts wait for one chat at the moment its
worker sends, they go out as one message ("5 new stories on Ukraine:" and a linked headline
each, within 4096 characters) and every row is marked sent with that message's id.

Crash bound. A send holds one of `max_in_flight` slots from before its request until its
outcome is committed (results are group-committed, `bot.delivery.recorder`). So after a
SIGKILL at most `max_in_flight` messages (64 by default; in practice about rate × round trip)
can have reached Telegram without the database knowing, and only those can repeat. Claimed
rows that were never sent go back to the queue when their lease ends; a live sender renews
its leases, and on a database it owns alone (SQLite) it takes its old claims back at start.

SIGTERM (`stop`): no new claims, queued alerts are released at once, in-flight sends finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import gettext
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.clock import Clock
from bot.delivery.format import (
    ENGLISH,
    RenderedMessage,
    digest_heading,
    render_digest,
    render_digest_plain,
    render_story_plain,
)
from bot.delivery.ratelimit import retry_after_seconds
from bot.delivery.recorder import Outcome, OutcomeRecorder, Result
from bot.keywords import with_matched_watches
from storage import chats as chat_store
from storage import outbox
from storage.records import PendingAlert, Story

logger = logging.getLogger(__name__)

Translations = gettext.NullTranslations
# Both get the chat's translations (from its language), so an alert reads in its language.
Renderer = Callable[[Story, Translations], RenderedMessage]
Heading = Callable[[Sequence[Story], Translations], str]
# A single alert as sent: its message and its buttons.
AlertRendering = tuple[RenderedMessage, InlineKeyboardMarkup | None]
MAX_DIGEST = 50  # alerts one digest covers; it lists what fits, then "…and N more: /latest"
SEND_MESSAGE = "sendmessage"  # Bot API method names are case-insensitive: see `Sender._send`
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # immutable, so one serves every send


class Sender:
    """Owns the send loop; `wake()` after enqueueing, `stop()` to finish in-flight sends."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        render: Renderer,
        heading: Heading | None = None,
        translations: Callable[[str | None], Translations] | None = None,
        keyboard: Callable[[PendingAlert], InlineKeyboardMarkup | None] | None = None,
        chat_ready_at: Callable[[int], float] | None = None,
        max_queued: int = 500,
        max_in_flight: int = 64,
        lease: timedelta = timedelta(seconds=30),
        reclaim_on_start: bool = False,
        poll_interval: float = 1.0,
        max_attempts: int = 6,
        base_backoff: float = 2.0,
        digest_threshold: int = 3,
    ) -> None:
        """`chat_ready_at` (the limiter's, on `time.monotonic`) lets a worker wait for its
        chat's slot *before* taking an in-flight slot, so a chat that must wait a second
        does not hold up the others."""
        self._sessionmaker = sessionmaker
        self._bot = bot
        self._clock = clock
        self._render = render
        self._heading = heading or (lambda stories, t: digest_heading(stories, translator=t))
        self._translations = translations or (lambda language: ENGLISH)
        self._keyboard = keyboard  # buttons under a single alert ("More on…", "Mute…")
        self._chat_ready_at = chat_ready_at
        self._max_queued = max_queued
        self._slots = asyncio.Semaphore(max_in_flight)
        self._lease = lease
        self._reclaim_on_start = reclaim_on_start
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self._digest_threshold = digest_threshold
        self.recorder = OutcomeRecorder(sessionmaker, clock)
        self._wake = asyncio.Event()
        self._stopping = False
        self._queues: dict[int, list[PendingAlert]] = {}
        self._in_flight: dict[int, list[PendingAlert]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._queued = 0
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0  # messages Telegram accepted (a digest counts once)

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
        if self._reclaim_on_start:
            async with self._sessionmaker() as session, session.begin():
                taken = await outbox.release_claims(session, now=self._now())
            if taken:
                logger.info("Took back %d alerts claimed before the last stop", taken)
        renew_every = self._lease.total_seconds() / 3
        next_renew = time.monotonic() + renew_every
        while not self._stopping:
            claimed = 0
            try:
                if time.monotonic() >= next_renew:
                    await self._renew()
                    next_renew = time.monotonic() + renew_every
                claimed = await self.fill()
            except Exception:
                logger.exception("Claiming alerts from the outbox failed; retrying")
            if claimed == 0 or self._queued >= self._max_queued:
                self._wake.clear()
                timeout = min(self._poll_interval, max(0.0, next_renew - time.monotonic()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        await self._finish_in_flight()

    async def _renew(self) -> None:
        held = [alert.outbox_id for queue in self._queues.values() for alert in queue]
        held += [alert.outbox_id for batch in self._in_flight.values() for alert in batch]
        if held:
            async with self._sessionmaker() as session, session.begin():
                await outbox.renew(session, held, until=self._now() + self._lease)

    async def _finish_in_flight(self) -> None:
        """On stop: put queued-but-unsent alerts back at once, let the in-flight ones finish."""
        unsent: list[int] = []
        for queue in self._queues.values():
            unsent.extend(alert.outbox_id for alert in queue)
            self._queued -= len(queue)
            queue.clear()
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
        loop = asyncio.get_running_loop()
        for alert in alerts:
            self._queues.setdefault(alert.chat_id, []).append(alert)
            self._queued += 1
            if alert.chat_id not in self._workers:
                self._workers[alert.chat_id] = loop.create_task(
                    self._work(alert.chat_id), name=f"newsbot-send-{alert.chat_id}"
                )
        return len(alerts)

    async def _work(self, chat_id: int) -> None:
        """Send one chat's alerts in order (a burst as one digest); the limiter spaces them."""
        try:
            while self._queues.get(chat_id) and not self._stopping:
                await self._wait_for_chat(chat_id)
                async with self._slots:
                    # Only now is the send in flight: `stop` puts back what is still queued.
                    queue = self._queues.get(chat_id)
                    if not queue or self._stopping:
                        break
                    burst = len(queue) > self._digest_threshold
                    held = sum(alert.digest for alert in queue) > 1  # the chat's policy digest
                    take = len(queue) if burst or held else 1
                    batch = queue[: min(take, MAX_DIGEST)]
                    del queue[: len(batch)]
                    self._in_flight[chat_id] = batch
                    try:
                        await self._deliver_batch(batch)
                    except Exception:
                        logger.exception("Delivering to chat %d failed unexpectedly", chat_id)
                        with contextlib.suppress(Exception):
                            await self._retry_later(batch, "unexpected error")
                    finally:
                        self._in_flight.pop(chat_id, None)
                        self._queued -= len(batch)
                        self._wake.set()
        finally:
            self._workers.pop(chat_id, None)
            if not self._queues.get(chat_id):
                self._queues.pop(chat_id, None)

    async def _wait_for_chat(self, chat_id: int) -> None:
        if self._chat_ready_at is not None:
            delay = self._chat_ready_at(chat_id) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _deliver_batch(self, batch: list[PendingAlert]) -> None:
        if len(batch) == 1:
            await self.deliver(batch[0])
            return
        stories = [alert.story for alert in batch]
        t = self._translations(batch[0].language)
        heading = self._heading(stories, t)
        await self._deliver(
            batch,
            render_digest(stories, heading=heading, translator=t),
            lambda: render_digest_plain(stories, heading=heading, translator=t),
        )

    def render_alert(self, alert: PendingAlert) -> AlertRendering:
        """One alert as it is sent, in its chat's language, with its buttons (the editor
        re-renders sent alerts with this too, so an edit changes only what changed). An alert
        a keyword watch brought names the watch."""
        alert = with_matched_watches(alert)
        message = self._render(alert.story, self._translations(alert.language))
        return message, self._keyboard(alert) if self._keyboard else None

    async def deliver(self, alert: PendingAlert) -> None:
        """Send one alert and record the outcome; never raises for Telegram's answers."""
        message, markup = self.render_alert(alert)
        await self._deliver([alert], message, lambda: render_story_plain(alert.story), markup)

    async def _send(
        self,
        chat_id: int,
        message: RenderedMessage,
        batch: Sequence[PendingAlert] = (),
        markup: InlineKeyboardMarkup | None = None,
    ) -> int:
        """Send to the batch's forum thread (silently if the chat's quiet hours say so); the
        new message's id.

        Through `Bot.do_api_request`, which returns Telegram's raw answer: `send_message`
        would build a `telegram.Message` (with its `User` and `Chat`) that the sender never
        reads, about a tenth of its CPU per alert. PTB warns when `do_api_request` is given a
        name it has a method for (that path skips `Defaults`, which the sender does not use:
        every argument is explicit), so the method is named in lower case, which the Bot API
        accepts ("All methods in the Bot API are case-insensitive"). Errors are raised exactly
        as for `send_message`: they come from the same request layer, and the flood limiter
        and metrics see the endpoint (they match on its "send" prefix).
        """
        answer = await self._bot.do_api_request(
            SEND_MESSAGE,
            api_kwargs={
                "chat_id": chat_id,
                "text": message.text,
                "parse_mode": message.parse_mode,
                "link_preview_options": NO_PREVIEW,
                "disable_notification": bool(batch) and all(alert.silent for alert in batch),
                "message_thread_id": batch[0].message_thread_id if batch else None,
                "reply_markup": markup,
            },
        )
        return int(answer["message_id"])

    async def _deliver(
        self,
        batch: list[PendingAlert],
        message: RenderedMessage,
        plain: Callable[[], RenderedMessage],
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        chat_id = batch[0].chat_id
        try:
            sent = await self._send(chat_id, message, batch, markup)
        except RetryAfter as error:
            delay = retry_after_seconds(error)
            await self._record(
                batch,
                Result.RETRY,
                retry_at=self._now() + timedelta(seconds=delay),
                error=f"flood control: retry after {delay:g} s",
                count_attempt=False,
            )
        except ChatMigrated as error:
            await self._migrate(chat_id, error.new_chat_id)
        except Forbidden as error:
            await self._deactivate(chat_id, str(error))
        except BadRequest as error:
            await self._bad_request(batch, error, plain)
        except TimedOut as error:
            await self._unconfirmed(batch, f"answer lost: {error}")
        except TelegramError as error:
            if type(error) is TelegramError:
                # PTB raises the bare class when a 2xx answer is not JSON: it was accepted.
                await self._unconfirmed(batch, f"unreadable answer: {error}")
            else:
                await self._retry_later(batch, str(error))
        except (KeyError, TypeError, ValueError) as error:
            # Telegram accepted the request but its answer made no sense to PTB.
            await self._unconfirmed(batch, f"unreadable answer: {error!r}")
        else:
            self.delivered += 1
            await self._record(batch, Result.SENT, message_id=sent)

    async def _bad_request(
        self, batch: list[PendingAlert], error: BadRequest, plain: Callable[[], RenderedMessage]
    ) -> None:
        text = str(error).lower()
        chat_id = batch[0].chat_id
        if "chat not found" in text:
            await self._deactivate(chat_id, str(error))
        elif "can't parse entities" in text:
            logger.error(
                "DEFECT: Telegram rejected the HTML of articles %s (%s); sending plain text",
                [alert.story.id for alert in batch],
                error,
            )
            try:
                sent = await self._send(chat_id, plain(), batch)
            except TimedOut as retry_error:
                await self._unconfirmed(batch, f"plain-text resend: {retry_error}")
            except TelegramError as retry_error:
                await self._fail(batch, f"plain-text resend failed: {retry_error}")
            else:
                self.delivered += 1
                await self._record(batch, Result.SENT, message_id=sent)
        else:
            await self._fail(batch, str(error))

    def _now(self) -> datetime:
        return self._clock.now()

    async def _record(self, batch: list[PendingAlert], result: Result, **details: object) -> None:
        ids = tuple(alert.outbox_id for alert in batch)
        await self.recorder.record(Outcome(result, ids, **details))  # type: ignore[arg-type]

    async def _unconfirmed(self, batch: list[PendingAlert], reason: str) -> None:
        logger.warning(
            "Alerts %s may or may not have arrived (not resent): %s",
            [alert.outbox_id for alert in batch],
            reason,
        )
        await self._record(batch, Result.UNCONFIRMED)

    async def _retry_later(self, batch: list[PendingAlert], reason: str) -> None:
        attempts = max(alert.attempts for alert in batch) + 1
        if attempts >= self._max_attempts:
            await self._fail(batch, f"gave up after {attempts} attempts: {reason}")
            return
        delay = self._base_backoff * 2 ** (attempts - 1)
        delay += random.uniform(0, delay / 2)
        logger.info(
            "Send to chat %d failed (%s); retrying in %.1f s", batch[0].chat_id, reason, delay
        )
        await self._record(
            batch, Result.RETRY, retry_at=self._now() + timedelta(seconds=delay), error=reason
        )

    async def _fail(self, batch: list[PendingAlert], reason: str) -> None:
        logger.error(
            "Alerts %s to chat %d failed: %s",
            [alert.outbox_id for alert in batch],
            batch[0].chat_id,
            reason,
        )
        await self._record(batch, Result.FAILED, error=reason)

    def _forget_queue(self, chat_id: int) -> None:
        queue = self._queues.get(chat_id)
        if queue:
            self._queued -= len(queue)
            queue.clear()

    async def _deactivate(self, chat_id: int, reason: str) -> None:
        logger.info("Chat %d is gone (%s): marking it inactive", chat_id, reason)
        async with self._sessionmaker() as session, session.begin():
            await chat_store.deactivate_chat(session, chat_id, reason=reason, now=self._now())
        self._forget_queue(chat_id)

    async def _migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """The old chat's rows (this one included) are re-queued under the new id."""
        logger.info("Chat %d migrated to %d", old_chat_id, new_chat_id)
        async with self._sessionmaker() as session, session.begin():
            await chat_store.migrate_chat(session, old_chat_id, new_chat_id, now=self._now())
        self._forget_queue(old_chat_id)
        self._wake.set()
