"""Keyword watches with operators (`sanctions -iran`, `"price cap" oil`) and /subscribe."""

from __future__ import annotations

import random
import re

import pytest

from bot.keywords import KeywordError, KeywordMatcher, Watch, normalize_keyword, parse_watch
from bot.targets import InvalidTarget, KeywordTarget, TopicTarget, parse_targets
from bot.topics import load_catalogue


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("sanctions -iran", "sanctions -iran"),
        ("Sanctions  -IRAN", "sanctions -iran"),
        ('"price cap" oil', '"price cap" oil'),
        ("“Price Cap” +Oil", '"price cap" oil'),
        ("«Чорне море» -туризм", '"чорне море" -туризм'),
        ('"price cap" -"olive oil"', '"price cap" -"olive oil"'),
        ("oil oil -iran -iran", "oil -iran"),
        # Two single words, both required: "+" keeps them two terms, not one phrase.
        ("sanctions +oil", "sanctions +oil"),
        ("Sanctions +oil +gas", "sanctions +oil +gas"),
        # A single phrase is stored bare, as before operators existed.
        ('"price cap"', "price cap"),
        ("price cap oil", "price cap oil"),
        ("F-16", "f-16"),
        ("war - peace", "war - peace"),
        ("Russia's oil", "russia's oil"),
    ],
)
def test_watches_are_stored_in_one_canonical_form(typed: str, stored: str) -> None:
    assert normalize_keyword(typed) == stored
    assert normalize_keyword(stored) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-iran", "needs a word to look for"),
        ("-iran -iraq", "needs a word to look for"),
        ("a b c d e f -g", "at most 6"),
        ('oil -"!!!"', "at least one letter or digit"),
    ],
)
def test_bad_watches_explain_themselves(typed: str, message: str) -> None:
    with pytest.raises(KeywordError, match=message):
        normalize_keyword(typed)


def test_parse_watch_splits_required_and_vetoed_terms() -> None:
    assert parse_watch('"price cap" oil -"olive oil"') == Watch(
        ("price cap", "oil"), ("olive oil",)
    )
    assert parse_watch("price cap") == Watch(("price cap",))


def test_all_required_terms_must_match_and_any_vetoed_term_vetoes() -> None:
    matcher = KeywordMatcher(["sanctions -iran", '"price cap" oil', "tomahawk"])
    assert matcher.matches("EU agrees new sanctions on Russia") == {"sanctions -iran"}
    assert matcher.matches("US sanctions on Iran's oil exports") == frozenset()
    assert matcher.matches("G7 debates the price cap on Russian oil") == {'"price cap" oil'}
    assert matcher.matches("A price cap on bread") == frozenset()
    assert matcher.matches("Oil prices rise") == frozenset()
    assert matcher.matches("Tomahawks for Kyiv? The tomahawk decision") == {"tomahawk"}


def test_a_plus_word_watch_needs_both_words_anywhere() -> None:
    matcher = KeywordMatcher([normalize_keyword("sanctions +oil")])
    assert matcher.matches("Oil exports hit by new sanctions") == {"sanctions +oil"}
    assert matcher.matches("New sanctions on banks") == frozenset()


def test_terms_are_whole_words_even_inside_expressions() -> None:
    matcher = KeywordMatcher(["oil -iran"])
    assert matcher.matches("Oil shipments from Iranian ports") == {"oil -iran"}
    assert matcher.matches("Turmoil in Iran") == frozenset()


def test_many_watches_agree_with_evaluating_each_watch_alone() -> None:
    words = ["oil", "gas", "iran", "russia", "price cap", "kyiv", "coal", "nato", "drone", "eu"]
    words += [f"w{n}" for n in range(40)]  # enough distinct watches, most never found
    rng = random.Random(4)
    watches = set()
    while len(watches) < 10_000:
        required = rng.sample(words, rng.randint(1, 2))
        vetoed = [w for w in rng.sample(words, rng.randint(0, 2)) if w not in required]
        terms = [*(f'"{w}"' for w in required), *(f'-"{w}"' for w in vetoed)]
        watches.add(normalize_keyword(" ".join(terms)))
    matcher = KeywordMatcher(watches)
    texts = [
        "Russia's gas and oil: the EU price cap debate",
        "A drone hit Kyiv overnight; NATO condemns it",
        "Iran and coal",
        "Nothing here",
    ]
    for text in texts:
        # The slow, obvious way: one regex per term, every watch evaluated on its own.
        folded = text.casefold()
        present = {w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", folded)}
        expected = set()
        for watch in watches:
            parsed = parse_watch(watch)
            if set(parsed.required) <= present and not set(parsed.vetoed) & present:
                expected.add(watch)
        assert matcher.matches(text) == expected


@pytest.fixture(scope="module")
def catalogue():  # type: ignore[no-untyped-def]
    return load_catalogue()


def test_subscribe_minus_word_joins_the_previous_watch(catalogue) -> None:  # type: ignore[no-untyped-def]
    # "sanctions" alone is a topic; with a "-" word after it, the user means a watch.
    assert parse_targets("sanctions -iran", catalogue) == [
        KeywordTarget(keyword="sanctions -iran", typed="sanctions -iran")
    ]
    targets = parse_targets('ukraine "price cap" +oil tomahawk -toys', catalogue)
    assert isinstance(targets[0], TopicTarget) and targets[0].topic.slug == "ukraine"
    assert [t.keyword for t in targets[1:] if isinstance(t, KeywordTarget)] == [
        '"price cap" oil',
        "tomahawk -toys",
    ]


def test_subscribe_with_only_a_minus_word_is_refused(catalogue) -> None:  # type: ignore[no-untyped-def]
    (target,) = parse_targets("-iran", catalogue)
    assert isinstance(target, InvalidTarget)
    assert "needs a word to look for" in target.reason


def test_comma_separated_parts_are_whole_watches(catalogue) -> None:  # type: ignore[no-untyped-def]
    targets = parse_targets('tomahawk, "price cap" oil -olive', catalogue)
    assert [t.keyword for t in targets if isinstance(t, KeywordTarget)] == [
        "tomahawk",
        '"price cap" oil -olive',
    ]
