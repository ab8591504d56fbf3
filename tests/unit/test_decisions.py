"""Pure ingest decisions: first fetch, new items, next fetch time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.decisions import MAX_BACKOFF, next_fetch_time, select_new, should_push
from bot.feeds.normalize import Article

NOW = datetime(2026, 10, 4, 6, 0, tzinfo=UTC)


def article(guid: str, url: str) -> Article:
    return Article(
        guid=guid,
        url=url,
        title=guid,
        summary_source="",
        published_at=NOW,
        categories=(),
    )


def test_first_fetch_stores_without_pushing() -> None:
    assert should_push(source_never_fetched=False)
    assert not should_push(source_never_fetched=True)


def test_new_items_are_unknown_by_guid_and_by_url() -> None:
    items = [article("a", "https://x.org/a"), article("b", "https://x.org/b"), article("c", "")]
    fresh = select_new(items, known_guids={"a"}, known_urls={"https://x.org/b"})
    assert [item.guid for item in fresh] == ["c"]
    assert select_new(items, known_guids=set(), known_urls=set()) == items


def test_next_fetch_uses_interval_when_healthy() -> None:
    assert next_fetch_time(NOW, 120) == NOW + timedelta(seconds=120)


def test_errors_back_off_exponentially_with_a_cap() -> None:
    one = next_fetch_time(NOW, 60, consecutive_errors=1)
    three = next_fetch_time(NOW, 60, consecutive_errors=3)
    many = next_fetch_time(NOW, 60, consecutive_errors=40)
    assert one - NOW == timedelta(seconds=120)
    assert three - NOW == timedelta(seconds=480)
    assert many - NOW == MAX_BACKOFF
    jittered = next_fetch_time(NOW, 60, consecutive_errors=1, jitter=1.0)
    assert timedelta(seconds=120) < jittered - NOW <= timedelta(seconds=132)


def test_retry_after_is_honoured_when_longer() -> None:
    assert next_fetch_time(NOW, 60, consecutive_errors=1, retry_after=3600) == NOW + timedelta(
        hours=1
    )
    assert next_fetch_time(NOW, 600, consecutive_errors=1, retry_after=5) == NOW + timedelta(
        seconds=1200
    )
