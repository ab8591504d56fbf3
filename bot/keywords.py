"""Users' own keyword watches: normalising what a user typed, and finding watches in text.

A watch is one or more literal terms, never a pattern: ``Tomahawk``, ``price cap`` (one
phrase), ``sanctions -iran`` (sanctions, unless Iran is mentioned), ``"price cap" oil`` (both
terms). Every term is matched as whole words, ignoring case, with any run of whitespace standing
for a space. The stored form of a watch (``normalize_keyword``) is canonical: a single phrase is
stored bare, so watches saved before operators existed keep their meaning; an expression quotes
its multi-word terms and puts "-" before the terms that veto it.

All terms of all watches are compiled into one matcher (one trie-shaped regex), and a watch is
evaluated from the set of terms found, looking only at watches whose first term was found; so
the cost of checking an article grows with the article's length and the watches it really
concerns, not with the number of watches or what users type.

Exceptions::

    KeywordError    what the user typed cannot be a watch; str(error) is a message for the user
"""

from __future__ import annotations

import logging
import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

from storage.records import PendingAlert

logger = logging.getLogger(__name__)

MAX_KEYWORD_CHARS = 64
# A whole watch must fit the subscription's value column (String(128)).
MAX_WATCH_CHARS = 128
MAX_WATCH_TERMS = 6
_QUOTES = "\"'`“”„‘’«»"
# Quotes that group a term inside an expression; apostrophes stay letters ("Russia's").
_EXPRESSION_QUOTES = '"“”«»„'
_OPERATORS = "-+"
_TRIE_END = ""
_SPACE = " "

_Trie: TypeAlias = dict[str, "_Trie"]

# Words nearly every story has: alone, as a watch or a "+" term, they would flood the chat.
# As part of a phrase ("the hague") or after "-" they are fine.
_COMMON_WORDS = """
    a an the and or but nor if then than so as of in on at to for from by with without
    about into onto over under up down out off via per upon after before since until
    while during against between among through across near also just only very not no yes
    is are was were be been being am do does did done has have had having will would can
    could shall should may might must it its it's this that these those there here
    i me my mine we us our ours you your yours he him his she her hers they them their
    theirs who whom whose what which when where why how all any some each every more most
    other such own same too again now new said says say one two
    і й та в у на з із зі до від для по про за під над не ні що як це але або чи він
    вона воно вони ми ви я його її їх так же ж б би вже ще є був була було були буде
    коли де тут там який яка яке які цей ця це ці той те ті весь вся все всі усі також
    бо щоб лише тільки о об при через між після перед без
    и во с со к ко от под ни это но или ли оно ее её бы уже еще ещё есть был
    будет где который которая которое которые этот эта эти тот та те всё а из
    между после только да нет
"""
COMMON_WORDS = frozenset(_COMMON_WORDS.split())
# Markup users paste by mistake: never in an article's plain text, so never a useful watch.
_HTML_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);")


class KeywordError(ValueError):
    """Text that cannot be a keyword watch; the message is fit to show the user.

    `template` and `values` rebuild it in the chat's language: the catalogue holds the
    template (bot.i18n.data), so `gettext(template).format(**values)`."""

    def __init__(self, template: str, **values: int) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values


@dataclass(frozen=True, slots=True)
class Watch:
    """A parsed watch: every ``required`` term must occur, no ``vetoed`` term may."""

    required: tuple[str, ...]
    vetoed: tuple[str, ...] = ()


def normalize_keyword(text: str) -> str:
    """The canonical form of a watch (see the module docstring), or KeywordError."""
    return render_watch(parse_watch(text))


def parse_watch(text: str) -> Watch:
    """Read a typed or stored watch; terms are normalised, duplicates dropped."""
    text = unicodedata.normalize("NFC", text).strip()
    phrase = _unquoted(text)
    # Outer quotes wrap a phrase ('"price cap"'), unless stripping them leaves quotes inside:
    # then they belong to the terms of an expression ('"price cap" oil').
    inner_quotes = any(ch in _EXPRESSION_QUOTES for ch in phrase)
    tokens = _expression_tokens(text if inner_quotes else phrase)
    if tokens is not None and len(tokens) == 1 and not _is_operator_word(tokens[0]):
        tokens = None
    if tokens is None:
        return Watch((_normalize_term(phrase),))
    required: list[str] = []
    vetoed: list[str] = []
    for token in tokens:
        target = vetoed if token.startswith("-") else required
        body = token[1:] if token[0] in _OPERATORS and len(token) > 1 else token
        term = _normalize_term(body)
        if term not in required and term not in vetoed:
            target.append(term)
    if not required:
        raise KeywordError(
            'A watch needs a word to look for: "-" words only exclude, '
            "e.g. /subscribe sanctions -iran."
        )
    if len(required) + len(vetoed) > MAX_WATCH_TERMS:
        raise KeywordError(
            "A watch can have at most {count} words or phrases.", count=MAX_WATCH_TERMS
        )
    watch = Watch(tuple(required), tuple(vetoed))
    if len(render_watch(watch)) > MAX_WATCH_CHARS:
        raise KeywordError(
            "That watch is too long: keep it to {count} characters.", count=MAX_WATCH_CHARS
        )
    return watch


def render_watch(watch: Watch) -> str:
    """The stored text of a watch: a single phrase bare, an expression with quotes and "-"."""
    if len(watch.required) == 1 and not watch.vetoed:
        return watch.required[0]
    parts = [_quoted(term) for term in watch.required]
    parts.extend("-" + _quoted(term) for term in watch.vetoed)
    if not watch.vetoed and not any(" " in term for term in watch.required):
        # Without a quote or a "-", "sanctions oil" would read back as one phrase.
        parts[1:] = ["+" + part for part in parts[1:]]
    return " ".join(parts)


def too_vague(term: str) -> bool:
    """Whether ``term`` (normalised) is too short or too common to watch on its own."""
    return " " not in term and (len(term) == 1 or term in COMMON_WORDS)


def looks_like_html(term: str) -> bool:
    """Whether ``term`` (normalised) has an HTML tag's brackets or an entity like "&amp;"."""
    return "<" in term or ">" in term or _HTML_ENTITY.search(term) is not None


def _quoted(term: str) -> str:
    return f'"{term}"' if " " in term else term


def _unquoted(phrase: str) -> str:
    unquoted = phrase.strip().strip(_QUOTES)
    while unquoted != phrase:
        phrase, unquoted = unquoted, unquoted.strip().strip(_QUOTES)
    return phrase


def _is_operator_word(word: str) -> bool:
    return len(word) > 1 and word[0] in _OPERATORS and (word[1].isalnum() or word[1] in _QUOTES)


def _expression_tokens(text: str) -> list[str] | None:
    """The terms of an expression, or None when ``text`` is one plain phrase."""
    if not any(ch in _EXPRESSION_QUOTES for ch in text) and not any(
        _is_operator_word(word) for word in text.split()
    ):
        return None
    # Typographic quotes open and close differently; shlex wants one character for both.
    text = text.translate({ord(ch): '"' for ch in _EXPRESSION_QUOTES})
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.commenters = ""
    lexer.escape = ""
    try:
        tokens = [token for token in lexer if token.strip()]
    except ValueError:
        return None  # unbalanced quotes: read as one phrase, as before operators existed
    return tokens or None


def _normalize_term(text: str) -> str:
    phrase = " ".join(_unquoted(text).casefold().split())
    if not phrase:
        raise KeywordError("Please give a word or phrase to watch, e.g. /subscribe Tomahawk.")
    if len(phrase) > MAX_KEYWORD_CHARS:
        raise KeywordError(
            "That is too long for a keyword: keep it to {count} characters.",
            count=MAX_KEYWORD_CHARS,
        )
    if not any(ch.isalnum() for ch in phrase):
        raise KeywordError("A keyword needs at least one letter or digit.")
    return phrase


class KeywordMatcher:
    """Finds which of many watches an article satisfies, in one pass over its text."""

    def __init__(self, watches: Iterable[str]) -> None:
        parsed: dict[str, Watch] = {}
        for text in watches:
            try:
                watch = parse_watch(text)
            except KeywordError:
                # A stored watch that no longer normalises must not break everyone's matching.
                logger.warning("Ignoring invalid keyword watch %r", text)
                continue
            parsed[render_watch(watch)] = watch
        self.phrases: frozenset[str] = frozenset(parsed)
        terms = frozenset(term for w in parsed.values() for term in (*w.required, *w.vetoed))
        # A watch is looked at only when its first required term is found.
        self._by_first_term: dict[str, list[tuple[str, Watch]]] = {}
        for name, watch in parsed.items():
            self._by_first_term.setdefault(watch.required[0], []).append((name, watch))
        # Where a longer term is found, the shorter terms it starts with are found too
        # ("price cap" implies "price"); the regex reports only the longest at each position.
        self._implied = {term: _shorter_watches(term, terms) for term in terms}
        self._pattern = _compile(terms) if terms else None

    def terms_in(self, text: str) -> frozenset[str]:
        """The watched terms (in normalised form) that occur in ``text`` as whole words."""
        if self._pattern is None:
            return frozenset()
        haystack = unicodedata.normalize("NFC", text).casefold()
        found: set[str] = set()
        for match in self._pattern.finditer(haystack):
            term = " ".join(match.group("phrase").split())
            if term in self._implied:
                found.add(term)
                found.update(self._implied[term])
        return frozenset(found)

    def matches(self, text: str) -> frozenset[str]:
        """The watches (in stored form) that ``text`` satisfies."""
        found = self.terms_in(text)
        return frozenset(
            name
            for term in found
            for name, watch in self._by_first_term.get(term, ())
            if all(t in found for t in watch.required) and not any(t in found for t in watch.vetoed)
        )


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


def with_matched_watches(alert: PendingAlert) -> PendingAlert:
    """The alert with only those of the chat's watches (`PendingAlert.watches`) that its story
    satisfies, named on the story (`Story.watched`), so the alert can say which watch brought
    it and offer to stop that one rather than mute a topic the chat never followed."""
    if not alert.watches:
        return alert
    story = alert.story
    found = KeywordMatcher(value for _id, value in alert.watches).matches(
        "\n".join((story.title, story.summary, *story.categories))
    )
    matched = []
    for sub_id, value in alert.watches:
        try:
            name = render_watch(parse_watch(value))
        except KeywordError:
            continue
        if name in found:
            matched.append((sub_id, value))
    return replace(
        alert,
        watches=tuple(matched),
        story=replace(story, watched=tuple(value for _id, value in matched)),
    )
