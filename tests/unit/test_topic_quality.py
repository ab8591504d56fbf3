"""The classifier against the hand-labelled items in tests/data/topic_labels.json.

The issue's targets are precision ≥ 0.95 and recall ≥ 0.90 on every topic. Where the labelled
set shows a topic below a target (see BENCHMARKS.md, "Story quality"), the floor here is the
figure measured when the set was made, so that a catalogue change that makes things worse
fails; raise a floor when the catalogue improves, never lower one without saying why.
"""

from __future__ import annotations

import pytest

from bench.labelled import SPANISH_LABELS, Score, classifier, labelled_items, score
from bot.topics import load_catalogue

TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90
# topic: (precision floor, recall floor) where the measured figure is below the target.
# Measured on the 617-item set (Guardian, Telegraph, Independent and NYT items added). The
# earlier floors were set on the first 184 items. lead_terms (bare "war", "US", "EU" count in the
# headline and first sentence only), category_support for energy and dropping office-holders'
# titles from diplomacy brought eu, usa and energy to both targets; these floors are the figures
# measured after that change, rounded down. Excluding opinions of a war ("pro-war elements",
# "denounced the war"), the war as a date ("until war arrived") and a place's status ("occupied
# by Russian forces") brought military to both; "relations between" lifted diplomacy's recall.
# The "..." operator ("frozen ... reserves": an asset freeze told in a sentence) brought
# sanctions to both.
# Two leaders and their call in one sentence ("trump ... putin ... call") brought diplomacy's
# recall to the target; a truce as the time something happened ("calm during a ceasefire") is
# background, which brought its precision there too.
BELOW_TARGET: dict[str, tuple[float, float]] = {}
TOPICS = ("ukraine", "russia", "sanctions", "nato", "eu", "usa", "energy", "diplomacy", "military")


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    catalogue = load_catalogue()
    return dict(score(labelled_items(), TOPICS, classifier(catalogue)))


def test_labelled_set_is_large_enough() -> None:
    items = labelled_items()
    assert len(items) >= 150
    assert all(item.topics <= set(TOPICS) for item in items)


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_meets_its_floor(topic: str, scores: dict[str, Score]) -> None:
    result = scores[topic]
    precision_floor, recall_floor = BELOW_TARGET.get(topic, (TARGET_PRECISION, TARGET_RECALL))
    assert result.precision >= precision_floor, result
    assert result.recall >= recall_floor, result


def test_spanish_items_are_found_with_at_most_the_measured_errors() -> None:
    """La Nación's 100 items (tests/data/topic_labels_es.json) are too few per topic for rates
    to mean much, so the floor is the errors measured when the Spanish terms were added: an
    unpaid rouble debt whose text names no sanction (missed), and an ex-army chief's corruption
    trial (military: the labels say no). Before the Spanish terms, 15 of 18 labels were missed and
    "sin embargo" ("however") made a TV item about sanctions."""
    items = labelled_items(SPANISH_LABELS)
    assert len(items) == 100
    results = score(items, TOPICS, classifier(load_catalogue()))
    assert sum(r.true_positives for r in results.values()) >= 17
    assert sum(r.false_negatives for r in results.values()) <= 1, results
    assert sum(r.false_positives for r in results.values()) <= 1, results
