"""The topic catalogue: which topics exist, what users may call them, which articles are about them.

The built-in catalogue is ``bot/data/topics.toml``; an operator may add or replace topics with a
second file of the same shape. The header of the built-in file documents the term syntax. Loading
validates both files and compiles every topic once, in ``TopicCatalogue.__init__``, so that
classifying an article (done for every ingested item) costs one regex scan per topic.

Exceptions::

    CatalogueError    a catalogue file cannot be read, is not TOML, or breaks the schema;
                      the message names the file and the problem
"""

from __future__ import annotations

import difflib
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.keywords import trie_source
from bot.summary import html_to_text, split_sentences

BUILTIN_CATALOGUE = "data/topics.toml"

_SLUG_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_TERM_WORD_SPLIT_RE = re.compile(r"[\s\-\u2010-\u2015]+")
_APOSTROPHES = "'’ʼ"
# A term is compiled from atoms: its characters, plus these markers for what a space or hyphen
# inside it, an apostrophe, and a trailing "*" match in the text.
_ATOM_GAP = "<gap>"
_ATOM_APOSTROPHE = "<apostrophe>"
_ATOM_WORD_TAIL = "<word tail>"
_ATOM_SOME_WORDS = "<some words>"
# "..." between two words of a term: up to this many words in between ("froze ... reserves"
# matches "froze $300bn of Russia's reserves"), within one sentence and one part of the article.
_ELLIPSIS = "..."
_MAX_SKIPPED_WORDS = 10
_GAP_SOURCE = r"[\s\-\u2010-\u2015]+"
# A word "..." skips: no gap character (so a text splits into words one way only, and a long
# run of "a-a-a-…" cannot make the regex try every split), no sentence end, no part separator.
_SKIPPED_WORD = r"[^\s\-\u2010-\u2015\x00.!?;]+"
_ATOM_SOURCE = {
    _ATOM_GAP: _GAP_SOURCE,
    _ATOM_APOSTROPHE: "['’ʼ]",
    _ATOM_WORD_TAIL: r"\w*",
    # The gaps on both sides and up to _MAX_SKIPPED_WORDS words between them.
    _ATOM_SOME_WORDS: rf"{_GAP_SOURCE}(?:{_SKIPPED_WORD}{_GAP_SOURCE}){{0,{_MAX_SKIPPED_WORDS}}}?",
}
_MIN_PREFIX_STEM = 3
# Joins the parts of an article so that no phrase can match across two of them.
_PART_SEPARATOR = "\x00"
_NAME_QUOTES = "\"'`“”„‘’«»#"
_SUGGEST_CUTOFF = 0.8

_LIST_KEYS = (
    "aliases",
    "terms",
    "lead_terms",
    "category_terms",
    "category_support",
    "exclude",
    "category_exclude",
)
_TOPIC_KEYS = frozenset({"slug", "name", "extend", *_LIST_KEYS})


class CatalogueError(Exception):
    """A topic catalogue is unusable; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One subscribable topic. ``terms`` and ``exclude`` use the syntax of topics.toml."""

    slug: str
    name: str
    aliases: tuple[str, ...]
    terms: tuple[str, ...]
    exclude: tuple[str, ...]
    category_terms: tuple[str, ...] = ()
    category_exclude: tuple[str, ...] = ()
    lead_terms: tuple[str, ...] = ()
    category_support: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    slug: str
    # Matches excluded phrases (group "exclude"), terms ("term") and lead terms ("lead").
    text_pattern: re.Pattern[str]
    category_pattern: re.Pattern[str]
    # None when any category hit counts; else a word of it must be in the title or summary.
    support_pattern: re.Pattern[str] | None

    def matches(self, text: str, lead_end: int, tags: str) -> bool:
        for match in self.text_pattern.finditer(text):
            kind = match.lastgroup
            if kind == "term" or (kind == "lead" and match.start() < lead_end):
                return True
        if not tags or not _has_term(self.category_pattern, tags):
            return False
        return self.support_pattern is None or _has_term(self.support_pattern, text)


class TopicCatalogue:
    """An ordered, validated set of topics with name lookup and article classification."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        self._by_slug: dict[str, Topic] = {}
        self._by_name: dict[str, Topic] = {}
        for topic in self.topics:
            _check_topic(topic)
            if topic.slug in self._by_slug:
                raise CatalogueError(f"topic {topic.slug!r} is defined twice")
            self._by_slug[topic.slug] = topic
        for topic in self.topics:
            for name in (topic.slug, topic.name, *topic.aliases):
                key = name_key(name)
                owner = self._by_name.setdefault(key, topic)
                if owner is not topic:
                    raise CatalogueError(
                        f"{name!r} would name both topic {owner.slug!r} and topic {topic.slug!r}"
                    )
        self._compiled = tuple(_compile_topic(topic) for topic in self.topics)

    def get(self, slug: str) -> Topic | None:
        return self._by_slug.get(slug)

    def resolve(self, name: str) -> Topic | None:
        """The topic a user means by ``name``: its slug, display name or an alias, in any case."""
        return self._by_name.get(name_key(name))

    def suggest(self, name: str) -> Topic | None:
        """The topic whose name is closest to a mistyped one ("ukrane"), or None if none is."""
        key = name_key(name)
        if not key:
            return None
        close = difflib.get_close_matches(key, self._by_name, n=1, cutoff=_SUGGEST_CUTOFF)
        return self._by_name[close[0]] if close else None

    def classify(self, title: str, summary: str, categories: Iterable[str] = ()) -> frozenset[str]:
        """The slugs of the topics an article is about, judged on its text and feed categories.

        Text is reduced to what a reader sees first (``html_to_text``): words inside link
        addresses (``…/russia-ukraine-war…``) are not words of the article, and ``&#8217;``
        is an apostrophe. A topic's ``lead_terms`` count only in the title and the summary's first
        sentence; its ``category_support`` words must be in the text when only a category matched.
        """
        plain_title = _plain(title)
        plain_summary = _plain(summary)
        text = _PART_SEPARATOR.join((plain_title, plain_summary))
        tags = _PART_SEPARATOR.join(_plain(category) for category in categories)
        lead_end = len(plain_title) + len(_PART_SEPARATOR) + _first_sentence_length(plain_summary)
        return frozenset(
            compiled.slug for compiled in self._compiled if compiled.matches(text, lead_end, tags)
        )


def load_catalogue(extra: Path | None = None) -> TopicCatalogue:
    """The built-in catalogue, with the topics of the operator's file ``extra`` applied on top."""
    builtin_text = resources.files("bot").joinpath(BUILTIN_CATALOGUE).read_text(encoding="utf-8")
    topics = _apply({}, _parse(builtin_text, f"bot/{BUILTIN_CATALOGUE}", operator=False))
    source = f"bot/{BUILTIN_CATALOGUE}"
    if extra is not None:
        source = str(extra)
        try:
            extra_text = extra.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogueError(f"{extra}: cannot read the file: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CatalogueError(f"{extra}: the file is not UTF-8 ({exc.reason})") from exc
        topics = _apply(topics, _parse(extra_text, source, operator=True))
    try:
        return TopicCatalogue(topics.values())
    except CatalogueError as exc:
        raise CatalogueError(f"{source}: {exc}") from None


def name_key(name: str) -> str:
    """How topic names are compared: unquoted, trimmed, case folded, single-spaced."""
    text = unicodedata.normalize("NFC", name).strip().strip(_NAME_QUOTES).strip()
    return " ".join(text.casefold().split())


def _term_problem(term: str) -> str | None:
    """Why ``term`` is not a valid term, or None when it is."""
    words = _term_words(term)
    if not any(ch.isalnum() for ch in term):
        return f"term {term!r} has no letters or digits"
    if _ELLIPSIS in (words[:1] + words[-1:]):
        return f"term {term!r}: '{_ELLIPSIS}' goes between two words"
    if any(a == b == _ELLIPSIS for a, b in itertools.pairwise(words)):
        return f"term {term!r}: one '{_ELLIPSIS}' at a time"
    for word in words:
        if word == _ELLIPSIS:
            continue
        stem = word.removesuffix("*")
        if "*" in stem:
            return f"term {term!r}: '*' may only end a word"
        if word.endswith("*") and len(stem) < _MIN_PREFIX_STEM:
            return (
                f"term {term!r}: a word ending in '*' needs at least {_MIN_PREFIX_STEM} "
                "characters before the '*'"
            )
    return None


def _term_words(term: str) -> list[str]:
    return [word for word in _TERM_WORD_SPLIT_RE.split(unicodedata.normalize("NFC", term)) if word]


def _atoms(term: str, *, fold: bool) -> list[str]:
    """The term as a list of atoms: single characters, or one of the four ``_ATOM_*`` markers."""
    atoms: list[str] = []
    for word in _term_words(term):
        if word == _ELLIPSIS:
            atoms.append(_ATOM_SOME_WORDS)
            continue
        if atoms and atoms[-1] != _ATOM_SOME_WORDS:
            atoms.append(_ATOM_GAP)
        stem = word.removesuffix("*")
        for ch in stem.lower() if fold else stem:
            atoms.append(_ATOM_APOSTROPHE if ch in _APOSTROPHES else ch)
        if word.endswith("*"):
            atoms.append(_ATOM_WORD_TAIL)
    return atoms


def _terms_source(terms: Iterable[str]) -> str:
    folded = [term for term in terms if not any(ch.isupper() for ch in term)]
    exact = [term for term in terms if any(ch.isupper() for ch in term)]
    parts = []
    if folded:
        atoms = (_atoms(term, fold=True) for term in folded)
        parts.append(f"(?i:{trie_source(atoms, _atom_source)})")
    if exact:
        parts.append(trie_source((_atoms(term, fold=False) for term in exact), _atom_source))
    return "|".join(parts)


def _atom_source(atom: str) -> str:
    return _ATOM_SOURCE.get(atom, re.escape(atom))


def _topic_pattern(
    terms: tuple[str, ...], exclude: tuple[str, ...], lead_terms: tuple[str, ...] = ()
) -> re.Pattern[str]:
    # Excluded phrases come first: where one starts, it is consumed whole, so a term inside it
    # is never seen. That is all "exclude" means: it masks the words it covers. Terms come
    # before lead terms, so where a term and a lead term start at the same word, the term counts.
    source = f"(?P<term>{_terms_source(terms)})"
    if lead_terms:
        source = f"{source}|(?P<lead>{_terms_source(lead_terms)})"
    if exclude:
        source = f"(?P<exclude>{_terms_source(exclude)})|{source}"
    return re.compile(rf"(?<!\w)(?:{source})(?!\w)")


def _compile_topic(topic: Topic) -> _CompiledTopic:
    text_pattern = _topic_pattern(topic.terms, topic.exclude, topic.lead_terms)
    # In a feed's categories a lead term is an ordinary term: a tag is the publisher's own
    # statement of what the story is about, not a passing mention.
    category_pattern = (
        _topic_pattern(
            (*topic.terms, *topic.lead_terms, *topic.category_terms),
            (*topic.category_exclude, *topic.exclude),
        )
        if topic.category_terms or topic.category_exclude or topic.lead_terms
        else text_pattern
    )
    support_pattern = _topic_pattern(topic.category_support, ()) if topic.category_support else None
    return _CompiledTopic(topic.slug, text_pattern, category_pattern, support_pattern)


def _first_sentence_length(summary: str) -> int:
    """How many characters of ``summary`` its first sentence spans (all of it when it has one)."""
    sentences = split_sentences(summary)
    if len(sentences) < 2:
        return len(summary)
    return summary.index(sentences[1], summary.index(sentences[0]) + len(sentences[0]))


def _has_term(pattern: re.Pattern[str], text: str) -> bool:
    return any(match.lastgroup == "term" for match in pattern.finditer(text))


def _plain(text: str) -> str:
    return unicodedata.normalize("NFC", html_to_text(text))


def _check_topic(topic: Topic) -> None:
    if not _SLUG_RE.fullmatch(topic.slug):
        raise CatalogueError(
            f"slug {topic.slug!r} must be 1-32 lower-case letters, digits, '-' or '_', "
            "starting with a letter"
        )
    if not topic.name.strip():
        raise CatalogueError(f"topic {topic.slug!r} has an empty name")
    if not topic.terms:
        raise CatalogueError(f"topic {topic.slug!r} has no terms")
    for term in (
        *topic.terms,
        *topic.lead_terms,
        *topic.category_terms,
        *topic.category_support,
        *topic.exclude,
        *topic.category_exclude,
    ):
        problem = _term_problem(term)
        if problem:
            raise CatalogueError(f"topic {topic.slug!r}: {problem}")
    for alias in topic.aliases:
        if not name_key(alias):
            raise CatalogueError(f"topic {topic.slug!r} has an empty alias")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One [[topic]] table as written: an operator's ``extend`` entry may omit name and terms."""

    source: str
    slug: str
    name: str | None
    lists: Mapping[str, tuple[str, ...]]
    extend: bool


def _parse(text: str, source: str, *, operator: bool) -> list[_Entry]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"topic"})
    if unknown:
        raise CatalogueError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)}; expected [[topic]] tables"
        )
    tables = document.get("topic", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CatalogueError(f"{source}: 'topic' must be written as [[topic]] tables")
    entries = []
    seen: set[str] = set()
    for number, table in enumerate(tables, start=1):
        entry = _parse_entry(table, f"{source}: topic #{number}", operator=operator)
        if entry.slug in seen:
            raise CatalogueError(f"{source}: topic {entry.slug!r} appears twice in this file")
        seen.add(entry.slug)
        entries.append(entry)
    return entries


def _parse_entry(table: dict[str, object], where: str, *, operator: bool) -> _Entry:
    unknown = sorted(set(table) - _TOPIC_KEYS)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    slug = table.get("slug")
    if not isinstance(slug, str):
        raise CatalogueError(f"{where}: 'slug' is missing or not a string")
    where = f"{where} ({slug})"
    extend = table.get("extend", False)
    if not isinstance(extend, bool):
        raise CatalogueError(f"{where}: 'extend' must be true or false")
    if extend and not operator:
        raise CatalogueError(f"{where}: 'extend' is only for an operator's catalogue file")
    name = table.get("name")
    if name is not None and not isinstance(name, str):
        raise CatalogueError(f"{where}: 'name' must be a string")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_KEYS:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise CatalogueError(f"{where}: {key!r} must be a list of strings")
        lists[key] = tuple(value)
    if not extend:
        if name is None:
            raise CatalogueError(f"{where}: 'name' is missing")
        if not lists["terms"]:
            raise CatalogueError(f"{where}: 'terms' is missing or empty")
    return _Entry(where, slug, name, lists, extend)


def _apply(topics: dict[str, Topic], entries: list[_Entry]) -> dict[str, Topic]:
    """``topics`` with each entry added, replacing or extending the topic of the same slug."""
    result = dict(topics)
    for entry in entries:
        current = result.get(entry.slug)
        if entry.extend:
            if current is None:
                raise CatalogueError(
                    f"{entry.source}: 'extend = true' but there is no built-in topic to extend"
                )
            result[entry.slug] = Topic(
                slug=entry.slug,
                name=entry.name or current.name,
                aliases=_merged(current.aliases, entry.lists["aliases"]),
                terms=_merged(current.terms, entry.lists["terms"]),
                exclude=_merged(current.exclude, entry.lists["exclude"]),
                category_terms=_merged(current.category_terms, entry.lists["category_terms"]),
                category_exclude=_merged(current.category_exclude, entry.lists["category_exclude"]),
                lead_terms=_merged(current.lead_terms, entry.lists["lead_terms"]),
                category_support=_merged(current.category_support, entry.lists["category_support"]),
            )
        else:
            result[entry.slug] = Topic(
                slug=entry.slug,
                name=entry.name or "",
                aliases=entry.lists["aliases"],
                terms=entry.lists["terms"],
                exclude=entry.lists["exclude"],
                category_terms=entry.lists["category_terms"],
                category_exclude=entry.lists["category_exclude"],
                lead_terms=entry.lists["lead_terms"],
                category_support=entry.lists["category_support"],
            )
    return result


def _merged(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))
