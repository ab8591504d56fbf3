"""Alert formatting: escaping every piece of feed text, and Telegram's 4096-character cap."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.delivery.format import (
    MAX_MESSAGE_CHARS,
    render_digest,
    render_story,
    render_story_plain,
    truncate,
)
from bot.emulator.html import parse_html
from storage.records import Story

WHEN = datetime(2026, 10, 4, 5, 9, tzinfo=UTC)


def story(**overrides: object) -> Story:
    fields: dict[str, object] = {
        "id": 1,
        "source_id": 1,
        "source_name": "The Kyiv Independent",
        "url": "https://kyivindependent.com/spain-summit/",
        "title": "Spain to reportedly host 'secret' summit of 'Coalition of the Willing' on Nov. 4",
        "summary": "Top officials from 35 countries will gather in Madrid.",
        "categories": ("Europe",),
        "published_at": WHEN,
        "first_seen_at": WHEN,
        "topics": frozenset({"ukraine", "diplomacy"}),
    }
    fields.update(overrides)
    return Story(**fields)  # type: ignore[arg-type]


NAMES = {"ukraine": "Ukraine", "diplomacy": "Diplomacy"}


def test_alert_has_bold_headline_summary_and_linked_source() -> None:
    rendered = render_story(story(), topic_names=NAMES)
    assert rendered.parse_mode == "HTML"
    assert rendered.text.startswith(
        "<b>Spain to reportedly host &#x27;secret&#x27; summit of &#x27;Coalition"
    )
    assert "Top officials from 35 countries will gather in Madrid." in rendered.text
    assert '<a href="https://kyivindependent.com/spain-summit/">The Kyiv Independent</a>' in (
        rendered.text
    )
    assert "Diplomacy · Ukraine" in rendered.text
    parsed = parse_html(rendered.text)
    assert any(e.type == "bold" for e in parsed.entities)
    assert any(e.type == "text_link" for e in parsed.entities)


def test_feed_text_is_escaped_everywhere() -> None:
    hostile = story(
        title="<b>Breaking</b> & <script>alert(1)</script>",
        summary="a < b > c & </i> <a href='x'>",
        source_name="Evil <Feed> & Co",
        url='https://example.org/?q="><b>x</b>&y=1',
    )
    rendered = render_story(hostile)
    parsed = parse_html(rendered.text)  # raises if Telegram would reject it
    assert "<b>Breaking</b> & <script>alert(1)</script>" in parsed.text
    assert "a < b > c & </i> <a href='x'>" in parsed.text
    assert "Evil <Feed> & Co" in parsed.text
    links = [e.url for e in parsed.entities if e.type == "text_link"]
    assert links == ['https://example.org/?q="><b>x</b>&y=1']


def test_non_http_or_control_character_links_are_not_linked() -> None:
    rendered = render_story(story(url="javascript:alert(1)"))
    assert "href" not in rendered.text
    assert "javascript" not in rendered.text
    rendered = render_story(story(url="https://example.org/a\x00b"))
    assert "href" not in rendered.text
    parse_html(rendered.text)


def test_huge_story_fits_in_4096_after_parsing() -> None:
    big = story(title="Headline " * 100, summary="word " * 5000, source_name="S" * 300)
    parsed = parse_html(render_story(big, topic_names=NAMES, heading="Latest").text)
    assert len(parsed.text) <= MAX_MESSAGE_CHARS
    assert parsed.text.count("…") >= 1


@given(
    title=st.text(min_size=0, max_size=600),
    summary=st.text(min_size=0, max_size=6000),
    source=st.text(min_size=0, max_size=100),
)
def test_any_feed_text_renders_to_valid_telegram_html(
    title: str, summary: str, source: str
) -> None:
    rendered = render_story(story(title=title, summary=summary, source_name=source))
    parsed = parse_html(rendered.text)
    assert len(parsed.text) <= MAX_MESSAGE_CHARS
    assert html.escape(source.strip()) in rendered.text or not source.strip()


def test_truncate_cuts_at_word_boundary() -> None:
    text = "Russia has lost 1,538,950 troops in Ukraine since Feb. 24, 2022"
    cut = truncate(text, 30)
    assert len(cut) <= 30
    assert cut.endswith("…")
    assert text.startswith(cut[:-1])
    assert cut[:-1].split()[-1] in text.split()  # no half word
    assert truncate("short", 30) == "short"


def test_plain_fallback_has_no_markup_and_keeps_the_link() -> None:
    rendered = render_story_plain(story(title="<b>x</b>"))
    assert rendered.parse_mode is None
    assert rendered.text.startswith("<b>x</b>")  # literal, not markup: sent without parse_mode
    assert "https://kyivindependent.com/spain-summit/" in rendered.text


def test_digest_lists_linked_headlines_within_limit() -> None:
    stories = [story(id=i, title=f"Story number {i}", url=f"https://x.org/{i}") for i in range(200)]
    rendered = render_digest(stories, heading="5 new stories on Ukraine:")
    parsed = parse_html(rendered.text)
    assert len(parsed.text) <= MAX_MESSAGE_CHARS
    assert parsed.text.startswith("5 new stories on Ukraine:")
    assert "Story number 0" in parsed.text
    assert "more: /latest" in parsed.text
    assert sum(1 for e in parsed.entities if e.type == "text_link") >= 10


def test_story_from_several_sources_names_the_others() -> None:
    rendered = render_story(story(also=("Ukrinform", "Sky <News>")), topic_names=NAMES)
    assert "\nAlso: Ukrinform, Sky &lt;News&gt;" in rendered.text
    assert "Also:" not in render_story(story(), topic_names=NAMES).text


def test_digest_heading_names_the_shared_topic_in_catalogue_order() -> None:
    from bot.delivery.format import digest_heading

    names = {"ukraine": "Ukraine", "russia": "Russia", "military": "Military"}
    both = [story(id=i, topics=frozenset({"military", "ukraine"})) for i in range(4)]
    assert digest_heading(both, names) == "4 new stories on Ukraine:"
    mostly_russia = [
        story(id=1, topics=frozenset({"russia"})),
        story(id=2, topics=frozenset({"russia", "ukraine"})),
    ]
    assert digest_heading(mostly_russia, names) == "2 new stories on Russia:"
    assert digest_heading([story(topics=frozenset())], names) == "1 new story:"


def test_a_chat_is_shown_the_topics_it_follows() -> None:
    """The tag line (and the buttons, from the same topics) say why the alert came."""
    many = story(topics=frozenset({"ukraine", "russia", "sanctions", "energy"}))
    names = {"ukraine": "Ukraine", "russia": "Russia", "sanctions": "Sanctions", "energy": "Energy"}
    followed = many.seen_by(frozenset({"sanctions", "military"}))
    assert followed.topics == {"sanctions"}
    assert render_story(followed, topic_names=names).text.endswith("🏷 Sanctions")
    # A keyword match (no followed topic among the story's) shows them all.
    assert many.seen_by(frozenset({"military"})) is many
    assert many.seen_by(frozenset()) is many
