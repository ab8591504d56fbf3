"""The labelled sets in tests/data, and the bot's verdicts on them, for bench/ and the tests.

Each labelled item is looked up by guid in its fixture feed and put through the same steps as
an ingest (normalise, ``make_summary``, ``classify`` on title + summary + categories), so the
figures measure what subscribers get.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.feeds.normalize import Article, normalize_feed
from bot.feeds.parse import parse_feed
from bot.summary import make_summary
from bot.topics import TopicCatalogue

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
TOPIC_LABELS = ROOT / "tests" / "data" / "topic_labels.json"
SPANISH_LABELS = ROOT / "tests" / "data" / "topic_labels_es.json"  # measured on its own
STORY_PAIRS = ROOT / "tests" / "data" / "story_pairs.json"
FETCHED_AT = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LabelledItem:
    feed: str
    guid: str
    title: str
    summary: str
    categories: tuple[str, ...]
    published_at: datetime
    topics: frozenset[str]


@dataclass(frozen=True, slots=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0


def feed_articles(name: str) -> dict[str, Article]:
    """The normalised articles of a fixture feed, by guid."""
    url = f"https://fixtures.example/{name}"
    feed = parse_feed((FEEDS / name).read_bytes(), url=url)
    return {a.guid: a for a in normalize_feed(feed, feed_url=url, fetched_at=FETCHED_AT)}


def labelled_items(path: Path = TOPIC_LABELS) -> list[LabelledItem]:
    document = json.loads(path.read_text(encoding="utf-8"))
    feeds: dict[str, dict[str, Article]] = {}
    items = []
    for entry in document["items"]:
        articles = feeds.setdefault(entry["feed"], feed_articles(entry["feed"]))
        article = articles[entry["guid"]]
        items.append(
            LabelledItem(
                feed=entry["feed"],
                guid=entry["guid"],
                title=article.title,
                summary=make_summary(article.summary_source, title=article.title),
                categories=article.categories,
                published_at=article.published_at,
                topics=frozenset(entry["topics"]),
            )
        )
    return items


def score(
    items: Iterable[LabelledItem],
    topics: Iterable[str],
    predict: Callable[[LabelledItem], frozenset[str]],
) -> dict[str, Score]:
    """Per-topic counts of ``predict`` against the labels."""
    counts = {topic: [0, 0, 0] for topic in topics}
    for item in items:
        predicted = predict(item)
        for topic, (tp_fp_fn) in counts.items():
            if topic in predicted and topic in item.topics:
                tp_fp_fn[0] += 1
            elif topic in predicted:
                tp_fp_fn[1] += 1
            elif topic in item.topics:
                tp_fp_fn[2] += 1
    return {topic: Score(*values) for topic, values in counts.items()}


def classifier(catalogue: TopicCatalogue) -> Callable[[LabelledItem], frozenset[str]]:
    """The bot's verdict, exactly as ingest asks for it."""
    return lambda item: catalogue.classify(item.title, item.summary, item.categories)


def substring_baseline(catalogue: TopicCatalogue) -> Callable[[LabelledItem], frozenset[str]]:
    """What simple bots do: a topic matches when its name, slug or an alias is a substring."""
    needles: Mapping[str, tuple[str, ...]] = {
        topic.slug: tuple({name.casefold() for name in (topic.slug, topic.name, *topic.aliases)})
        for topic in catalogue.topics
    }

    def predict(item: LabelledItem) -> frozenset[str]:
        text = " ".join((item.title, item.summary, *item.categories)).casefold()
        return frozenset(
            slug for slug, names in needles.items() if any(name in text for name in names)
        )

    return predict


@dataclass(frozen=True, slots=True)
class MergeCounts:
    """Pairs judged and verdicts wrong, for one part of the labelled pairs."""

    same_pairs: int
    different_pairs: int
    false_merges: int
    missed_merges: int


@dataclass(frozen=True, slots=True)
class MergeScore:
    """Verdicts at one threshold: on all pairs, and on the tuning and held-out parts."""

    threshold: float
    same_pairs: int
    different_pairs: int
    false_merges: int
    missed_merges: int
    tuning: MergeCounts
    held_out: MergeCounts


@dataclass(frozen=True, slots=True)
class JudgedPair:
    """One cross-source pair within the window: its score, label, part, and the two titles."""

    score: float
    same: bool
    held_out: bool
    titles: tuple[str, str]


def judged_pairs() -> list[JudgedPair]:
    """Every judged pair of the labelled groups, scored as ``bot.dedupe.find_story`` scores it.

    Every cross-source pair within a group and ``DEFAULT_WINDOW`` is judged: a labelled pair
    should merge, every other pair should not, except pairs inside one "related" cluster that
    are not labelled same (judged neither way). Pairs are compared as ingest would compare them
    (headline and summary, word weights over the group's articles as the candidate pool, score
    discounted by the time apart). A pair is held out when either item comes from one of the
    file's ``held_out_feeds``.
    """
    from bot.dedupe import DEFAULT_WINDOW, WordWeights, signature, story_score

    document = json.loads(STORY_PAIRS.read_text(encoding="utf-8"))
    same = {frozenset((first["guid"], second["guid"])) for first, second in document["same_story"]}
    related = {
        frozenset((first["guid"], second["guid"]))
        for cluster in document.get("related", [])
        for index, first in enumerate(cluster)
        for second in cluster[index + 1 :]
    }
    held_out_feeds = set(document.get("held_out_feeds", []))
    judged: list[JudgedPair] = []
    for group in document["groups"]:
        items = []
        for feed in group:
            for article in feed_articles(feed).values():
                summary = make_summary(article.summary_source, title=article.title)
                items.append((feed, article, signature(article.title, summary)))
        weights = WordWeights(sig for _, _, sig in items if sig)
        for index, (feed, article, sig) in enumerate(items):
            for other_feed, other, other_sig in items[index + 1 :]:
                if other_feed == feed:
                    continue
                gap = article.published_at - other.published_at
                if abs(gap) > DEFAULT_WINDOW:
                    continue
                pair = frozenset((article.guid, other.guid))
                if pair in related and pair not in same:
                    continue
                judged.append(
                    JudgedPair(
                        story_score(sig, other_sig, gap, weights),
                        pair in same,
                        feed in held_out_feeds or other_feed in held_out_feeds,
                        (article.title, other.title),
                    )
                )
    return judged


def _counts(pairs: Iterable[JudgedPair], threshold: float) -> MergeCounts:
    pairs = list(pairs)
    return MergeCounts(
        same_pairs=sum(1 for p in pairs if p.same),
        different_pairs=sum(1 for p in pairs if not p.same),
        false_merges=sum(1 for p in pairs if p.score >= threshold and not p.same),
        missed_merges=sum(1 for p in pairs if p.score < threshold and p.same),
    )


def merge_scores(thresholds: Iterable[float]) -> list[MergeScore]:
    """False and missed merges of ``bot.dedupe`` on the labelled pairs, per threshold."""
    judged = judged_pairs()
    results = []
    for threshold in thresholds:
        total = _counts(judged, threshold)
        results.append(
            MergeScore(
                threshold,
                total.same_pairs,
                total.different_pairs,
                total.false_merges,
                total.missed_merges,
                tuning=_counts((p for p in judged if not p.held_out), threshold),
                held_out=_counts((p for p in judged if p.held_out), threshold),
            )
        )
    return results
