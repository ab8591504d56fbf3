"""Keyword watches: normalising what users type, and finding many watches in one pass."""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.keywords import MAX_KEYWORD_CHARS, KeywordError, KeywordMatcher, normalize_keyword

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Tomahawk", "tomahawk"),
        ("  Tomahawk  ", "tomahawk"),
        ('"price cap"', "price cap"),
        ("“Price   Cap”", "price cap"),
        ("'Black Sea'", "black sea"),
        ("«Чорне море»", "чорне море"),
        ("F-16", "f-16"),
        ("Straße", "strasse"),
        ('"  S-400 "', "s-400"),
        ('"price cap', "price cap"),
        ("' \"Lukoil\" '", "lukoil"),
    ],
)
def test_normalize_keyword(typed: str, normalized: str) -> None:
    assert normalize_keyword(typed) == normalized


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "give a word or phrase"),
        ("   ", "give a word or phrase"),
        ('""', "give a word or phrase"),
        ("!!! ???", "at least one letter or digit"),
        ("x" * (MAX_KEYWORD_CHARS + 1), f"{MAX_KEYWORD_CHARS} characters"),
    ],
)
def test_normalize_keyword_rejects_with_a_message_for_the_user(typed: str, message: str) -> None:
    with pytest.raises(KeywordError, match=re.escape(message)):
        normalize_keyword(typed)


def test_a_keyword_of_exactly_the_limit_is_accepted() -> None:
    assert normalize_keyword("x" * MAX_KEYWORD_CHARS) == "x" * MAX_KEYWORD_CHARS


def test_matches_whole_words_ignoring_case() -> None:
    matcher = KeywordMatcher(["tomahawk", "cap", "kyiv"])
    assert matcher.matches("Trump floated supplying TOMAHAWK missiles") == {"tomahawk"}
    assert matcher.matches("Tomahawks will mean a new level of escalation") == frozenset()
    assert matcher.matches("Capital markets in Kyivstar's home") == frozenset()
    assert matcher.matches("Kyiv's mayor") == {"kyiv"}


def test_phrase_whitespace_matches_any_run_of_whitespace() -> None:
    matcher = KeywordMatcher(['"price cap"'])
    assert matcher.matches("the price\n\t  cap on Russian oil") == {"price cap"}
    assert matcher.matches("the price\u00a0cap") == {"price cap"}
    assert matcher.matches("the pricecap") == frozenset()


def test_overlapping_and_nested_watches_are_all_found() -> None:
    matcher = KeywordMatcher(["price", "price cap", "cap on russian oil", "oil"])
    assert matcher.matches("A price cap on Russian oil.") == {
        "price",
        "price cap",
        "cap on russian oil",
        "oil",
    }
    assert matcher.matches("The price of oil") == {"price", "oil"}


def test_watches_are_literal_text_not_patterns() -> None:
    matcher = KeywordMatcher(["u.s.", "a+b", "(eu)", "c++"])
    assert matcher.matches("The U.S. and the (EU) agreed; a+b; C++ code") == {
        "u.s.",
        "(eu)",
        "a+b",
        "c++",
    }
    assert matcher.matches("UXSX and aab and eu and cc") == frozenset()


def test_hyphenated_and_cyrillic_watches() -> None:
    matcher = KeywordMatcher(["F-16", "Чорне море", "ЗАЕС"])
    assert matcher.matches("Ukraine receives more F-16 jets") == {"f-16"}
    assert matcher.matches("Ukraine receives more F-16s") == frozenset()
    assert matcher.matches("Удар по кораблю у Чорному морі") == frozenset()
    assert matcher.matches("Ситуація в Чорне море та на ЗАЕС") == {"чорне море", "заес"}


def test_case_folding_covers_letters_that_change_length() -> None:
    matcher = KeywordMatcher(["strasse"])
    assert matcher.matches("Protest in der Hauptstraße heute") == frozenset()
    assert matcher.matches("Protest auf der Straße") == {"strasse"}


def test_no_watches_match_nothing() -> None:
    assert KeywordMatcher([]).matches("anything at all") == frozenset()


def test_invalid_stored_watches_are_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.keywords"):
        matcher = KeywordMatcher(["lukoil", "!!!", ""])
    assert matcher.phrases == {"lukoil"}
    assert "Ignoring invalid keyword watch" in caplog.text
    assert matcher.matches("Lukoil assets") == {"lukoil"}


def test_real_feed_text_with_the_watches_users_would_set() -> None:
    parsed = feedparser.parse(
        str(FIXTURES / "feeds" / "kyivindependent-news-archive-2026-10-04.rss.xml")
    )
    matcher = KeywordMatcher(["Lukoil", "Black Sea", "Zaporizhzhia Nuclear Power Plant", "Sandu"])
    found = {
        entry.title[:30]: matcher.matches(
            " ".join([entry.title, entry.summary, *(tag.term for tag in entry.tags)])
        )
        for entry in parsed.entries
    }
    assert {title: watches for title, watches in found.items() if watches} == {
        "U.S. peace negotiations with R": {"lukoil"},
        "Russian strike on Liberian-fla": {"black sea"},
        "Series of drone attacks disrup": {"zaporizhzhia nuclear power plant"},
        "5 Russian missiles and drones ": {"sandu"},
    }


def test_seed_article_tomahawk_watch() -> None:
    text = (FIXTURES / "example-article.txt").read_text(encoding="utf-8")
    matcher = KeywordMatcher(["Tomahawk", "Tomahawks", "Rosneft", "Alaska", "tomahawk steak"])
    assert matcher.matches(text) == {"tomahawk", "tomahawks", "rosneft", "alaska"}


def test_thousands_of_watches_still_match_exactly() -> None:
    watches = [f"watch{n} word{n % 7}" for n in range(5000)] + ["lukoil"]
    matcher = KeywordMatcher(watches)
    text = "Sanctions on Lukoil: watch42 word0 and watch43  word1, but not watch44 word9."
    assert matcher.matches(text) == {"lukoil", "watch42 word0", "watch43 word1"}


def _reference(phrases: list[str], text: str) -> frozenset[str]:
    """One regex per watch: slow but obviously right."""
    haystack = unicodedata.normalize("NFC", text).casefold()
    found = set()
    for phrase in phrases:
        pattern = r"\s+".join(re.escape(word) for word in phrase.split(" "))
        if re.search(rf"(?<!\w){pattern}(?!\w)", haystack):
            found.add(phrase)
    return frozenset(found)


WORDS = st.sampled_from(["price", "cap", "oil", "russian", "u.s.", "f-16", "kyiv", "a", "ab"])
PHRASES = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
TEXT = st.lists(
    st.one_of(WORDS, st.sampled_from([" ", "  ", "\n", ".", ",", "-", "x"])), max_size=30
)


@given(st.lists(PHRASES, min_size=1, max_size=8, unique=True), TEXT)
def test_one_pass_matcher_agrees_with_one_regex_per_watch(
    phrases: list[str], pieces: list[str]
) -> None:
    text = "".join(pieces)
    assert KeywordMatcher(phrases).matches(text) == _reference(phrases, text)
