"""The JobQueue job that wakes the sender when held alerts fall due.

Digests and quiet hours are scheduled through PTB's JobQueue (APScheduler), but not as one
job per chat: when an alert matches, `bot.delivery.policy.place` decides when it goes out and
that moment is stored on its outbox row (`next_attempt_at`). The due time lives in the
database so a restart, a crash or a second instance loses nothing and needs no job
rebuilt; the sender sends whatever is due. What the scheduler adds is punctuality: every
digest time and quiet-hours end is a whole minute of some chat's local time (times are
HH:MM and zone offsets are whole minutes), so one job at the start of every minute wakes the
sender exactly when a held digest can fall due, however long the sender idles between polls.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import CustomContext

BOUNDARY_EVERY = 60.0  # seconds: local times are whole minutes


def seconds_to_next_minute(now: datetime) -> float:
    """Seconds from `now` to the next whole minute (UTC), never zero."""
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return (start - now).total_seconds()


async def wake_sender_job(context: CustomContext) -> None:
    context.app.sender.wake()
