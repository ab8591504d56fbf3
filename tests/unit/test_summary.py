"""Summaries for alerts: clean text from feed HTML, one to three whole sentences, no boilerplate."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.summary import (
    DEFAULT_SUMMARY_CHARS,
    ELLIPSIS,
    html_to_text,
    make_summary,
    split_sentences,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FEEDS = FIXTURES / "feeds"
TAG_RE = re.compile(r"<[A-Za-z/!?][^<>]*>")


@functools.cache
def entries(name: str, *, sanitize: bool = True) -> tuple[feedparser.FeedParserDict, ...]:
    return tuple(feedparser.parse(str(FEEDS / name), sanitize_html=sanitize).entries)


def entry(name: str, title_start: str, *, sanitize: bool = True) -> feedparser.FeedParserDict:
    found = [e for e in entries(name, sanitize=sanitize) if e.title.startswith(title_start)]
    assert len(found) == 1
    return found[0]


def pravda_items() -> list[feedparser.FeedParserDict]:
    items = entries("ukrainskapravda-eng-2026-10-04.rss.xml")
    return [e for e in items if e.get("content") and e.content[0].value.strip()]


# --- html_to_text ---------------------------------------------------------------------------------


def test_html_to_text_strips_tags_and_joins_paragraphs() -> None:
    assert html_to_text("<p>One <b>bold</b> word.</p>\n\n<p>Two\n\t lines.</p>") == (
        "One bold word. Two lines."
    )


def test_html_to_text_decodes_single_and_double_escaped_entities() -> None:
    assert html_to_text("It&#39;s R&amp;D &amp;amp; it&amp;#39;s &#163;300m") == (
        "It's R&D & it's £300m"
    )


def test_html_to_text_parses_escaped_markup() -> None:
    assert html_to_text("&lt;p&gt;Kyiv &lt;b&gt;was&lt;/b&gt; hit.&lt;/p&gt;") == "Kyiv was hit."


def test_html_to_text_drops_non_prose_elements() -> None:
    fragment = (
        "<style>p{color:red}</style><script>track()</script><p>Story.</p>"
        "<figure><img src=x><figcaption>Caption (AFP)</figcaption></figure>"
        "<template><span>Tooltip</span></template><p>End.</p>"
    )
    assert html_to_text(fragment) == "Story. End."


def test_html_to_text_on_real_double_escaped_feed_text() -> None:
    independent = entry("independent-uk-2025-03-18.leading-newline.rss.xml", "The Michael Jackson")
    assert [html_to_text(tag.term) for tag in independent.tags] == [
        "Reviews",
        "TV & Radio",
        "Culture",
    ]
    sky = entry("skynews-home-2022-04-05.rss.xml", "Cocaine bust")
    assert "£300m" in html_to_text(sky.title)


def test_html_to_text_drops_ukrainska_pravda_tooltip_templates() -> None:
    # feedparser's sanitiser unwraps <template> and keeps its text; the raw HTML still has it.
    item = entry(
        "ukrainskapravda-eng-2026-10-04.rss.xml",
        "Russian forces attack Dnipropetrovsk",
        sanitize=False,
    )
    raw = item.content[0].value
    assert "<template>" in raw
    text = html_to_text(raw)
    assert "hromadas came under attack" in text
    assert "A hromada is an administrative unit" not in text


def test_html_to_text_survives_declarations_that_crash_html_parser() -> None:
    # html.parser raises AssertionError on "<![" followed by a non-name.
    assert html_to_text("<![>Kyiv <p>was hit.</p>") == "Kyiv was hit."
    assert html_to_text("<p>A</p><![ x]><p>B</p>") == "A B"


def test_html_to_text_of_nothing_is_empty() -> None:
    assert html_to_text("") == ""
    assert html_to_text("  <p> </p> <br/> ") == ""


# --- sentences ------------------------------------------------------------------------------------


def test_split_sentences_keeps_abbreviations_dates_and_decimals_whole() -> None:
    text = (
        "The U.S. and the U.K. meet on Nov. 4 in Madrid. Mr. Albares said growth was 2.5 percent. "
        "John F. Kennedy files were released! Was it 9 a.m. in Kyiv? Yes."
    )
    assert split_sentences(text) == [
        "The U.S. and the U.K. meet on Nov. 4 in Madrid.",
        "Mr. Albares said growth was 2.5 percent.",
        "John F. Kennedy files were released!",
        "Was it 9 a.m. in Kyiv?",
        "Yes.",
    ]


def test_split_sentences_handles_quotes_and_lowercase_continuations() -> None:
    text = "“We will respond,” he said. “Soon.” The strikes, e.g. on refineries, go on."
    assert split_sentences(text) == [
        "“We will respond,” he said.",
        "“Soon.”",
        "The strikes, e.g. on refineries, go on.",
    ]


# --- make_summary on real items -------------------------------------------------------------------


def test_seed_article_summary_skips_page_furniture_caption_and_headline() -> None:
    text = (FIXTURES / "example-article.txt").read_text(encoding="utf-8")
    title = "Spain to reportedly host 'secret' summit of 'Coalition of the Willing' on Nov. 4"
    assert make_summary(text, title=title) == (
        'Top officials from 35 countries will gather in Madrid for a "secret, private summit" of '
        'the "Coalition of the Willing" on Nov. 4, Spanish newspaper El Mundo reported, citing a '
        "document it had obtained. The secretive meeting will reportedly focus on increasing aid "
        "to Ukraine and coordinating security guarantees to ward off future Russian aggression."
    )


def test_guardian_description_loses_continue_reading_and_related_links() -> None:
    item = entry("guardian-uk-2022-04-05.rss.xml", "Zelenskiy tells UN Russian leaders")
    assert item.summary.rstrip().endswith("Continue reading...</a>")
    summary = make_summary(item.summary, title=item.title)
    assert summary == (
        "Ukrainian president addresses security council after apparently deliberate civilian "
        "killings come to light. Ukraine’s president, Volodymyr Zelenskiy, has given the UN "
        "security council a harrowing account of atrocities in his country and demanded that "
        "Russian leaders be “brought to justice for war crimes”."
    )
    assert "latest updates" not in summary


def test_guardian_live_blog_skips_its_list_of_links() -> None:
    item = entry("guardian-uk-2022-04-05.rss.xml", "Russia-Ukraine war latest: Russian foreign")
    summary = make_summary(item.summary, title=item.title)
    assert summary.startswith("In Zelenskiy’s signature late-night national address")
    assert "Bucha satellite images" not in summary


def test_guardian_description_with_only_a_continue_link_gives_nothing() -> None:
    item = entry("guardian-uk-2022-04-05.rss.xml", "Ben Jennings on Boris")
    assert make_summary(item.summary, title=item.title) == ""


def test_every_guardian_summary_is_clean() -> None:
    for item in entries("guardian-uk-2022-04-05.rss.xml"):
        summary = make_summary(item.summary, title=item.title)
        assert "Continue reading" not in summary, item.title
        assert not TAG_RE.search(summary), item.title
        assert len(summary) <= DEFAULT_SUMMARY_CHARS, item.title


def test_ukrainska_pravda_article_drops_source_quote_and_appeals() -> None:
    item = entry("ukrainskapravda-eng-2026-10-04.rss.xml", "Zelenskyy: US must not forget")
    html = item.content[0].value
    assert "<strong>Source:</strong>" in html and "Patreon" in html
    assert make_summary(html, title=item.title) == (
        "Ukrainian President Volodymyr Zelenskyy has said the US must not forget how strong it "
        "is in negotiations with Russia, noting that Vladimir Putin has begun to think that he "
        "is the one who gets to make decisions. Zelenskyy said he believes the US genuinely "
        "wants to end Russia's war."
    )


def test_no_ukrainska_pravda_summary_keeps_boilerplate() -> None:
    items = pravda_items()
    assert len(items) == 19
    for item in items:
        summary = make_summary(item.content[0].value, title=item.title)
        assert summary, item.title
        for furniture in ("Source:", "Quote", "Details:", "Background:", "Patreon", "Subscribe"):
            assert furniture not in summary, (item.title, furniture)
        assert len(summary) <= DEFAULT_SUMMARY_CHARS


def test_kyiv_independent_one_sentence_description_is_kept_whole() -> None:
    for item in entries("kyivindependent-news-archive-2026-10-04.rss.xml"):
        assert make_summary(item.summary, title=item.title) == item.summary.strip()


def test_empty_description_gives_empty_summary() -> None:
    donnyland = entry("ukrainskapravda-eng-2026-10-04.rss.xml", "Donnyland abandoned")
    assert make_summary(donnyland.get("summary", ""), title=donnyland.title) == ""
    assert make_summary("") == ""
    assert make_summary("   \n ") == ""


# --- make_summary rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<p>Drones hit Odesa overnight.</p><p>The post Drones hit Odesa appeared first on "
            "Daily News.</p>",
            "Drones hit Odesa overnight.",
        ),
        ("Drones hit Odesa overnight. The post Drones hit Odesa appeared first on X.", None),
        ("<p>Drones hit Odesa overnight.</p><p>Read more: Odesa under fire</p>", None),
        ("<p>Drones hit Odesa overnight.</p><p>Click here to get our newsletter.</p>", None),
        ("<p>By John Smith</p><p>Drones hit Odesa overnight.</p>", None),
        ("By Jane Doe | Drones hit Odesa overnight.", None),
        ("Drones hit Odesa overnight (Photo: Reuters). ", "Drones hit Odesa overnight."),
        (
            "<p>Firefighters at the scene. (Oleksii Filippov/AFP via Getty Images)</p>"
            "<p>Drones hit Odesa overnight.</p>",
            None,
        ),
        ("<p>Photo: Ukrinform</p><p>Drones hit Odesa overnight.</p>", None),
        (
            "<p>Drones hit Odesa overnight.</p><blockquote><p>Support us on Patreon to keep "
            "reporting.</p></blockquote>",
            None,
        ),
        ("Drones hit Odesa overnight. Continue reading...", None),
    ],
)
def test_boilerplate_is_dropped(text: str, expected: str | None) -> None:
    assert make_summary(text) == (expected or "Drones hit Odesa overnight.")


def test_a_lead_that_repeats_the_headline_is_dropped() -> None:
    title = "Russia strikes second Kyiv bridge"
    text = "<p>Russia strikes second Kyiv bridge.</p><p>Traffic was halted for hours.</p>"
    assert make_summary(text, title=title) == "Traffic was halted for hours."
    assert make_summary(text) == "Russia strikes second Kyiv bridge. Traffic was halted for hours."


def test_at_most_three_sentences_within_the_cap() -> None:
    text = " ".join(f"Sentence number {n} is short." for n in range(1, 10))
    assert make_summary(text) == (
        "Sentence number 1 is short. Sentence number 2 is short. Sentence number 3 is short."
    )
    assert make_summary(text, max_chars=60) == (
        "Sentence number 1 is short. Sentence number 2 is short."
    )


def test_a_first_sentence_over_the_cap_is_cut_between_words() -> None:
    text = "Word " * 100 + "end."
    summary = make_summary(text, max_chars=DEFAULT_SUMMARY_CHARS)
    assert len(summary) <= DEFAULT_SUMMARY_CHARS
    assert summary.endswith(ELLIPSIS)
    assert text.startswith(summary.removesuffix(ELLIPSIS) + " ")


def test_paragraphs_without_full_stops_still_read_as_sentences() -> None:
    text = "<p>New penalties need to be agreed by all 27 EU member states</p><p>More soon</p>"
    assert make_summary(text) == "New penalties need to be agreed by all 27 EU member states."


def test_hard_wrapped_plain_text_is_rejoined_into_sentences() -> None:
    text = "Russian forces struck the city\nof Izium overnight.\nThe mayor said\nthree were hurt."
    assert make_summary(text) == (
        "Russian forces struck the city of Izium overnight. The mayor said three were hurt."
    )


def test_cap_must_leave_room_for_text() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        make_summary("Anything.", max_chars=1)


# --- properties -----------------------------------------------------------------------------------

MARKUP = st.text(
    alphabet=st.sampled_from(list("<>/!?&;#=\"' \n.pabrlisc-()AZ12ЖЇ…")) | st.characters(),
    max_size=400,
)
WORD = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzKyiv")), min_size=1, max_size=12
)
SENTENCE = st.lists(WORD, min_size=1, max_size=15).map(
    lambda words: " ".join(words).capitalize() + "."
)
PROSE = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)


@given(MARKUP, st.integers(min_value=2, max_value=500))
def test_summary_never_holds_markup_or_exceeds_the_cap(fragment: str, cap: int) -> None:
    summary = make_summary(fragment, max_chars=cap)
    assert len(summary) <= cap
    assert not TAG_RE.search(summary)
    assert not TAG_RE.search(html_to_text(fragment))


@given(PROSE, st.integers(min_value=20, max_value=400))
def test_summarising_a_summary_changes_nothing(prose: str, cap: int) -> None:
    once = make_summary(prose, max_chars=cap)
    assert make_summary(once, max_chars=cap) == once


@given(PROSE, st.integers(min_value=20, max_value=400))
def test_summary_is_whole_words_of_the_text(prose: str, cap: int) -> None:
    summary = make_summary(prose, max_chars=cap)
    assert summary
    head = summary.removesuffix(ELLIPSIS)
    assert prose.startswith(head)
    if summary.endswith(ELLIPSIS):
        assert prose[len(head)] == " "
