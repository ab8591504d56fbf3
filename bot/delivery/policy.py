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
`/timezone europe/kyiv`, `/timezone kyiv`, `/timezone UTC+2`), since what is valid is part of
the same contract. A fixed offset is stored as the zone database's Etc/GMT zone for whole
hours (sign inverted: UTC+2 is "Etc/GMT-2") and as "UTC+05:30" otherwise.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo

from storage.models import DeliveryMode, QuietBehaviour
from storage.records import ChatSettings

MAX_TIMEZONE_CHARS = 64
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3])(?:[:.h]([0-5]\d))?\s*$")
_WINDOW_SEPARATORS = re.compile(r"\s*(?:-|–|—|to|до)\s*")
# What users type for a fixed offset: "UTC+2", "GMT-5", "+02:00", "UTC+5:30", "utc +0530".
_OFFSET = re.compile(r"^(?:(?:UTC|GMT)\s*)?([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?$", re.IGNORECASE)
# How an offset that is not a whole hour is stored (whole hours are Etc/GMT∓N zones).
_STORED_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")
_ETC_GMT = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
MIN_OFFSET, MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)  # what the world uses


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an alert goes in the outbox: due at `send_at`, in a digest or on its own."""

    send_at: datetime
    digest: bool = False
    silent: bool = False


def zone(name: str) -> tzinfo:
    """The chat's zone; an unknown name (a removed zone, a hand-edited row) falls back to UTC.

    A fixed offset that is not a whole hour is stored as "UTC+05:30" (the zone database only
    has whole-hour Etc/GMT zones) and is read back as a `datetime.timezone`.
    """
    stored = _STORED_OFFSET.match(name)
    if stored is not None:
        offset = _signed(stored.group(1), int(stored.group(2)), int(stored.group(3)))
        return timezone(offset) if MIN_OFFSET <= offset <= MAX_OFFSET else UTC
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


def parse_offset(text: str) -> timedelta | None:
    """ "UTC+2", "GMT-5", "+02:00", "UTC+5:30" → the offset east of UTC; else None.

    Any size is returned (so a reply can say "UTC+15" is out of range): `offset_timezone`
    checks it.
    """
    match = _OFFSET.match(text.strip())
    if match is None or int(match.group(3) or 0) >= 60:
        return None
    return _signed(match.group(1), int(match.group(2)), int(match.group(3) or 0))


def offset_timezone(offset: timedelta) -> str | None:
    """The name stored for a fixed offset, or None outside UTC-12…UTC+14.

    Whole hours are the zone database's Etc/GMT zones, whose sign is inverted (POSIX style):
    UTC+2 is "Etc/GMT-2". Others are stored as "UTC+05:30" and read by `zone`.
    """
    if not MIN_OFFSET <= offset <= MAX_OFFSET:
        return None
    if not offset:
        return "UTC"
    hours, rest = divmod(abs(offset), timedelta(hours=1))
    if not rest:
        return f"Etc/GMT{'-' if offset > timedelta(0) else '+'}{hours}"
    return format_offset(offset)


def format_offset(offset: timedelta) -> str:
    minutes = int(abs(offset).total_seconds()) // 60
    sign = "-" if offset < timedelta(0) else "+"
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def timezone_label(name: str) -> str:
    """How a stored zone is shown: "Etc/GMT-2" as "UTC+02:00", IANA names as they are."""
    match = _ETC_GMT.match(name)
    if match is None:
        return name
    hours = int(match.group(2))
    return (
        format_offset(_signed("-" if match.group(1) == "+" else "+", hours, 0)) if hours else "UTC"
    )


def _signed(sign: str, hours: int, minutes: int) -> timedelta:
    offset = timedelta(hours=hours, minutes=minutes)
    return offset if sign == "+" else -offset


@functools.cache
def _aliases() -> dict[str, str]:
    """Old and alternative zone names → the zone they stand for ("Europe/Kiev" → "Europe/Kyiv").

    Read from the `tzdata` package's tzdata.zi ("L <target> <alias>" lines); without it, none.
    """
    try:
        text = (importlib.resources.files("tzdata") / "zoneinfo" / "tzdata.zi").read_text()
    except (ModuleNotFoundError, OSError):
        return {}
    known = zoneinfo.available_timezones()
    links = (line.split() for line in text.splitlines() if line.startswith("L "))
    return {link[2]: link[1] for link in links if len(link) == 3 and link[1] in known}


def _place(name: str) -> str:
    """A zone's place: its last component, folded for comparison ("New_York" → "new_york")."""
    return name.rsplit("/", 1)[-1].casefold()


@functools.cache
def _places() -> dict[str, tuple[str, ...]]:
    """Folded place names → the zones (aliases resolved) named after them."""
    places: dict[str, set[str]] = {}
    for name in zoneinfo.available_timezones():
        if name.startswith(("Etc/", "SystemV/")):
            continue
        places.setdefault(_place(name), set()).add(_aliases().get(name, name))
    return {place: tuple(sorted(zones)) for place, zones in places.items()}


def timezones_for_place(text: str) -> tuple[str, ...]:
    """The zones named after a city or country ("kyiv", "Kiev", "new york", "Japan")."""
    folded = text.strip().replace(" ", "_").casefold()
    if not folded or len(folded) > MAX_TIMEZONE_CHARS:
        return ()
    return _places().get(folded, ())


def close_timezone(text: str) -> str | None:
    """The zone whose name or place is the nearest spelling of `text`, if it is a near one
    ("Europe/Kyyiv", "londn" → Europe/London; "UTC+22" → None: no name is that close)."""
    folded = text.strip().replace(" ", "_").casefold()[:MAX_TIMEZONE_CHARS]
    if not folded:
        return None
    names = {name.casefold(): (name,) for name in zoneinfo.available_timezones()}
    best: tuple[float, str] | None = None
    for candidates in (names, _places()):
        for match in difflib.get_close_matches(folded, candidates, n=1, cutoff=0.8):
            ratio = difflib.SequenceMatcher(None, folded, match).ratio()
            if best is None or ratio > best[0]:
                zone_name = candidates[match][0]
                best = (ratio, _aliases().get(zone_name, zone_name))
    return best[1] if best else None


def format_clock(moment: time) -> str:
    return moment.strftime("%H:%M")
