"""Telegram's message-text rules: a port of tdlib's ``parse_html`` and text clean-up.

The Bot API server hands ``parse_mode=HTML`` text to tdlib, whose
``td/telegram/MessageEntity.cpp`` decides what is valid.  This module ports the
parts a bot can trip over, so the emulator rejects exactly what Telegram rejects
and counts length exactly as Telegram counts it:

- ``parse_html``: the tag/attribute/entity scanner, byte for byte, with its
  error messages and UTF-8 byte offsets.  Only a bare ``<`` is fatal in
  practice; a stray ``&`` or ``>`` is text; only ``&lt; &gt; &amp; &quot;`` and
  numeric references are decoded.
- ``format_text``: ``parse_html`` (or caller-supplied entities) followed by the
  clean-up of ``fix_formatted_text``: control characters become spaces, ``\\r``
  and a few invisible characters are dropped, trailing whitespace is cut, and
  leading spaces/newlines are cut up to the first entity.  Telegram measures the
  4096-character limit on this result.

Not ported (documented so nobody relies on it): ``fix_entities``' repair of
invalid nesting (entities come back as parsed), automatic detection of URLs,
mentions and hashtags in plain text, and the full URL grammar of
``LinkManager::check_link`` (a simplified check drops the same common junk:
other schemes, spaces, hosts without a dot).  ``<tg-time>`` is accepted; an
entity is produced only when ``unix`` is an integer, and no error for a bad one
is raised because the real wording is not known here.

Offsets in the returned entities are UTF-16 code units, as the Bot API reports them.

Exceptions::

    ValueError
     └── HtmlParseError   tdlib's message, e.g. 'Unclosed start tag at byte offset 12';
                          the server prefixes it with "Bad Request: can't parse entities: "
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

_LT = ord("<")
_GT = ord(">")
_AMP = ord("&")
_SLASH = ord("/")
_EQUALS = ord("=")
_SEMICOLON = ord(";")
_SINGLE_QUOTE = ord("'")
_DOUBLE_QUOTE = ord('"')
_HASH = ord("#")
_SMALL_X = ord("x")

# td/utils/misc.h is_space: note that NUL counts, which is how the C scanner stops at the end.
_SPACES = frozenset(b" \t\r\n\0\v\f")
_ATTRIBUTE_NAME_STOP = frozenset(b"=>/\"'")
_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_SUPPORTED_TAGS = frozenset(
    {b"a", b"b", b"strong", b"i", b"em", b"s", b"strike", b"del", b"u", b"ins", b"span"}
    | {b"tg-spoiler", b"tg-emoji", b"tg-time", b"pre", b"code", b"blockquote"}
)
_SIMPLE_TAG_KINDS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# MessageEntity::get_type_priority; "pre_code" is tdlib's PreCode, reported as "pre" + language.
_PRIORITY = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "pre_code": 10,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
    "expandable_blockquote": 0,
    "date_time": 49,
}
# Characters fix_formatted_text deletes: U+2028..U+202E and three combining marks.
_DROPPED_CHARACTERS = frozenset(
    [chr(code) for code in range(0x2028, 0x202F)] + ["\u0333", "\u033f", "\u030a"]
)
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``message`` is tdlib's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MessageEntity:
    """One Bot API ``MessageEntity``; offsets and lengths are UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user_id: int | None = None
    unix_time: int | None = None
    date_time_format: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The JSON object the Bot API puts in ``Message.entities``."""
        result: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            result["url"] = self.url
        if self.language is not None:
            result["language"] = self.language
        if self.custom_emoji_id is not None:
            result["custom_emoji_id"] = self.custom_emoji_id
        if self.user_id is not None:
            result["user"] = {"id": self.user_id, "is_bot": False, "first_name": "User"}
        if self.unix_time is not None:
            result["unix_time"] = self.unix_time
        if self.date_time_format is not None:
            result["date_time_format"] = self.date_time_format
        return result


@dataclass(frozen=True)
class FormattedText:
    """Text as Telegram stores it: the plain text plus its entities."""

    text: str
    entities: tuple[MessageEntity, ...] = ()


class _Span(NamedTuple):
    """An entity while parsing: offsets in code points, tdlib's kind, one argument."""

    kind: str
    offset: int
    length: int
    argument: str = ""
    extra: str = ""


@dataclass
class _OpenTag:
    name: str
    argument: str
    extra: str
    offset: int


def parse_html(text: str) -> FormattedText:
    """Parse ``text`` exactly as tdlib's ``parse_html`` does, without any clean-up."""
    plain, spans = _parse_html(text)
    return _to_formatted(plain, spans)


def format_text(
    text: str,
    parse_mode: str | None = None,
    entities: Sequence[Mapping[str, Any]] | None = None,
) -> FormattedText:
    """Turn a sendMessage ``text`` into what Telegram stores and counts.

    ``parse_mode`` is matched case-insensitively; only ``HTML`` is parsed.
    ``Markdown``/``MarkdownV2`` text is kept verbatim (markup characters
    included) because the emulator does not port the Markdown parsers.
    Without a parse mode, ``entities`` (Bot API dicts, UTF-16 offsets) are used.
    The result may have empty text; deciding that this is an error is the caller's job.
    """
    if parse_mode is not None and parse_mode.lower() == "html":
        plain, spans = _parse_html(text)
    elif parse_mode:
        plain, spans = text, []
    else:
        plain, spans = text, _spans_from_api(text, entities or ())
    cleaned, cleaned_spans = _clean_and_trim(plain, spans)
    return _to_formatted(cleaned, cleaned_spans)


def _is_space(byte: int) -> bool:
    return byte in _SPACES


def _is_alnum(byte: int) -> bool:
    return 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122


def _is_alpha(byte: int) -> bool:
    return 65 <= byte <= 90 or 97 <= byte <= 122


def _hex_value(byte: int) -> int | None:
    if 48 <= byte <= 57:
        return byte - 48
    if 65 <= byte <= 70:
        return byte - 55
    if 97 <= byte <= 102:
        return byte - 87
    return None


class _Scanner:
    """The input as a NUL-terminated byte string, which is how tdlib reads it."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8", "surrogatepass")

    def at(self, index: int) -> int:
        return self.data[index] if index < len(self.data) else 0

    def decode_entity(self, pos: int) -> tuple[int, int]:
        """tdlib's ``decode_html_entity``: (code point, position after it), or (0, pos)."""
        end = pos + 1
        code = 0
        if self.at(pos + 1) == _HASH:
            end += 1
            if self.at(pos + 2) == _SMALL_X:
                end += 1
                while (digit := _hex_value(self.at(end))) is not None:
                    if end - pos >= 10:
                        return 0, pos
                    code = code * 16 + digit
                    end += 1
            else:
                while 48 <= self.at(end) <= 57:
                    if end - pos >= 10:
                        return 0, pos
                    code = code * 10 + self.at(end) - 48
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return 0, pos
        else:
            while _is_alpha(self.at(end)):
                end += 1
            named = _NAMED_ENTITIES.get(self.data[pos + 1 : end])
            if named is None:
                return 0, pos
            code = ord(named)
        if self.at(end) == _SEMICOLON:
            end += 1
        return code, end

    def skip_spaces(self, index: int) -> int:
        while self.at(index) != 0 and _is_space(self.at(index)):
            index += 1
        return index


def _parse_html(text: str) -> tuple[str, list[_Span]]:
    scanner = _Scanner(text)
    data = scanner.data
    out: list[str] = []
    spans: list[_Span] = []
    stack: list[_OpenTag] = []
    saw_surrogate = False
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == _AMP:
            code, end = scanner.decode_entity(i)
            if code:
                saw_surrogate = saw_surrogate or 0xD800 <= code <= 0xDFFF
                out.append(chr(code))
                i = end
                continue
        if byte != _LT:
            end = i + 1
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
            out.append(data[i:end].decode("utf-8", "surrogatepass"))
            i = end
            continue
        if scanner.at(i + 1) != _SLASH:
            tag, i = _parse_start_tag(scanner, i, len(out))
            stack.append(tag)
        else:
            i = _parse_end_tag(scanner, i, stack, out, spans)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    spans = [span._replace(argument="") if span.kind == "code" else span for span in spans]
    _sort_spans(spans)
    if saw_surrogate:
        raise HtmlParseError(_SURROGATE_ERROR)
    return "".join(out), spans


def _parse_start_tag(scanner: _Scanner, begin: int, offset: int) -> tuple[_OpenTag, int]:
    """Scan ``<name attr=value ...>`` at ``begin``; return the tag and the index after it."""
    at = scanner.at
    i = begin + 1
    while not _is_space(at(i)) and at(i) != _GT:
        i += 1
    if at(i) == 0:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
    raw_name = scanner.data[begin + 1 : i].lower()
    name = raw_name.decode("utf-8", "replace")
    if raw_name not in _SUPPORTED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {begin}')

    argument = ""
    extra = ""
    while at(i) != _GT:
        i = scanner.skip_spaces(i)
        if at(i) == _GT:
            break
        attribute_begin = i
        while not _is_space(at(i)) and at(i) not in _ATTRIBUTE_NAME_STOP:
            i += 1
        attribute = scanner.data[attribute_begin:i]
        if not attribute:
            raise HtmlParseError(f'Empty attribute name in the tag "{name}" at byte offset {begin}')
        i = scanner.skip_spaces(i)
        if at(i) != _EQUALS:
            if at(i) == 0:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
            if name == "blockquote" and attribute == b"expandable":
                argument = "1"
            continue
        i = scanner.skip_spaces(i + 1)
        if at(i) == 0:
            raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
        value, i = _parse_attribute_value(scanner, i)
        if at(i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        argument, extra = _apply_attribute(name, attribute, value, argument, extra)

    if name == "span" and argument != "spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return _OpenTag(name, argument, extra, offset), i + 1


def _parse_attribute_value(scanner: _Scanner, i: int) -> tuple[str, int]:
    """A bare name token (lower-cased) or a quoted string with entities decoded."""
    at = scanner.at
    if at(i) not in (_SINGLE_QUOTE, _DOUBLE_QUOTE):
        token_begin = i
        while _is_alnum(at(i)) or at(i) in b".-":
            i += 1
        if not _is_space(at(i)) and at(i) != _GT:
            raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
        return scanner.data[token_begin:i].lower().decode("ascii"), i
    quote = at(i)
    i += 1
    value = bytearray()
    while at(i) != quote and at(i) != 0:
        if at(i) == _AMP:
            code, end = scanner.decode_entity(i)
            if code:
                value += chr(code).encode("utf-8", "surrogatepass")
                i = end
                continue
        value.append(at(i))
        i += 1
    if at(i) == quote:
        i += 1
    return value.decode("utf-8", "surrogatepass"), i


def _apply_attribute(
    tag: str, attribute: bytes, value: str, argument: str, extra: str
) -> tuple[str, str]:
    """Keep the one attribute each tag cares about; tdlib ignores all others."""
    if tag == "a" and attribute == b"href":
        return value, extra
    if tag == "code" and attribute == b"class" and value.startswith("language-"):
        return value[len("language-") :], extra
    if tag == "span" and attribute == b"class" and value.startswith("tg-"):
        return value[len("tg-") :], extra
    if tag == "tg-emoji" and attribute == b"emoji-id":
        return value, extra
    if tag == "blockquote" and attribute == b"expandable":
        return "1", extra
    if tag == "tg-time" and attribute == b"unix":
        return value, extra
    if tag == "tg-time" and attribute == b"format":
        return argument, value
    return argument, extra


def _parse_end_tag(
    scanner: _Scanner, begin: int, stack: list[_OpenTag], out: list[str], spans: list[_Span]
) -> int:
    """Scan ``</name>`` at ``begin``, close the innermost tag, return the index after it."""
    at = scanner.at
    if not stack:
        raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
    i = begin + 1
    while not _is_space(at(i)) and at(i) != _GT:
        i += 1
    end_name = scanner.data[begin + 2 : i].lower().decode("utf-8", "replace")
    while _is_space(at(i)) and at(i) != 0:
        i += 1
    if at(i) != _GT:
        raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
    tag = stack[-1]
    if end_name and end_name != tag.name:
        raise HtmlParseError(
            f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
            f'found "</{end_name}>"'
        )
    if len(out) > tag.offset:
        _close_entity(tag, len(out) - tag.offset, out, spans)
    stack.pop()
    return i + 1


def _close_entity(tag: _OpenTag, length: int, out: list[str], spans: list[_Span]) -> None:
    offset = tag.offset
    simple = _SIMPLE_TAG_KINDS.get(tag.name)
    if simple is not None:
        spans.append(_Span(simple, offset, length))
    elif tag.name == "tg-emoji":
        emoji_id = _strict_int64(tag.argument)
        if not emoji_id:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        spans.append(_Span("custom_emoji", offset, length, str(emoji_id)))
    elif tag.name == "tg-time":
        if _strict_int64(tag.argument) is not None:
            spans.append(_Span("date_time", offset, length, tag.argument, tag.extra))
    elif tag.name == "a":
        url = tag.argument or "".join(out[offset:])
        user_id = _link_user_id(url)
        if user_id is not None:
            spans.append(_Span("text_mention", offset, length, str(user_id)))
        else:
            checked = _checked_link(url)
            if checked:
                spans.append(_Span("text_link", offset, length, checked))
    elif tag.name == "pre":
        last = spans[-1] if spans else None
        if last and last.kind == "code" and last[1:3] == (offset, length) and last.argument:
            spans[-1] = last._replace(kind="pre_code")
        else:
            spans.append(_Span("pre", offset, length))
    elif tag.name == "code":
        last = spans[-1] if spans else None
        if last and last.kind == "pre" and last[1:3] == (offset, length) and tag.argument:
            spans[-1] = last._replace(kind="pre_code", argument=tag.argument)
        else:
            spans.append(_Span("code", offset, length, tag.argument))
    elif tag.name == "blockquote":
        spans.append(
            _Span("expandable_blockquote" if tag.argument else "blockquote", offset, length)
        )


def _strict_int64(value: str) -> int | None:
    """tdlib's ``to_integer_safe<int64>``: the decimal must round-trip exactly."""
    try:
        number = int(value)
    except ValueError:
        return None
    if str(number) != value or not _INT64_MIN <= number <= _INT64_MAX:
        return None
    return number


def _link_user_id(url: str) -> int | None:
    """``LinkManager::get_link_user_id``: the user id of a ``tg://user?id=N`` link."""
    link = url.lower()
    if not link.startswith("tg:"):
        return None
    link = link[3:]
    link = link.removeprefix("//")
    if not link.startswith("user"):
        return None
    link = link[4:].removeprefix("/")
    if not link.startswith("?"):
        return None
    query = link[1:].split("#", 1)[0]
    for parameter in query.split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            user_id = _strict_int64(value)
            return user_id if user_id is not None and user_id > 0 else None
    return None


def _checked_link(url: str) -> str:
    """A simplified ``LinkManager::get_checked_link``: the normalised URL, or "" to drop it."""
    lowered = url.lower()
    for scheme in ("tg:", "ton:", "tonsite:"):
        if lowered.startswith(scheme):
            rest = url[len(scheme) :].removeprefix("//")
            host, sep, query = _split_host(rest)
            allowed_dot = scheme == "tonsite:"
            if not host or any(
                not (
                    char.isascii()
                    and (char.isalnum() or char in "-_" or (allowed_dot and char == "."))
                )
                for char in host
            ):
                return ""
            path = f"{sep}{query}" if sep in "/?" and sep else f"/{sep}{query}"
            return f"{scheme[:-1]}://{host}{path}"
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return ""
    protocol = "http"
    rest = url
    scheme_end = url.find("://")
    if scheme_end != -1:
        protocol = url[:scheme_end].lower()
        rest = url[scheme_end + 3 :]
        if protocol not in ("http", "https"):
            return ""
    authority, sep, query = _split_host(rest)
    userinfo, _, host_port = authority.rpartition("@")
    host, _, port = host_port.partition(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        return ""
    if not host or "." not in host:
        return ""
    if any(char.isascii() and not (char.isalnum() or char in "-._~%") for char in host):
        return ""
    path = f"{sep}{query}" if sep == "/" else f"/{sep}{query}"
    credentials = f"{userinfo}@" if userinfo else ""
    port_part = f":{port}" if port else ""
    return f"{protocol}://{credentials}{host.lower()}{port_part}{path}"


def _split_host(rest: str) -> tuple[str, str, str]:
    """Split at the first '/', '?' or '#': (authority, separator, the rest after it)."""
    for index, char in enumerate(rest):
        if char in "/?#":
            return rest[:index], char, rest[index + 1 :]
    return rest, "", ""


def _sort_spans(spans: list[_Span]) -> None:
    """tdlib's ``sort_entities``: by offset, longer first, then by type priority."""
    spans.sort(key=lambda span: (span.offset, -span.length, _PRIORITY[span.kind]))


def _spans_from_api(text: str, entities: Iterable[Mapping[str, Any]]) -> list[_Span]:
    """Caller-supplied Bot API entities, converted to code-point offsets."""
    to_code_points = _utf16_to_code_point_map(text)
    spans: list[_Span] = []
    for entity in entities:
        kind = str(entity.get("type", ""))
        if kind not in _PRIORITY:
            continue
        start_utf16 = int(entity.get("offset", 0))
        end_utf16 = start_utf16 + int(entity.get("length", 0))
        start = to_code_points.get(start_utf16)
        end = to_code_points.get(end_utf16)
        if start is None or end is None or end <= start:
            continue
        argument = ""
        extra = ""
        if kind == "text_link":
            argument = str(entity.get("url", ""))
        elif kind == "pre" and entity.get("language"):
            kind, argument = "pre_code", str(entity["language"])
        elif kind == "custom_emoji":
            argument = str(entity.get("custom_emoji_id", ""))
        elif kind == "text_mention":
            user = entity.get("user")
            argument = str(user.get("id", "")) if isinstance(user, Mapping) else ""
        elif kind == "date_time":
            argument = str(entity.get("unix_time", ""))
            extra = str(entity.get("date_time_format", ""))
        if kind in ("text_mention", "date_time") and _strict_int64(argument) is None:
            continue
        spans.append(_Span(kind, start, end - start, argument, extra))
    _sort_spans(spans)
    return spans


def _utf16_to_code_point_map(text: str) -> dict[int, int]:
    mapping: dict[int, int] = {}
    utf16 = 0
    for index, char in enumerate(text):
        mapping[utf16] = index
        utf16 += 2 if ord(char) > 0xFFFF else 1
    mapping[utf16] = len(text)
    return mapping


def _clean_and_trim(text: str, spans: list[_Span]) -> tuple[str, list[_Span]]:
    """The clean-up half of tdlib's ``fix_formatted_text`` (without ``fix_entities``).

    Control characters except ``\\n`` become spaces, ``\\r`` and a few invisible
    characters are removed, then trailing spaces/newlines are cut and leading
    ones up to the first entity.  Returns empty text when nothing but spaces remains.
    """
    cleaned: list[str] = []
    new_index: list[int] = []
    for char in text:
        new_index.append(len(cleaned))
        if char == "\r" or char in _DROPPED_CHARACTERS:
            continue
        cleaned.append(" " if ord(char) < 32 and char != "\n" else char)
    new_index.append(len(cleaned))

    moved: list[_Span] = []
    for span in spans:
        start = new_index[span.offset]
        end = new_index[span.offset + span.length]
        if end > start:
            moved.append(span._replace(offset=start, length=end - start))

    last = len(cleaned) - 1
    while last >= 0 and cleaned[last] in " \n":
        last -= 1
    if last < 0:
        return "", []
    end = last + 1
    trimmed = [
        span._replace(length=min(span.offset + span.length, end) - span.offset)
        for span in moved
        if span.offset < end
    ]
    _sort_spans(trimmed)

    first_entity = trimmed[0].offset if trimmed else end
    start = 0
    while start < first_entity and cleaned[start] in " \n":
        start += 1
    shifted = [span._replace(offset=span.offset - start) for span in trimmed]
    return "".join(cleaned[start:end]), shifted


def _to_formatted(text: str, spans: Sequence[_Span]) -> FormattedText:
    """Convert code-point spans to Bot API entities with UTF-16 offsets."""
    utf16_before = [0]
    for char in text:
        utf16_before.append(utf16_before[-1] + (2 if ord(char) > 0xFFFF else 1))
    entities = []
    for span in spans:
        offset = utf16_before[span.offset]
        length = utf16_before[span.offset + span.length] - offset
        entities.append(_to_entity(span, offset, length))
    return FormattedText(text, tuple(entities))


def _to_entity(span: _Span, offset: int, length: int) -> MessageEntity:
    if span.kind == "pre_code":
        return MessageEntity("pre", offset, length, language=span.argument)
    if span.kind == "text_link":
        return MessageEntity("text_link", offset, length, url=span.argument)
    if span.kind == "text_mention":
        return MessageEntity("text_mention", offset, length, user_id=int(span.argument))
    if span.kind == "custom_emoji":
        return MessageEntity("custom_emoji", offset, length, custom_emoji_id=span.argument)
    if span.kind == "date_time":
        return MessageEntity(
            "date_time",
            offset,
            length,
            unix_time=int(span.argument),
            date_time_format=span.extra or None,
        )
    return MessageEntity(span.kind, offset, length)
