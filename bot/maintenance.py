"""Periodic upkeep jobs on PTB's JobQueue: retention and telling admins about dead sources.

Both are safe with several instances: pruning is idempotent, and the failure notice is
claimed in the same transaction that marks it sent (once per failure streak).
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram.error import NetworkError, RetryAfter, TelegramError

from bot.context import CustomContext
from storage import pages, retention
from storage import sources as source_store

logger = logging.getLogger(__name__)

FAILURE_NOTICE_AFTER = timedelta(days=1)
RETENTION_EVERY = timedelta(days=1)
ALARM_EVERY = timedelta(minutes=10)


async def prune_job(context: CustomContext) -> None:
    """Delete articles older than NEWSBOT_RETENTION_DAYS, in short transactions, and the
    tombstones of pruned articles that no feed has carried for as long."""
    app = context.app
    now = app.clock.now()
    cutoff = now - timedelta(days=app.settings.retention_days)
    total = 0
    while True:
        async with app.sessionmaker() as session, session.begin():
            pruned = await retention.prune_articles(session, older_than=cutoff, now=now)
        total += pruned
        if pruned < retention.PRUNE_BATCH:
            break
    async with app.sessionmaker() as session, session.begin():
        await pages.prune_leads(session, older_than=cutoff)
        tombstones = await retention.prune_tombstones(session, unseen_since=cutoff)
    if total:
        logger.info("Retention: pruned %d articles first seen before %s", total, cutoff.date())
    if tombstones:
        logger.info(
            "Retention: dropped %d tombstones no feed carried since %s", tombstones, cutoff.date()
        )


def failure_notice(name: str, url: str, since: str, error: str | None) -> str:
    return (
        f"⚠️ <b>Source failing for over a day</b>: {html.escape(name)}\n"
        f"{html.escape(url)}\n"
        f"Failing since {html.escape(since)}; last error: {html.escape(error or 'unknown')}"
    )


async def source_alarm_job(context: CustomContext) -> None:
    """Tell every admin once when a source has failed for a day (until it recovers).

    The notice is claimed before it is sent, so several instances never both tell; when it
    reached no admin because Telegram could not be reached, the claim is undone and the next
    run (every ten minutes) tries again."""
    app = context.app
    now = app.clock.now()
    async with app.sessionmaker() as session, session.begin():
        failing = await source_store.failing_unnotified(session, now - FAILURE_NOTICE_AFTER)
        if failing:
            await source_store.mark_failure_notified(
                session, (source.id for source in failing), now=now
            )
    untold = []
    for source in failing:
        since = source.failing_since.isoformat(timespec="minutes") if source.failing_since else "?"
        logger.warning("Source %s has failed since %s", source.url, since)
        text = failure_notice(source.name, source.url, since, source.last_error)
        told = retry = False
        for admin_id in sorted(app.settings.admin_ids):
            try:
                await context.bot.send_message(admin_id, text)
                told = True
            except (NetworkError, RetryAfter) as error:  # Telegram unreachable or busy
                retry = True
                logger.warning("Could not notify admin %d (will retry): %s", admin_id, error)
            except TelegramError as error:  # blocked, never started the bot: final
                logger.warning("Could not notify admin %d: %s", admin_id, error)
        if retry and not told:
            untold.append(source.id)
    if untold:
        # No admin heard of these because Telegram could not be reached: the next run retries.
        async with app.sessionmaker() as session, session.begin():
            await source_store.unmark_failure_notified(session, untold, notified_at=now)
