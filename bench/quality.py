"""Story quality on the labelled sets: topic precision/recall, and story merges.

Run: ``python -m bench.quality`` (add ``--errors`` to list every wrong verdict).
"""

from __future__ import annotations

import argparse

from bench.labelled import (
    SPANISH_LABELS,
    LabelledItem,
    classifier,
    labelled_items,
    merge_scores,
    score,
    substring_baseline,
)
from bot.dedupe import DEFAULT_THRESHOLD
from bot.topics import TopicCatalogue, load_catalogue

BUILTIN_TOPICS = (
    "ukraine", "russia", "sanctions", "nato", "eu", "usa", "energy", "diplomacy", "military",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", action="store_true", help="list each wrong verdict")
    args = parser.parse_args()
    catalogue = load_catalogue()
    items = labelled_items()
    print(f"Topics: {len(items)} labelled items\n")
    topic_table(catalogue, items)
    spanish = labelled_items(SPANISH_LABELS)
    print(f"\nTopics, Spanish (La Nación): {len(spanish)} labelled items\n")
    topic_table(catalogue, spanish)
    thresholds = sorted({0.15, 0.175, 0.2, 0.225, DEFAULT_THRESHOLD, 0.3})
    merges = merge_scores(thresholds)
    first = merges[0]
    print(
        f"\nStories: {first.same_pairs} labelled same-story pairs, "
        f"{first.different_pairs} different-story pairs (cross-source, within 48 h); "
        f"held out: {first.held_out.same_pairs} same, {first.held_out.different_pairs} different\n"
    )
    print(
        "| threshold | false merges | missed merges "
        "| tuning: false | tuning: missed | held out: false | held out: missed |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in merges:
        mark = " (used)" if m.threshold == DEFAULT_THRESHOLD else ""
        print(
            f"| {m.threshold:.3f}{mark} | {m.false_merges} | {m.missed_merges} "
            f"| {m.tuning.false_merges} | {m.tuning.missed_merges} "
            f"| {m.held_out.false_merges} | {m.held_out.missed_merges} |"
        )
    if args.errors:
        predict = classifier(catalogue)
        for item in items + spanish:
            got = predict(item) & set(BUILTIN_TOPICS)
            if got != item.topics:
                extra = ",".join(sorted(got - item.topics))
                missing = ",".join(sorted(item.topics - got))
                print(f"+[{extra}] -[{missing}] {item.feed[:12]} {item.title[:90]}")


def topic_table(catalogue: TopicCatalogue, items: list[LabelledItem]) -> None:
    ours = score(items, BUILTIN_TOPICS, classifier(catalogue))
    naive = score(items, BUILTIN_TOPICS, substring_baseline(catalogue))
    print("| topic | items | newsbot P | newsbot R | substring P | substring R |")
    print("|---|---:|---:|---:|---:|---:|")
    for topic in BUILTIN_TOPICS:
        a, b = ours[topic], naive[topic]
        positives = a.true_positives + a.false_negatives
        print(
            f"| {topic} | {positives} | {a.precision:.3f} | {a.recall:.3f} "
            f"| {b.precision:.3f} | {b.recall:.3f} |"
        )


if __name__ == "__main__":
    main()
