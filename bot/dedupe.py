"""Near-duplicate stories: the same report carried by two sources under different URLs.

The same canonical URL is already one article (a database key). This module catches the other
case, a story syndicated or lightly rewritten by a second source: it reduces headline and lead
to a MinHash signature over their content words, and calls two articles one story when the
signatures agree on at least ``DEFAULT_THRESHOLD`` of their slots (an estimate of the Jaccard
similarity of the two word sets) and they were published within ``DEFAULT_WINDOW``.

The threshold is tuned on hand-labelled pairs from the fixture feeds (bench/quality.py): it is
set so that no labelled pair of different stories merges, because a false merge hides a story
from subscribers, while a missed merge only costs a second alert.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

SIGNATURE_SLOTS = 32
DEFAULT_THRESHOLD = 0.375  # 12 of 32 slots: the lowest with no false merge on the labelled pairs
DEFAULT_WINDOW = timedelta(hours=48)
# Words shorter than this, or in _STOPWORDS, carry no identity of a story.
_MIN_WORD = 2
# Word forms are compared by their first letters: "Russia's", "Russian" and "Russians" agree.
_STEM = 6
_MASK = (1 << 32) - 1
_PRIME = (1 << 61) - 1
_WORD_RE = re.compile(r"\w+")
_STOPWORDS = frozenset(
    (
        "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or",
        "as", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "it", "its",
        "this", "that", "these", "those", "over", "after", "before", "into", "than", "then", "but",
        "not", "no", "will", "would", "could", "should", "can", "may", "might", "about", "amid",
        "says", "said", "say", "new", "up", "out", "off", "per", "via", "his", "her", "their",
        "they", "he", "she", "we", "you", "who", "which", "what", "when", "where", "how", "also",
        "more", "most", "just", "all", "any",
    )
)  # fmt: skip


def _hash_parameters() -> tuple[tuple[int, int], ...]:
    """Fixed (a, b) pairs of the slot hash functions: stored signatures must stay comparable."""
    params = []
    for slot in range(SIGNATURE_SLOTS):
        digest = hashlib.blake2b(f"newsbot-minhash-{slot}".encode(), digest_size=16).digest()
        params.append((int.from_bytes(digest[:8], "big") | 1, int.from_bytes(digest[8:], "big")))
    return tuple(params)


_PARAMETERS = _hash_parameters()


def shingles(title: str, lead: str) -> frozenset[int]:
    """The content words of a headline and lead, folded and stemmed, as 64-bit hashes."""
    text = unicodedata.normalize("NFC", f"{title} {lead}").casefold()
    words = {
        word[:_STEM]
        for word in _WORD_RE.findall(text)
        if len(word) >= _MIN_WORD and word not in _STOPWORDS
    }
    return frozenset(
        int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        for word in words
    )


def signature(title: str, lead: str) -> tuple[int, ...]:
    """The MinHash signature of a story: ``SIGNATURE_SLOTS`` 32-bit minima, or () if no words."""
    values = shingles(title, lead)
    if not values:
        return ()
    return tuple(min(((a * v + b) % _PRIME) & _MASK for v in values) for a, b in _PARAMETERS)


def similarity(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """The share of slots on which two signatures agree: an estimate of Jaccard similarity."""
    if not first or len(first) != len(second):
        return 0.0
    return sum(x == y for x, y in zip(first, second, strict=True)) / len(first)


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """An earlier article a new one may repeat: its story, source, time and signature."""

    story_id: int
    source_id: int
    published_at: datetime
    signature: tuple[int, ...]


def find_story(
    sig: tuple[int, ...],
    *,
    source_id: int,
    published_at: datetime,
    earlier: Iterable[StoryCandidate],
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
) -> int | None:
    """The story an article belongs to among ``earlier`` ones, or None when it is a new story.

    Only other sources count: a source repeating itself under a new guid and URL is a new
    item by that source's own account (an update, a live blog), not a second report. The most
    similar candidate wins; ties go to the earliest story.
    """
    best: tuple[float, int] | None = None
    for candidate in earlier:
        if candidate.source_id == source_id:
            continue
        if abs(candidate.published_at - published_at) > window:
            continue
        score = similarity(sig, candidate.signature)
        if score >= threshold and (best is None or (score, -candidate.story_id) > best):
            best = (score, -candidate.story_id)
    return -best[1] if best else None
