"""The editor: adds "Also: <source>" to alerts already sent when their story gains a source.

One alert per story (bot.stories) means a second source's copy is not sent again; instead the
chats that got the alert see it grow a line naming the new source. Ingest marks those rows
(storage.edits); this job claims them in small batches with a lease and re-renders each
alert exactly as the sender would (same renderer, language and buttons), now with the
story's other sources, through `editMessageText`.

Edits are cosmetic, so they yield to alerts: a batch is taken only while no alert is waiting
to be sent, and every edit goes through the same flood limiter as sends. Telegram's answers:

    ok, "message is not modified"      → done
    RetryAfter (429)                   → tried again after retry_after
    TimedOut                           → done (Telegram may have applied it)
    other BadRequest, Forbidden,
    ChatMigrated                       → done: the message can no longer be edited
    NetworkError, 5xx                  → tried again later, until the edit window ends
    anything else (a bug)              → logged with its traceback, and let go
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.clock import Clock
from bot.delivery.ratelimit import retry_after_seconds
from bot.delivery.sender import NO_PREVIEW, AlertRendering
from storage import edits
from storage.records import PendingAlert

logger = logging.getLogger(__name__)

EDIT_EVERY = 5.0  # seconds between the job's runs
RETRY_AFTER = timedelta(minutes=1)  # after a network error or a 5xx


class Editor:
    """Claims waiting edits and makes them; `run_once` is the JobQueue job's body."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        render_alert: Callable[[PendingAlert], AlertRendering],
        batch: int = 50,
        lease: timedelta = timedelta(minutes=2),
        on_edited: Callable[[], None] | None = None,
    ) -> None:
        """`render_alert` is the sender's (`Sender.render_alert`), so an edit shows the alert as
        it was sent; `on_edited` is told of every edit Telegram accepts (metrics)."""
        self._on_edited = on_edited
        self._sessionmaker = sessionmaker
        self._bot = bot
        self._clock = clock
        self._render_alert = render_alert
        self._batch = batch
        self._lease = lease
        self.edited = 0  # edits Telegram accepted

    async def run_once(self) -> int:
        """Make up to one batch of due edits unless alerts are waiting; how many were tried."""
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            if await edits.alerts_waiting(session, now=now):
                return 0
            claimed = await edits.claim_edits(
                session, now=now, lease=self._lease, limit=self._batch
            )
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._edit(alert, mid) for alert, mid in claimed))
        done: list[int] = []
        retries: list[tuple[int, datetime]] = []
        for (alert, _), retry_at in zip(claimed, outcomes, strict=True):
            if retry_at is None:
                done.append(alert.outbox_id)
            else:
                retries.append((alert.outbox_id, retry_at))
        async with self._sessionmaker() as session, session.begin():
            await edits.clear_edits(session, done)
            for outbox_id, retry_at in retries:
                await edits.retry_edit(session, outbox_id, at=retry_at)
        return len(claimed)

    async def _edit(self, alert: PendingAlert, message_id: int) -> datetime | None:
        """Edit one alert; None when finished with it, else when to try again."""
        try:
            message, markup = self._render_alert(alert)
            await self._bot.edit_message_text(
                text=message.text,
                chat_id=alert.chat_id,
                message_id=message_id,
                parse_mode=message.parse_mode,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            )
        except RetryAfter as error:
            return self._clock.now() + timedelta(seconds=retry_after_seconds(error))
        except (ChatMigrated, Forbidden, BadRequest) as error:
            if "not modified" not in str(error).lower():
                logger.info(
                    "Alert %d in chat %d cannot be edited: %s", message_id, alert.chat_id, error
                )
            return None
        except TimedOut:
            return None
        except TelegramError as error:
            if self._clock.now() - alert.story.first_seen_at > edits.EDIT_WITHIN:
                logger.info(
                    "Giving up editing alert %d in chat %d: %s", message_id, alert.chat_id, error
                )
                return None
            return self._clock.now() + RETRY_AFTER
        except Exception:
            # A bug, not Telegram: log it and let the edit go rather than retry it forever.
            logger.exception("Editing alert %d in chat %d failed", message_id, alert.chat_id)
            return None
        self.edited += 1
        if self._on_edited is not None:
            self._on_edited()
        return None
