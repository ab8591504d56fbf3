"""Turning a feed item's description or content into clean text and a short summary for an alert.

Feeds deliver anything from one plain sentence to a whole article in HTML, wrapped in captions,
photo credits, "Source:" lines, related-link lists and donation appeals. ``html_to_text`` reduces
markup to text; ``make_summary`` picks the first one to three sentences that are the story itself.
Only the standard library is used (``html.parser``, ``html.unescape``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from html.parser import HTMLParser

DEFAULT_SUMMARY_CHARS = 350
MAX_SUMMARY_SENTENCES = 3
ELLIPSIS = "…"

# Elements whose content is never prose of the story.
_DROPPED_ELEMENTS = frozenset(
    {
        "script", "style", "template", "noscript", "head", "title", "figcaption", "iframe",
        "svg", "math", "object", "video", "audio", "button", "form", "select", "textarea",
        "nav", "aside",
    }
)  # fmt: skip
# Elements that end one paragraph and start another.
_BLOCK_ELEMENTS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "table", "tr", "td", "th", "caption", "section", "article",
        "header", "footer", "main", "figure", "hr", "address", "details", "summary",
    }
)  # fmt: skip
_LIST_ITEM = "li"
_LINK = "a"
# Escaped markup is unescaped and parsed again at most this many times ("&amp;lt;p&amp;gt;").
_MAX_MARKUP_DEPTH = 3

_TAG_RE = re.compile(r"<[A-Za-z/!?][^<>]*>")
_BAD_MARKED_SECTION_RE = re.compile(r"<!\[(?![A-Za-z])")
# Soft hyphens, zero-width characters and control characters that are not whitespace.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0e-\x1b\x7f]")
_WORD_RE = re.compile(r"\w+")

# Whole paragraphs that are furniture, not story.
_BOILERPLATE_BLOCK_RE = re.compile(
    r"""^(?:
        (?:source|sources|quote|quote\s+from\b[^:]{0,80}|photo|photos|image|images|video
          |illustration|credit|credits|read\s+more|read\s+also|also\s+read|see\s+also
          |advertisement|sponsored|share|share\s+this)\s*:
      | (?:continue\s+reading|read\s+more|read\s+the\s+full\s+(?:story|article)|click\s+here
          |show\s+more|news\s+feed|advertisement|share\s+this|follow\s+us)\b
      | this\s+(?:news|story|article|report)\s+(?:has\s+been|was|is\s+being)\s+updated\b
      | \d+\s+min(?:ute)?s?\s+read\.?$
      | the\s+post\s.+\sappeared\s+first\s+on\s
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Donation and subscription appeals, wherever they sit in a paragraph.
_APPEAL_RE = re.compile(
    r"\bpatreon\b|\bbecome\s+a\s+(?:patron|member|subscriber)\b"
    r"|\bsupport\s+(?:us|our\s+(?:journalism|reporting|work)|independent\s+journalism)\b"
    r"|\b(?:back|support)\s+our\s+journalism\b|\bsubscribe\s+(?:now|today|to\s+our)\b",
    re.IGNORECASE,
)
# A paragraph that ends the story: what follows is background or related reading.
_END_OF_STORY_RE = re.compile(
    r"^(?:background|previously|related|read\s+also|more\s+on\s+this(?:\s+story)?|see\s+also)"
    r"\s*:?$",
    re.IGNORECASE,
)
# Labels that head a paragraph of story text in some wires ("Details: …").
_LABEL_RE = re.compile(
    r"^(?:details|summary|context|editorial|analysis|exclusive|opinion|comment|explainer"
    r"|breaking(?:\s+news)?)\s*:\s*",
    re.IGNORECASE,
)
_NAME = r"[A-Z][\w.'’-]*"
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{0,3}}"
_BYLINE_BLOCK_RE = re.compile(
    rf"^By\s+{_NAMES}(?:\s*(?:,|and|&)\s*{_NAMES})*(?:\s*[,|–—-]\s*{_NAMES})?\.?$"
)
# As a prefix, a byline needs a first and a last name: "By Monday – …" is a sentence.
_BYLINE_PREFIX_RE = re.compile(rf"^By\s+{_NAME}(?:\s+{_NAME}){{1,3}}\s*[|–—:]\s*")
_TRAILER_RE = re.compile(
    r"\s*(?:The\s+post\s.{1,300}?\sappeared\s+first\s+on\s.{1,120}?\.?"
    r"|(?:Continue\s+reading|Read\s+more|Read\s+the\s+full\s+(?:story|article))"
    r"\s*(?:\.{2,}|…|»|→|>>)?)\s*$",
    re.IGNORECASE,
)
# Photo credits: "(Omar Havana/Getty Images)", "(Photo: Reuters)", "(via Getty Images)".
_AGENCIES = (
    r"Getty\s+Images|Getty|AFP|AP|AP\s+Photo|Reuters|EPA|EPA-EFE|Anadolu(?:\s+Agency)?"
    r"|NurPhoto|Bloomberg|Shutterstock|Alamy|Ukrinform|Global\s+Images\s+Ukraine|SOPA\s+Images"
    r"|LightRocket|Sipa|Xinhua|TASS|Sputnik"
)
_CREDIT_RE = re.compile(
    r"\s*[(\[](?:"
    r"(?:photo|photos|image|picture|illustration|video|credit|footage)s?\s*(?:by\b|:)[^()\[\]]{0,100}"
    rf"|[^()\[\]]{{0,80}}/\s*(?:{_AGENCIES})\b[^()\[\]]{{0,40}}"
    r"|(?:[^()\[\]]{0,80}\s)?via\s+Getty\s+Images"
    r")[)\]]",
    re.IGNORECASE,
)
_PHOTO_LINE_RE = re.compile(r"^(?:photo|image|picture)\s*(?:by\b|:)", re.IGNORECASE)

# Where a sentence may end: . ! ? or …, then closing quotes or brackets, then whitespace and
# (optionally) opening quotes before the next word. split_sentences decides whether it does.
_SENTENCE_END_RE = re.compile(r"(?P<end>[.!?…]+)[\"'”’»)\]]*\s+(?P<next>[\"'“‘«(\[]*\w)")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "sen", "rep", "gov", "gen", "lt", "col", "sgt",
        "capt", "cmdr", "adm", "maj", "pres", "jr", "sr", "inc", "ltd", "co", "corp", "no",
        "nos", "vs", "v", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "approx", "est", "dept", "fig", "vol", "ed", "eds", "rev", "mt", "ft",
        "cf", "al", "gov't",
    }
)  # fmt: skip
# Initials and dotted abbreviations: "F.", "U.S.", "a.m."
_INITIALS_RE = re.compile(r"(?:[^\W\d_]\.)+")
_TERMINAL = ".!?…"
_CLOSERS = "\"'”’»)]"
_TRAILING_JOINERS = " ,;:–—-"
_HEADLINE_SIMILARITY = 0.8
_LABEL_MAX_WORDS = 3


@dataclass(slots=True)
class _Block:
    """One paragraph of text, with what the summary rules need to know about where it came from."""

    pieces: list[str] = field(default_factory=list)
    linked_pieces: list[str] = field(default_factory=list)
    list_item: bool = False
    text: str = ""
    all_link: bool = False


class _BlockParser(HTMLParser):
    """Collects the visible text of an HTML fragment as paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._current = _Block()
        self._dropped: list[str] = []
        self._link_depth = 0
        self._list_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropped or tag in _DROPPED_ELEMENTS:
            if tag in _DROPPED_ELEMENTS:
                self._dropped.append(tag)
            return
        if tag in _BLOCK_ELEMENTS:
            self._break()
            if tag == _LIST_ITEM:
                self._list_depth += 1
        elif tag == _LINK:
            self._link_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A self-closed element (<br/>, <template/>) opens nothing.
        if not self._dropped and tag in _BLOCK_ELEMENTS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if self._dropped:
            if tag in self._dropped:
                # Closing an outer element also closes any inner one left open.
                del self._dropped[self._dropped.index(tag) :]
            return
        if tag in _BLOCK_ELEMENTS:
            self._break()
            if tag == _LIST_ITEM and self._list_depth:
                self._list_depth -= 1
        elif tag == _LINK and self._link_depth:
            self._link_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        self._current.pieces.append(data)
        if self._link_depth:
            self._current.linked_pieces.append(data)

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):
            self.handle_data(data.removeprefix("CDATA["))

    def close(self) -> None:
        super().close()
        self._break()

    def _break(self) -> None:
        block = self._current
        text = _clean("".join(block.pieces))
        if text:
            block.text = text
            linked = "".join("".join(block.linked_pieces).split())
            block.all_link = len(linked) >= len("".join(text.split()))
            block.list_item = self._list_depth > 0
            self.blocks.append(block)
        self._current = _Block()


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment (or plain text) on one line, entities decoded.

    Scripts, styles, templates and figure captions are dropped; paragraph breaks become single
    spaces. Entities are decoded twice, because feeds often escape them twice (``&amp;#39;``).
    """
    return _without_tags(" ".join(block.text for block in _blocks(fragment)))


def make_summary(
    html_or_text: str, *, title: str = "", max_chars: int = DEFAULT_SUMMARY_CHARS
) -> str:
    """One to three whole sentences of the story, at most ``max_chars`` characters.

    Boilerplate (credits, "Source:" lines, "Continue reading…", appeals, bylines, related
    links) is dropped, and so is a lead sentence that only repeats ``title``. When even the first
    sentence is too long it is cut at a word boundary and ends with "…". Empty input gives "".
    """
    if max_chars < len(ELLIPSIS) + 1:
        raise ValueError(f"max_chars must be at least {len(ELLIPSIS) + 1}, not {max_chars}")
    sentences = [
        sentence
        for paragraph in _story_paragraphs(_blocks(html_or_text))
        for sentence in split_sentences(paragraph)
    ]
    while sentences and title and _repeats(sentences[0], title):
        del sentences[0]
    chosen: list[str] = []
    length = 0
    for sentence in sentences:
        if sentence.endswith(":"):
            continue
        added = len(sentence) + (1 if chosen else 0)
        if length + added > max_chars:
            break
        chosen.append(sentence)
        length += added
        if len(chosen) == MAX_SUMMARY_SENTENCES:
            break
    if not chosen:
        return _without_tags(_cut(sentences[0], max_chars)) if sentences else ""
    summary = " ".join(chosen)
    # Joining paragraphs that each end in a stray "<" or ">" can look like a tag again.
    return _without_tags(summary)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, not broken after abbreviations ("U.S.", "Nov. 4", "Mr.")."""
    sentences = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        following = match.group("next")[-1]
        if not (following.isupper() or following.isdigit()):
            continue
        if match.group("end") == "." and _is_abbreviation(text[start : match.end("end")]):
            continue
        sentences.append(text[start : match.start("next")].strip())
        start = match.start("next")
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return [sentence for sentence in sentences if sentence]


def _blocks(fragment: str, depth: int = 0) -> list[_Block]:
    if not fragment or fragment.isspace():
        return []
    if not _TAG_RE.search(fragment):
        # Plain text: every line is a paragraph. Escaped markup is parsed as markup.
        text = html.unescape(fragment)
        if depth < _MAX_MARKUP_DEPTH and _TAG_RE.search(text):
            return _blocks(text, depth + 1)
        return [_Block(text=paragraph) for paragraph in _plain_paragraphs(text)]
    blocks = []
    for block in _parse_html(fragment):
        if _TAG_RE.search(block.text):
            if depth < _MAX_MARKUP_DEPTH:
                blocks.extend(_blocks(block.text, depth + 1))
                continue
            block.text = _without_tags(block.text)
        if block.text:
            blocks.append(block)
    return blocks


def _parse_html(fragment: str) -> list[_Block]:
    # html.parser raises AssertionError on some malformed "<![" declarations instead of
    # treating them as text; escape the one common shape and fall back to stripping for the rest.
    fragment = _BAD_MARKED_SECTION_RE.sub("&lt;![", fragment)
    parser = _BlockParser()
    try:
        parser.feed(fragment)
        parser.close()
    except AssertionError:
        return [_Block(text=_clean(_without_tags(fragment)))]
    return parser.blocks


def _plain_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: one per line, except that a hard-wrapped sentence is rejoined."""
    paragraphs: list[str] = []
    continues = False
    for line in map(_clean, text.splitlines()):
        if line and continues and line[0].islower():
            paragraphs[-1] += " " + line
        elif line:
            paragraphs.append(line)
        continues = bool(line) and line.rstrip(_CLOSERS)[-1:] not in _TERMINAL
    return paragraphs


def _without_tags(text: str) -> str:
    """``text`` with anything that looks like a tag removed, even if removing one makes another."""
    while _TAG_RE.search(text):
        text = _TAG_RE.sub(" ", text)
    return " ".join(text.split())


def _clean(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    return " ".join(_INVISIBLE_RE.sub("", text).split())


def _story_paragraphs(blocks: list[_Block]) -> list[str]:
    """The paragraphs that are the story, cleaned of credits, labels and trailers."""
    paragraphs: list[str] = []
    for block in blocks:
        if _END_OF_STORY_RE.match(block.text):
            break
        if block.all_link or block.list_item or _is_boilerplate(block.text):
            continue
        if len(blocks) > 1 and _is_caption(block.text):
            continue
        text = _CREDIT_RE.sub("", _TRAILER_RE.sub("", block.text))
        text = _LABEL_RE.sub("", _BYLINE_PREFIX_RE.sub("", text))
        # Removing a credit must not glue the halves of a tag-like text into a tag.
        text = _without_tags(text)
        if text and (not paragraphs or text != paragraphs[-1]):
            paragraphs.append(text)
    if len(paragraphs) > 1:
        paragraphs = [text for text in paragraphs if not _is_label(text)]
    return [_terminated(text) for text in paragraphs]


def _is_boilerplate(text: str) -> bool:
    return bool(
        _BOILERPLATE_BLOCK_RE.match(text)
        or _APPEAL_RE.search(text)
        or _BYLINE_BLOCK_RE.match(text)
        or _PHOTO_LINE_RE.match(text)
    )


def _is_caption(text: str) -> bool:
    """Whether a paragraph is a photo caption: one that ends with the photographer's credit."""
    credits = list(_CREDIT_RE.finditer(text))
    return bool(credits) and credits[-1].end() == len(text.rstrip())


def _is_label(text: str) -> bool:
    """A short line without a sentence in it: a section name ("Europe"), a button ("Show more")."""
    return len(text.split()) <= _LABEL_MAX_WORDS and not text.rstrip(_CLOSERS).endswith(
        tuple(_TERMINAL)
    )


def _terminated(text: str) -> str:
    """A paragraph ending like a sentence, so that it reads as one when joined to the next."""
    if text.rstrip(_CLOSERS)[-1:] in _TERMINAL or text.endswith(":"):
        return text
    return text.rstrip(_TRAILING_JOINERS) + "."


def _is_abbreviation(sentence: str) -> bool:
    """Whether the word before a full stop ending ``sentence`` is an abbreviation or initial."""
    words = sentence.split()
    if not words:
        return False
    word = words[-1].lstrip("\"'“‘«([")
    return word.removesuffix(".").casefold() in _ABBREVIATIONS or bool(_INITIALS_RE.fullmatch(word))


def _repeats(sentence: str, title: str) -> bool:
    """Whether ``sentence`` says no more than the headline does."""
    words = _WORD_RE.findall(sentence.casefold())
    headline = _WORD_RE.findall(title.casefold())
    if not words or not headline:
        return False
    if set(words) <= set(headline):
        return True
    return SequenceMatcher(None, words, headline).ratio() >= _HEADLINE_SIMILARITY


def _cut(text: str, max_chars: int) -> str:
    """``text`` shortened to ``max_chars`` at a word boundary, ending in "…"."""
    if len(text) <= max_chars:
        return text
    limit = max_chars - len(ELLIPSIS)
    cut = text.rfind(" ", 0, limit + 1)
    head = text[: cut if cut > 0 else limit].rstrip(_TRAILING_JOINERS)
    return head + ELLIPSIS
