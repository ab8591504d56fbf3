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


def labelled_items() -> list[LabelledItem]:
    document = json.loads(TOPIC_LABELS.read_text(encoding="utf-8"))
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
class MergeScore:
    threshold: float
    same_pairs: int
    different_pairs: int
    false_merges: int
    missed_merges: int


def merge_scores(thresholds: Iterable[float]) -> list[MergeScore]:
    """False and missed merges of ``bot.dedupe`` on the labelled pairs, per threshold.

    Every cross-source pair within a group is judged: a labelled pair should merge, every
    other pair should not. Pairs are compared as ingest would compare them (headline and
    summary, same window), one pair at a time.
    """
    from bot.dedupe import DEFAULT_WINDOW, signature, similarity

    document = json.loads(STORY_PAIRS.read_text(encoding="utf-8"))
    same = {frozenset((first["guid"], second["guid"])) for first, second in document["same_story"]}
    judged: list[tuple[float, bool]] = []
    for group in document["groups"]:
        items = []
        for feed in group:
            for article in feed_articles(feed).values():
                summary = make_summary(article.summary_source, title=article.title)
                items.append((feed, article, signature(article.title, summary)))
        for index, (feed, article, sig) in enumerate(items):
            for other_feed, other, other_sig in items[index + 1 :]:
                if other_feed == feed:
                    continue
                if abs(article.published_at - other.published_at) > DEFAULT_WINDOW:
                    continue
                pair = frozenset((article.guid, other.guid))
                judged.append((similarity(sig, other_sig), pair in same))
    results = []
    for threshold in thresholds:
        false_merges = sum(1 for score, is_same in judged if score >= threshold and not is_same)
        missed = sum(1 for score, is_same in judged if score < threshold and is_same)
        results.append(
            MergeScore(
                threshold,
                sum(1 for _, s in judged if s),
                sum(1 for _, s in judged if not s),
                false_merges,
                missed,
            )
        )
    return results
