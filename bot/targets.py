"""What a user names after `/subscribe`, `/unsubscribe` or `/latest`: topics or keywords.

`/subscribe ukraine price cap "Black Sea" tomahawk` reads as: the topic Ukraine, the topic
Sanctions (its alias "price cap"), and the keyword watches "black sea" and "tomahawk".
Quoted text and comma-separated parts are taken as one phrase; unquoted words are first
grouped into the longest run that names a topic, and any other word is a keyword of its own.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bot.keywords import KeywordError, normalize_keyword
from bot.topics import Topic, TopicCatalogue

MAX_TOPIC_WORDS = 4
MAX_ARGUMENT_CHARS = 1000
# Phones type “smart” quotes; apostrophes stay literal so "Putin's" is one word.
TYPOGRAPHIC_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


@dataclass(frozen=True, slots=True)
class TopicTarget:
    topic: Topic


@dataclass(frozen=True, slots=True)
class KeywordTarget:
    keyword: str  # normalised
    typed: str  # as the user wrote it
    suggestion: Topic | None = None  # a topic the user may have meant


@dataclass(frozen=True, slots=True)
class InvalidTarget:
    typed: str
    reason: str


Target = TopicTarget | KeywordTarget | InvalidTarget


def _phrases(text: str) -> list[tuple[str, bool]]:
    """Split into (phrase, quoted) pieces; unbalanced quotes fall back to plain words."""
    if "," in text:
        return [(part.strip(), True) for part in text.split(",") if part.strip()]
    text = text.translate(TYPOGRAPHIC_QUOTES)
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = "\""
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return [(word, False) for word in text.split()]
    quoted = {piece for piece in tokens if any(ch.isspace() for ch in piece)}
    return [(token, token in quoted) for token in tokens if token.strip()]


def parse_targets(text: str, catalogue: TopicCatalogue) -> list[Target]:
    """Read a command's argument text into topics and keyword watches, in the order given."""
    text = text.strip()
    if not text:
        return []
    if len(text) > MAX_ARGUMENT_CHARS:
        return [InvalidTarget(text[:40] + "…", "that is too long to be a topic or a keyword")]
    pieces = _phrases(text)
    targets: list[Target] = []
    seen: set[tuple[str, str]] = set()

    def add(target: Target) -> None:
        if isinstance(target, TopicTarget):
            key = ("topic", target.topic.slug)
        elif isinstance(target, KeywordTarget):
            key = ("keyword", target.keyword)
        else:
            key = ("invalid", target.typed)
        if key not in seen:
            seen.add(key)
            targets.append(target)

    index = 0
    while index < len(pieces):
        phrase, quoted = pieces[index]
        if quoted:
            add(_single(phrase, catalogue))
            index += 1
            continue
        matched = False
        for width in range(min(MAX_TOPIC_WORDS, len(pieces) - index), 1, -1):
            window = pieces[index : index + width]
            if any(q for _, q in window):
                continue
            topic = catalogue.resolve(" ".join(word for word, _ in window))
            if topic is not None:
                add(TopicTarget(topic))
                index += width
                matched = True
                break
        if not matched:
            add(_single(phrase, catalogue))
            index += 1
    return targets


def _single(phrase: str, catalogue: TopicCatalogue) -> Target:
    topic = catalogue.resolve(phrase)
    if topic is not None:
        return TopicTarget(topic)
    try:
        keyword = normalize_keyword(phrase)
    except KeywordError as error:
        return InvalidTarget(phrase, str(error))
    return KeywordTarget(keyword=keyword, typed=phrase, suggestion=catalogue.suggest(phrase))
