"""Reading `/subscribe` arguments into topics and keyword watches."""

from __future__ import annotations

import pytest

from bot.targets import (
    InvalidTarget,
    KeywordTarget,
    TopicTarget,
    new_watch_problem,
    parse_targets,
)
from bot.topics import TopicCatalogue, load_catalogue


@pytest.fixture(scope="module")
def catalogue() -> TopicCatalogue:
    return load_catalogue()


def describe(text: str, catalogue: TopicCatalogue) -> list[str]:
    out = []
    for target in parse_targets(text, catalogue):
        if isinstance(target, TopicTarget):
            out.append(f"topic:{target.topic.slug}")
        elif isinstance(target, KeywordTarget):
            out.append(f"keyword:{target.keyword}")
        else:
            out.append(f"invalid:{target.typed}")
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ukraine sanctions", ["topic:ukraine", "topic:sanctions"]),
        ("Ukraine SANCTIONS", ["topic:ukraine", "topic:sanctions"]),
        ("Kyiv", ["topic:ukraine"]),
        ("Zelensky Kremlin", ["topic:ukraine", "topic:russia"]),
        ("price cap", ["topic:sanctions"]),
        ("ukraine price cap Tomahawk", ["topic:ukraine", "topic:sanctions", "keyword:tomahawk"]),
        ('"Black Sea" Tomahawk', ["keyword:black sea", "keyword:tomahawk"]),
        ("“Black Sea”", ["keyword:black sea"]),
        # Quotes mean "watch these words", even when they name a topic.
        ('"price cap"', ["keyword:price cap"]),
        ('"Kyiv" ukraine', ["keyword:kyiv", "topic:ukraine"]),
        ("«Sanctions»", ["keyword:sanctions"]),
        ('Kyiv, "sanctions", price cap', ["topic:ukraine", "keyword:sanctions", "topic:sanctions"]),
        ("black sea, grain deal", ["keyword:black sea", "keyword:grain deal"]),
        ("ukraine ukraine Kyiv", ["topic:ukraine"]),
        ("", []),
        ("   ", []),
    ],
)
def test_parse(text: str, expected: list[str], catalogue: TopicCatalogue) -> None:
    assert describe(text, catalogue) == expected


def test_unbalanced_quotes_and_apostrophes(catalogue: TopicCatalogue) -> None:
    # An unclosed quote falls back to plain words, which still find the topic alias.
    assert describe('"price cap', catalogue) == ["topic:sanctions"]
    assert describe('"Black Sea', catalogue) == ["keyword:black", "keyword:sea"]
    assert describe("Putin's", catalogue) == ["keyword:putin's"]
    assert describe("«Black Sea» „grain deal“", catalogue) == [
        "keyword:black sea",
        "keyword:grain deal",
    ]


def test_near_miss_keyword_carries_a_suggestion(catalogue: TopicCatalogue) -> None:
    (target,) = parse_targets("ukrane", catalogue)
    assert isinstance(target, KeywordTarget)
    assert target.suggestion is not None and target.suggestion.slug == "ukraine"
    (plain,) = parse_targets("Tomahawk", catalogue)
    assert isinstance(plain, KeywordTarget) and plain.suggestion is None


def test_bad_arguments_are_invalid_with_a_reason(catalogue: TopicCatalogue) -> None:
    (too_long,) = parse_targets("x" * 5000, catalogue)
    assert isinstance(too_long, InvalidTarget) and "too long" in too_long.reason
    (symbols,) = parse_targets("!!!", catalogue)
    assert isinstance(symbols, InvalidTarget) and symbols.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a", "Too short"),
        ("X", "Too short"),
        ("7", "Too short"),
        ("The", "Too common"),
        ('"of"', "Too common"),
        ("і", "Too short"),
        ("на", "Too common"),
        ("и", "Too short"),
        ("не", "Too common"),
        ("sanctions +the", "Too common"),
        ('"price cap" +of', "Too common"),
    ],
)
def test_new_watches_of_one_vague_word_are_refused(
    text: str, reason: str, catalogue: TopicCatalogue
) -> None:
    (target,) = parse_targets(text, catalogue)
    # Still read as a keyword, so /unsubscribe finds one stored before the rule.
    assert isinstance(target, KeywordTarget)
    problem = new_watch_problem(target)
    assert problem is not None and problem.reason.startswith(reason)


@pytest.mark.parametrize(
    "text", ['"the hague"', "G7", "F-16", "2026", "tomahawk -the", "Tomahawk", "Чорне море"]
)
def test_specific_watches_are_accepted(text: str, catalogue: TopicCatalogue) -> None:
    for target in parse_targets(text, catalogue):
        assert isinstance(target, KeywordTarget)
        assert new_watch_problem(target) is None


@pytest.mark.parametrize(
    "text", ["<b>bold</b>", "&amp;", "<script>", "x&#39;s", "tomahawk -x<i>", "AT&amp;T"]
)
def test_html_is_not_a_watch(text: str, catalogue: TopicCatalogue) -> None:
    (target,) = parse_targets(text, catalogue)
    assert isinstance(target, KeywordTarget)
    problem = new_watch_problem(target)
    assert problem is not None and "HTML" in problem.reason


@pytest.mark.parametrize("text", ["AT&T", "R&D", "Black & Decker", "Putin's"])
def test_ampersands_and_apostrophes_are_not_html(text: str, catalogue: TopicCatalogue) -> None:
    (target,) = parse_targets(f'"{text}"', catalogue)
    assert isinstance(target, KeywordTarget) and new_watch_problem(target) is None
