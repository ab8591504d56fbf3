"""Users' own keyword watches: normalising what a user typed, and finding watched phrases in text.

A watch is a plain phrase (``Tomahawk``, ``"price cap"``), never a pattern: everything a user
types is matched literally, as whole words, ignoring case, with any run of whitespace standing
for a space. All watches of all users are compiled into one matcher, so the cost of checking an
article grows with the article's length, not with the number of watches.

Exceptions::

    KeywordError    what the user typed cannot be a watch; str(error) is a message for the user
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias

logger = logging.getLogger(__name__)

MAX_KEYWORD_CHARS = 64
_QUOTES = "\"'`“”„‘’«»"
_TRIE_END = ""
_SPACE = " "

_Trie: TypeAlias = dict[str, "_Trie"]


class KeywordError(ValueError):
    """Text that cannot be a keyword watch; the message is fit to show the user."""


def normalize_keyword(text: str) -> str:
    """The canonical form of a watch: unquoted, trimmed, case folded, single-spaced."""
    phrase = unicodedata.normalize("NFC", text)
    unquoted = phrase.strip().strip(_QUOTES)
    while unquoted != phrase:
        phrase, unquoted = unquoted, unquoted.strip().strip(_QUOTES)
    phrase = " ".join(phrase.casefold().split())
    if not phrase:
        raise KeywordError("Please give a word or phrase to watch, e.g. /subscribe Tomahawk.")
    if len(phrase) > MAX_KEYWORD_CHARS:
        raise KeywordError(
            f"That is too long for a keyword: keep it to {MAX_KEYWORD_CHARS} characters."
        )
    if not any(ch.isalnum() for ch in phrase):
        raise KeywordError("A keyword needs at least one letter or digit.")
    return phrase


class KeywordMatcher:
    """Finds which of many watched phrases occur in a text, in one pass over the text."""

    def __init__(self, phrases: Iterable[str]) -> None:
        watched: set[str] = set()
        for phrase in phrases:
            try:
                watched.add(normalize_keyword(phrase))
            except KeywordError:
                # A stored watch that no longer normalises must not break everyone's matching.
                logger.warning("Ignoring invalid keyword watch %r", phrase)
        self.phrases: frozenset[str] = frozenset(watched)
        # Where a longer watch is found, the shorter watches it starts with are found too
        # ("price cap" implies "price"); the regex reports only the longest at each position.
        self._implied = {phrase: _shorter_watches(phrase, self.phrases) for phrase in self.phrases}
        self._pattern = _compile(self.phrases) if self.phrases else None

    def matches(self, text: str) -> frozenset[str]:
        """The watched phrases (in normalised form) that occur in ``text`` as whole words."""
        if self._pattern is None:
            return frozenset()
        haystack = unicodedata.normalize("NFC", text).casefold()
        found: set[str] = set()
        for match in self._pattern.finditer(haystack):
            phrase = " ".join(match.group("phrase").split())
            if phrase in self._implied:
                found.add(phrase)
                found.update(self._implied[phrase])
        return frozenset(found)


def trie_source(phrases: Iterable[Sequence[str]], atom_source: Callable[[str], str]) -> str:
    """One regex source matching any of ``phrases``, shaped as a trie, longer phrases first.

    A phrase is a sequence of atoms (usually its characters); ``atom_source`` gives the regex
    for one atom. A flat alternation makes the regex engine try every phrase at every position;
    the trie tries one branch per distinct next atom, so the cost of a scan does not grow with
    the number of phrases. Atoms must not be empty strings.
    """
    root: _Trie = {}
    for phrase in phrases:
        node = root
        for atom in phrase:
            node = node.setdefault(atom, {})
        node[_TRIE_END] = {}
    return _node_source(root, atom_source)


def _node_source(node: _Trie, atom_source: Callable[[str], str]) -> str:
    branches = [
        atom_source(atom) + _node_source(child, atom_source)
        for atom, child in sorted(node.items())
        if atom != _TRIE_END
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy: where a phrase ends and a longer one goes on, the longer one is tried first.
    return f"(?:{body})?" if _TRIE_END in node else body


def _compile(phrases: Iterable[str]) -> re.Pattern[str]:
    # The lookahead makes each match zero-width, so phrases that overlap ("price cap",
    # "cap on russian oil") are all seen.
    source = trie_source(phrases, _keyword_atom_source)
    return re.compile(rf"(?<!\w)(?=(?P<phrase>{source})(?!\w))")


def _keyword_atom_source(ch: str) -> str:
    return r"\s+" if ch == _SPACE else re.escape(ch)


def _shorter_watches(phrase: str, watched: frozenset[str]) -> frozenset[str]:
    """The other watches that ``phrase`` begins with, ending where a whole word ends."""
    return frozenset(
        phrase[:end]
        for end in range(1, len(phrase))
        if not _is_word_char(phrase[end]) and phrase[:end] in watched
    )


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
