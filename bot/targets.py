"""What a user names after `/subscribe`, `/unsubscribe` or `/latest`: topics or keywords.

`/subscribe ukraine price cap "Black Sea" tomahawk` reads as: the topic Ukraine, the topic
Sanctions (its alias "price cap"), and the keyword watches "black sea" and "tomahawk".
Quoted text is always a keyword (`"price cap"` watches the words, not the topic), and a
comma-separated part is one phrase; unquoted words are first grouped into the longest run
that names a topic, and any other word is a keyword of its own.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n.data import N_
from bot.keywords import (
    KeywordError,
    looks_like_html,
    normalize_keyword,
    parse_watch,
    too_vague,
)
from bot.topics import Topic, TopicCatalogue

MAX_TOPIC_WORDS = 4
MAX_ARGUMENT_CHARS = 1000
# Phones type “smart” quotes; apostrophes stay literal so "Putin's" is one word.
TYPOGRAPHIC_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_FULLY_QUOTED = re.compile(r'\s*"[^"]*"\s*')
TOO_SHORT = N_(
    "Too short to watch: a single letter or digit is in nearly every story. Use a more "
    'specific word, or a phrase in quotes, e.g. /subscribe "plan b".'
)
NOT_HTML = N_(
    "A keyword is plain text as it appears in the news: it can't contain HTML tags or codes."
)
TOO_COMMON = N_(
    "Too common to watch: nearly every story has it. Use a more specific word, or a phrase "
    'in quotes, e.g. /subscribe "the hague".'
)


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
    reason: str  # in English
    template: str = ""  # the reason's catalogue entry, when it has {placeholders}
    values: tuple[tuple[str, int], ...] = ()

    def explain(self, gettext: Callable[[str], str]) -> str:
        """The reason in the chat's language (`gettext` is its translator's)."""
        if not self.template:
            return gettext(self.reason)
        return gettext(self.template).format(**dict(self.values))


Target = TopicTarget | KeywordTarget | InvalidTarget


def _phrases(text: str) -> list[tuple[str, bool]]:
    """Split into (phrase, quoted) pieces; unbalanced quotes fall back to plain words.

    `quoted` is whether the user put quotes in the piece: then it is a keyword, never a topic.
    A comma-separated part is one piece, quoted only when quotes wrap all of it."""
    text = text.translate(TYPOGRAPHIC_QUOTES)
    if "," in text:
        return [
            (part.strip(), _FULLY_QUOTED.fullmatch(part) is not None)
            for part in text.split(",")
            if part.strip()
        ]
    source = io.StringIO(text)
    lexer = shlex.shlex(source, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.commenters = ""
    pieces = []
    start = 0
    try:
        for token in lexer:
            # The token's text as typed, quotes included: shlex has removed them from `token`.
            end = source.tell()
            if token.strip():
                pieces.append((token, '"' in text[start:end]))
            start = end
    except ValueError:
        return [(word, False) for word in text.split()]
    return pieces


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
        width = 1
        if not quoted and not _is_operator(phrase):
            for wider in range(min(MAX_TOPIC_WORDS, len(pieces) - index), 1, -1):
                window = pieces[index : index + wider]
                if any(q or _is_operator(word) for word, q in window):
                    continue
                if catalogue.resolve(" ".join(word for word, _ in window)) is not None:
                    width = wider
                    break
        # "+word" and "-word" join the watch before them: `sanctions -iran` is one watch.
        end = index + width
        while end < len(pieces) and _is_operator(pieces[end][0]):
            end += 1
        if end > index + width or _is_operator(phrase):
            add(_watch(pieces[index : index + width], pieces[index + width : end]))
        elif quoted:
            add(_keyword(phrase.strip().strip('"')))
        else:
            add(_single(" ".join(word for word, _ in pieces[index:end]), catalogue))
        index = end
    return targets


def _is_operator(word: str) -> bool:
    return len(word) > 1 and word[0] in "-+" and (word[1].isalnum() or word[1] in '"“«')


def _watch(head: list[tuple[str, bool]], operators: list[tuple[str, bool]]) -> Target:
    """A keyword watch with operators, from the words the user typed (quotes already removed)."""
    typed = " ".join(word for word, _ in (*head, *operators))
    terms = [f'"{" ".join(word for word, _ in head)}"']
    terms.extend(word[0] + f'"{word[1:]}"' for word, _ in operators)
    try:
        keyword = normalize_keyword(" ".join(terms))
    except KeywordError as error:
        return InvalidTarget(typed, str(error), error.template, tuple(error.values.items()))
    return KeywordTarget(keyword=keyword, typed=typed)


def _single(phrase: str, catalogue: TopicCatalogue) -> Target:
    topic = catalogue.resolve(phrase)
    if topic is not None:
        return TopicTarget(topic)
    return _keyword(phrase, catalogue.suggest(phrase))


def _keyword(phrase: str, suggestion: Topic | None = None) -> Target:
    try:
        keyword = normalize_keyword(phrase)
    except KeywordError as error:
        return InvalidTarget(phrase, str(error), error.template, tuple(error.values.items()))
    return KeywordTarget(keyword=keyword, typed=phrase, suggestion=suggestion)


def new_watch_problem(target: KeywordTarget) -> InvalidTarget | None:
    """Why a watch should not be added now, though it parses (so /unsubscribe still finds one
    stored before the rule): it has HTML in it, or a word it requires alone is one character
    or a very common word.
    """
    watch = parse_watch(target.keyword)
    if any(looks_like_html(term) for term in (*watch.required, *watch.vetoed)):
        return InvalidTarget(target.typed, NOT_HTML)
    for term in watch.required:
        if too_vague(term):
            return InvalidTarget(term, TOO_SHORT if len(term) == 1 else TOO_COMMON)
    return None
