"""The delivery policy: instant, hourly, daily, quiet hours (hold or silent), paused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.delivery.policy import (
    Placement,
    canonical_timezone,
    close_timezone,
    in_window,
    next_hour,
    next_local_time,
    offset_timezone,
    parse_clock,
    parse_offset,
    parse_window,
    place,
    split_window,
    timezone_label,
    timezones_for_place,
    zone,
)
from storage.models import DeliveryMode, QuietBehaviour
from storage.records import ChatSettings

KYIV = "Europe/Kyiv"  # UTC+3 in summer, UTC+2 in winter


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_instant_is_now_and_paused_is_nothing() -> None:
    now = utc(2026, 7, 1, 12, 0)
    assert place(ChatSettings(), now) == Placement(send_at=now)
    assert place(ChatSettings(paused=True), now) is None


def test_hourly_goes_at_the_next_full_local_hour() -> None:
    now = utc(2026, 7, 1, 12, 15, 30)
    assert place(ChatSettings(mode=DeliveryMode.HOURLY), now) == Placement(
        send_at=utc(2026, 7, 1, 13, 0), digest=True
    )
    # India is UTC+5:30: its full hours are at :30 UTC.
    assert next_hour(now, zone("Asia/Kolkata")) == utc(2026, 7, 1, 12, 30)
    # Exactly on the hour: the next one, never now (that digest was just sent).
    assert next_hour(utc(2026, 7, 1, 13, 0), UTC) == utc(2026, 7, 1, 14, 0)


def test_daily_goes_at_the_chosen_local_time() -> None:
    settings = ChatSettings(mode=DeliveryMode.DAILY, digest_time=time(8, 0), timezone=KYIV)
    # 04:00 UTC is 07:00 in Kyiv (summer): today's 08:00 Kyiv = 05:00 UTC.
    assert place(settings, utc(2026, 7, 1, 4, 0)).send_at == utc(2026, 7, 1, 5, 0)  # type: ignore[union-attr]
    # After it: tomorrow's.
    assert place(settings, utc(2026, 7, 1, 6, 0)).send_at == utc(2026, 7, 2, 5, 0)  # type: ignore[union-attr]
    # In winter the same local time is an hour later in UTC.
    assert place(settings, utc(2026, 12, 1, 4, 0)).send_at == utc(2026, 12, 1, 6, 0)  # type: ignore[union-attr]


def test_daily_follows_the_clock_across_daylight_saving() -> None:
    # Kyiv moves its clocks back on 25 October 2026 (03:00 → 02:00 local).
    sent_before = next_local_time(utc(2026, 10, 24, 6, 0), zone(KYIV), time(7, 0))
    sent_after = next_local_time(sent_before, zone(KYIV), time(7, 0))
    assert sent_before == utc(2026, 10, 25, 5, 0)  # 07:00 local, now UTC+2
    assert sent_after == utc(2026, 10, 26, 5, 0)
    assert next_local_time(utc(2026, 10, 23, 6, 0), zone(KYIV), time(7, 0)) == utc(
        2026, 10, 24, 4, 0
    )


QUIET = {"quiet_start": time(23, 0), "quiet_end": time(7, 0), "timezone": KYIV}


def test_quiet_hours_hold_until_they_end_as_a_digest() -> None:
    settings = ChatSettings(**QUIET)  # type: ignore[arg-type]
    # 21:30 UTC = 00:30 Kyiv: held until 07:00 Kyiv = 04:00 UTC next day.
    assert place(settings, utc(2026, 7, 1, 21, 30)) == Placement(
        send_at=utc(2026, 7, 2, 4, 0), digest=True
    )
    # 19:30 UTC = 22:30 Kyiv: before the quiet hours, sent now.
    assert place(settings, utc(2026, 7, 1, 19, 30)) == Placement(send_at=utc(2026, 7, 1, 19, 30))
    # 20:00 UTC = 23:00 Kyiv: the start is inside.
    assert place(settings, utc(2026, 7, 1, 20, 0)).digest  # type: ignore[union-attr]
    # 04:00 UTC = 07:00 Kyiv: the end is outside.
    assert not place(settings, utc(2026, 7, 2, 4, 0)).digest  # type: ignore[union-attr]


def test_quiet_hours_silent_sends_now_without_sound() -> None:
    settings = ChatSettings(quiet_behaviour=QuietBehaviour.SILENT, **QUIET)  # type: ignore[arg-type]
    now = utc(2026, 7, 1, 21, 30)
    assert place(settings, now) == Placement(send_at=now, silent=True)


def test_a_digest_due_in_quiet_hours_moves_to_their_end() -> None:
    settings = ChatSettings(mode=DeliveryMode.HOURLY, **QUIET)  # type: ignore[arg-type]
    # 19:40 UTC = 22:40 Kyiv: the next hour (23:00) is quiet, so 07:00.
    assert place(settings, utc(2026, 7, 1, 19, 40)) == Placement(
        send_at=utc(2026, 7, 2, 4, 0), digest=True
    )


def test_daytime_quiet_window() -> None:
    assert in_window(time(12, 0), time(9, 0), time(17, 0))
    assert not in_window(time(17, 0), time(9, 0), time(17, 0))
    assert not in_window(time(3, 0), time(9, 0), time(17, 0))
    assert in_window(time(3, 0), time(23, 0), time(7, 0))
    assert not in_window(time(3, 0), time(5, 0), time(5, 0))
    assert ChatSettings(quiet_start=time(5, 0), quiet_end=time(5, 0)).quiet_hours is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", time(7, 0)),
        ("07:00", time(7, 0)),
        ("23.30", time(23, 30)),
        ("7h30", time(7, 30)),
        (" 0:05 ", time(0, 5)),
        ("24:00", None),
        ("7:60", None),
        ("", None),
        ("seven", None),
        ("<b>7</b>", None),
    ],
)
def test_parse_clock(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


def test_parse_window() -> None:
    assert parse_window("23:00-07:00") == (time(23, 0), time(7, 0))
    assert parse_window("23 - 7") == (time(23, 0), time(7, 0))
    assert parse_window("22:30–06:15") == (time(22, 30), time(6, 15))
    assert parse_window("23 до 7") == (time(23, 0), time(7, 0))
    assert parse_window("7-7") is None
    assert parse_window("23:00") is None
    assert parse_window("a-b") is None


def test_split_window_keeps_the_parts_to_say_what_is_wrong() -> None:
    assert split_window("24:00-07:00") == ("24:00", "07:00")
    assert split_window("7 to 7") == ("7", "7")
    assert split_window("sometimes") is None


def test_timezones_are_iana_names_in_any_case() -> None:
    assert canonical_timezone("Europe/Kyiv") == "Europe/Kyiv"
    assert canonical_timezone("europe/kyiv") == "Europe/Kyiv"
    assert canonical_timezone("America/new york") == "America/New_York"
    assert canonical_timezone("UTC") == "UTC"
    assert canonical_timezone("Mars/Olympus") is None
    assert canonical_timezone("../../etc/passwd") is None
    assert canonical_timezone("x" * 5000) is None
    assert canonical_timezone("") is None
    assert zone("Not/AZone") is UTC
    assert timezone_label("Europe/Kyiv") == "Europe/Kyiv"


@pytest.mark.parametrize(
    ("text", "hours", "stored", "label"),
    [
        ("UTC+2", 2, "Etc/GMT-2", "UTC+02:00"),  # the zone database's Etc/GMT signs are inverted
        ("UTC-5", -5, "Etc/GMT+5", "UTC-05:00"),
        ("GMT+3", 3, "Etc/GMT-3", "UTC+03:00"),
        ("+02:00", 2, "Etc/GMT-2", "UTC+02:00"),
        ("utc −3", -3, "Etc/GMT+3", "UTC-03:00"),
        ("UTC+14", 14, "Etc/GMT-14", "UTC+14:00"),
        ("UTC-12:00", -12, "Etc/GMT+12", "UTC-12:00"),
        ("UTC+0", 0, "UTC", "UTC"),
        ("UTC+5:30", 5.5, "UTC+05:30", "UTC+05:30"),
        ("+0545", 5.75, "UTC+05:45", "UTC+05:45"),
        ("UTC-3:30", -3.5, "UTC-03:30", "UTC-03:30"),
    ],
)
def test_utc_offsets_are_fixed_zones(text: str, hours: float, stored: str, label: str) -> None:
    offset = parse_offset(text)
    assert offset == timedelta(hours=hours)
    assert offset_timezone(offset) == stored
    noon = utc(2026, 1, 15, 12, 0)
    assert noon.astimezone(zone(stored)).utcoffset() == offset
    assert timezone_label(stored) == label


def test_what_is_not_an_offset_or_out_of_range() -> None:
    for text in ("UTC", "Europe/Kyiv", "2", "UTC+5:75", "UTC+2 please", "UTC++2"):
        assert parse_offset(text) is None, text
    assert offset_timezone(timedelta(hours=15)) is None
    assert offset_timezone(timedelta(hours=-13)) is None
    assert zone("UTC+15:00") is UTC  # a hand-edited row out of range: UTC, as unknown names


def test_a_fixed_offset_schedules_digests() -> None:
    settings = ChatSettings(mode=DeliveryMode.DAILY, digest_time=time(8, 0), timezone="UTC+05:30")
    assert place(settings, utc(2026, 7, 1, 0, 0)).send_at == utc(2026, 7, 1, 2, 30)  # type: ignore[union-attr]
    hourly = ChatSettings(mode=DeliveryMode.HOURLY, timezone="UTC+05:30")
    assert place(hourly, utc(2026, 7, 1, 12, 15)).send_at == utc(2026, 7, 1, 12, 30)  # type: ignore[union-attr]


def test_places_name_their_zone() -> None:
    assert timezones_for_place("kyiv") == ("Europe/Kyiv",)
    assert timezones_for_place("Kiev") == ("Europe/Kyiv",)  # tzdata's alias, resolved
    assert timezones_for_place("new york") == ("America/New_York",)
    assert timezones_for_place("LONDON") == ("Europe/London",)
    assert timezones_for_place("eastern") == ("America/New_York", "America/Toronto")
    assert timezones_for_place("atlantis") == ()
    assert timezones_for_place("x" * 5000) == ()


def test_only_a_close_spelling_is_suggested() -> None:
    assert close_timezone("Europe/Kyyiv") == "Europe/Kyiv"
    assert close_timezone("londn") == "Europe/London"
    assert close_timezone("new yrok") == "America/New_York"
    # "UTC+2" is not two hours off UTC; "UTC+22" is no zone at all.
    assert close_timezone("UTC+2") is None
    assert close_timezone("UTC+22") is None
    assert close_timezone("Mars/Olympus") is None
    assert close_timezone("") is None
