"""When and how an alert goes out, given the chat's settings and `now`: a pure decision.

    paused                       → not queued at all (a pause is not a backlog; pausing
                                   also drops what was queued: handlers.settings)
    instant                      → now
    hourly                       → the next full hour, local time, in one digest
    daily                        → the next digest time, local time, in one digest
    …that time in quiet hours    → hold: at the end of the quiet hours, in one digest
                                   silent: at that time, with disable_notification

The moment is stored on the outbox row, not in a per-chat scheduler job, so it survives
restarts; a JobQueue job wakes the sender on each minute (bot.delivery.boundaries).

Local time is the chat's IANA timezone; arithmetic is done on aware UTC datetimes and local
wall-clock times are built with `datetime.combine(..., tzinfo=zone)`, so a daylight-saving
change moves a "07:00" digest with the clock instead of by an hour.

Also here: reading the times and timezone names users type (`/quiet 23:00-07:00`,
`/timezone europe/kyiv`), since what is valid is part of the same contract.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from storage.models import DeliveryMode, QuietBehaviour
from storage.records import ChatSettings

MAX_TIMEZONE_CHARS = 64
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3])(?:[:.h]([0-5]\d))?\s*$")
_WINDOW_SEPARATORS = re.compile(r"\s*(?:-|–|—|to|до)\s*")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an alert goes in the outbox: due at `send_at`, in a digest or on its own."""

    send_at: datetime
    digest: bool = False
    silent: bool = False


def zone(name: str) -> tzinfo:
    """The chat's zone; an unknown name (a removed zone, a hand-edited row) falls back to UTC."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def place(settings: ChatSettings, now: datetime) -> Placement | None:
    """The outbox placement of an alert that matched at `now`; None while the chat is paused."""
    if settings.paused:
        return None
    tz = zone(settings.timezone)
    if settings.mode is DeliveryMode.HOURLY:
        at, digest = next_hour(now, tz), True
    elif settings.mode is DeliveryMode.DAILY:
        at, digest = next_local_time(now, tz, settings.digest_time), True
    else:
        at, digest = now, False
    window = settings.quiet_hours
    if window is None or not in_window(at.astimezone(tz).time(), *window):
        return Placement(send_at=at, digest=digest)
    if settings.quiet_behaviour is QuietBehaviour.SILENT:
        return Placement(send_at=at, digest=digest, silent=True)
    return Placement(send_at=next_local_time(at, tz, window[1]), digest=True)


def in_window(moment: time, start: time, end: time) -> bool:
    """Whether a local time falls in [start, end); a window may run over midnight."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def next_hour(now: datetime, tz: tzinfo) -> datetime:
    """The next full hour of local time strictly after `now` (zones with :30 offsets too)."""
    local = now.astimezone(tz)
    past = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
    return (now - past + timedelta(hours=1)).astimezone(UTC)


def next_local_time(now: datetime, tz: tzinfo, at: time) -> datetime:
    """The first moment strictly after `now` when the local clock shows `at`."""
    local = now.astimezone(tz)
    day = local.date()
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if candidate > now:
            return candidate
        day += timedelta(days=1)
    raise AssertionError("a local time recurs within three days")  # pragma: no cover


def parse_clock(text: str) -> time | None:
    """ "7", "07:00", "23.30", "7h30" → a time of day; anything else → None."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2) or 0))


def split_window(text: str) -> tuple[str, str] | None:
    """ "23:00-07:00" → ("23:00", "07:00"), unchecked; None if there is no separator."""
    parts = _WINDOW_SEPARATORS.split(text.strip(), maxsplit=1)
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


def parse_window(text: str) -> tuple[time, time] | None:
    """ "23:00-07:00" (also "23-7", "23:00 to 07:00") → (start, end); equal ends → None."""
    parts = split_window(text)
    if parts is None:
        return None
    start, end = parse_clock(parts[0]), parse_clock(parts[1])
    if start is None or end is None or start == end:
        return None
    return start, end


def canonical_timezone(text: str) -> str | None:
    """The IANA name the user means ("europe/kyiv" → "Europe/Kyiv"), or None if unknown.

    Only names in the zone database count: `ZoneInfo` would also open paths, and "UTC+3"
    style offsets are ambiguous about daylight saving.
    """
    name = text.strip()
    if not name or len(name) > MAX_TIMEZONE_CHARS:
        return None
    known = zoneinfo.available_timezones()
    if name in known:
        return name
    folded = name.replace(" ", "_").casefold()
    return next((zone for zone in sorted(known) if zone.casefold() == folded), None)


def format_clock(moment: time) -> str:
    return moment.strftime("%H:%M")
