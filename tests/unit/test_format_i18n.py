"""The fixed words of alerts and digests, keyword errors, in the chat's language; and the
minute boundaries the digest job wakes the sender on."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery.boundaries import seconds_to_next_minute
from bot.delivery.format import (
    digest_heading,
    render_digest,
    render_digest_plain,
    render_story,
)
from bot.emulator.html import parse_html
from bot.i18n import load_locales
from bot.keywords import MAX_KEYWORD_CHARS, MAX_WATCH_TERMS
from bot.targets import InvalidTarget, parse_targets
from bot.topics import load_catalogue
from tests.unit.test_format import story

UK = load_locales().get("uk")
UK_NAMES = {"ukraine": "Україна", "diplomacy": "Дипломатія"}


def test_digest_heading_in_ukrainian_with_plurals() -> None:
    # The story has both topics; a tie goes to the first in catalogue (mapping) order.
    one, two, five = [story()], [story()] * 2, [story()] * 5
    assert digest_heading(one, UK_NAMES, UK) == "1 нова новина на тему «Україна»:"
    assert digest_heading(two, UK_NAMES, UK) == "2 нові новини на тему «Україна»:"
    assert digest_heading(five, {}, UK) == "5 нових новин:"
    assert digest_heading(five, {"ukraine": "Ukraine"}) == "5 new stories on Ukraine:"


def test_digest_overflow_line_in_ukrainian() -> None:
    stories = [story(id=i, title=f"Headline {i} " + "x" * 150) for i in range(60)]
    heading = digest_heading(stories, UK_NAMES, UK)
    rendered = render_digest(stories, heading=heading, translator=UK)
    text = parse_html(rendered.text).text
    assert text.startswith("60 нових новин") and "…і ще " in text and "more" not in text
    plain = render_digest_plain(stories, heading=heading, translator=UK)
    assert "…і ще " in plain.text and "/latest" in plain.text


def test_alert_fixed_words_in_ukrainian() -> None:
    rendered = render_story(
        story(source_name=""), topic_names=UK_NAMES, show_time=True, translator=UK
    )
    text = parse_html(rendered.text).text
    assert "📰 Джерело" in text and "04.10.2026, 05:09 UTC" in text
    assert "🏷 Дипломатія · Україна" in text
    assert "04 Oct 2026, 05:09 UTC" in parse_html(render_story(story(), show_time=True).text).text


def test_keyword_errors_in_ukrainian_with_their_numbers() -> None:
    catalogue = load_catalogue()
    (too_long,) = parse_targets("x" * (MAX_KEYWORD_CHARS + 1), catalogue)
    assert isinstance(too_long, InvalidTarget)
    assert str(MAX_KEYWORD_CHARS) in too_long.reason
    assert too_long.explain(UK.gettext) == (
        f"Задовго для ключового слова: не більше {MAX_KEYWORD_CHARS} символів."
    )
    words = " ".join(f"+w{i}" for i in range(MAX_WATCH_TERMS + 1))
    (too_many,) = parse_targets("sanctions " + words, catalogue)
    assert isinstance(too_many, InvalidTarget)
    assert f"щонайбільше {MAX_WATCH_TERMS}" in too_many.explain(UK.gettext)
    (bare,) = parse_targets("-iran", catalogue)
    assert isinstance(bare, InvalidTarget)
    assert bare.explain(UK.gettext).startswith("Стеженню потрібне слово")
    assert bare.explain(str) == bare.reason


def test_boundaries_are_whole_minutes() -> None:
    assert seconds_to_next_minute(datetime(2026, 11, 28, 6, 14, 59, 500_000, tzinfo=UTC)) == 0.5
    assert seconds_to_next_minute(datetime(2026, 11, 28, 6, 15, tzinfo=UTC)) == 60.0
