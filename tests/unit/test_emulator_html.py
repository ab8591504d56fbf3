"""Telegram's HTML rules as the emulator ports them from tdlib.

Most expectations are tdlib's own (``test/message_entities.cpp``, ``parse_html``);
offsets are UTF-16 code units and error offsets UTF-8 bytes, as there.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.emulator.html import FormattedText, HtmlParseError, MessageEntity, format_text, parse_html

FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"
STADIUM = "🏟 🏟"  # 9 UTF-8 bytes, 5 UTF-16 units: tdlib's favourite prefix


def entities(text: str) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in parse_html(text).entities]


def parse_error(text: str) -> str:
    with pytest.raises(HtmlParseError) as excinfo:
        parse_html(text)
    return excinfo.value.message


# valid markup


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_each_simple_tag_makes_its_entity(tag: str, kind: str) -> None:
    parsed = parse_html(f"➡️ ➡️<{tag}>➡️ ➡️</{tag}>")

    assert parsed.text == "➡️ ➡️➡️ ➡️"
    assert entities(f"➡️ ➡️<{tag}>➡️ ➡️</{tag}>") == [(kind, 5, 5)]


def test_tag_names_are_case_insensitive() -> None:
    assert entities("<B>x</b><StRoNg>y</STRONG>") == [("bold", 0, 1), ("bold", 1, 1)]


def test_nesting_is_sorted_like_tdlib() -> None:
    assert entities(f"{STADIUM}<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>") == [
        ("italic", 5, 7),
        ("bold", 9, 3),
    ]
    assert entities("<code><i><b> </b></i></code>") == [
        ("code", 0, 1),
        ("bold", 0, 1),
        ("italic", 0, 1),
    ]


def test_invalid_nesting_is_not_an_error() -> None:
    assert entities("<code><b>x</b></code>") == [("code", 0, 1), ("bold", 0, 1)]
    assert entities('<a href="https://a.example"><a href="https://b.example">x</a></a>') == [
        ("text_link", 0, 1),
        ("text_link", 0, 1),
    ]


def test_named_and_numeric_entities() -> None:
    parsed = parse_html("&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;&#x41;&#66;&#128512;")

    assert parsed.text == '<>&"&laquo;&raquo;&#12345678;AB😀'


def test_entities_without_semicolon_and_unknown_names_stay_literal() -> None:
    assert parse_html(f"{STADIUM}<i>🏟 &lt🏟</i>").text == "🏟 🏟🏟 <🏟"
    assert parse_html("&nbsp;&apos;&ltx;&#;&#x;").text == "&nbsp;&apos;&ltx;&#;&#x;"


def test_stray_ampersand_and_greater_than_pass() -> None:
    assert parse_html("AT&T > 5 & co").text == "AT&T > 5 & co"


def test_empty_tags_make_no_entity() -> None:
    assert parse_html(f"{STADIUM}&lt;<b></b>") == FormattedText("🏟 🏟<")


def test_end_tag_may_omit_its_name_or_carry_spaces() -> None:
    assert entities(f"{STADIUM}&lt;<i>🏟 🏟&lt;</>") == [("italic", 6, 6)]
    assert entities(f"{STADIUM}&lt;<i>a</i   >") == [("italic", 6, 1)]


def test_attribute_values_quoted_bare_and_decoded() -> None:
    link = parse_html("<a   href=  'telegram.org?&lt;'   > </a>").entities[0]
    bare = parse_html("<a href=telegram.org>x</a>").entities[0]
    double = parse_html('<a href  ="https://example.com/?a=1&amp;b=&quot;2&quot;"   >x</a>')

    assert link.url == "http://telegram.org/?<"
    assert bare.url == "http://telegram.org/"
    assert double.entities[0].url == 'https://example.com/?a=1&b="2"'


def test_unknown_attributes_are_ignored() -> None:
    assert entities('<b class="x" data-y=1>x</b>') == [("bold", 0, 1)]


def test_link_without_href_uses_its_text() -> None:
    assert parse_html("<a>telegram.org</a>").entities == (
        MessageEntity("text_link", 0, 12, url="http://telegram.org/"),
    )
    assert parse_html("<a>https://telegram.org/asdsa?asdasdwe#12e3we</a>").entities[0].url == (
        "https://telegram.org/asdsa?asdasdwe#12e3we"
    )


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "ftp://example.com", "not a url", "localhost", ""]
)
def test_invalid_links_are_dropped_but_text_stays(href: str) -> None:
    parsed = parse_html(f'<a href="{href}">text</a>')

    assert parsed == FormattedText("text")


def test_user_links_become_mentions() -> None:
    [mention] = parse_html('<a href="tg://user?id=123456">Ann</a>').entities

    assert (mention.type, mention.user_id) == ("text_mention", 123456)
    assert mention.to_api()["user"]["id"] == 123456


def test_pre_with_language() -> None:
    pre_code = f'{STADIUM}&lt;<pre><code class="language-fift">🏟 🏟&lt;</></>'
    code_pre = f'{STADIUM}&lt;<code class="language-fift"><pre>🏟 🏟&lt;</></>'
    no_language = f'{STADIUM}&lt;<pre><code class="language-">🏟 🏟&lt;</code></>'

    assert parse_html(pre_code).entities == (MessageEntity("pre", 6, 6, language="fift"),)
    assert parse_html(code_pre).entities == (MessageEntity("pre", 6, 6, language="fift"),)
    assert entities(no_language) == [("pre", 6, 6), ("code", 6, 6)]


def test_code_language_outside_pre_is_lost() -> None:
    assert parse_html('<code class="language-python">x</code>').entities == (
        MessageEntity("code", 0, 1),
    )


def test_spoiler_span_expandable_quote_and_custom_emoji() -> None:
    parsed = parse_html(
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )

    assert [e.to_api() for e in parsed.entities] == [
        {"type": "spoiler", "offset": 0, "length": 1},
        {"type": "expandable_blockquote", "offset": 1, "length": 1},
        {
            "type": "custom_emoji",
            "offset": 2,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
    ]


def test_offsets_are_utf16_code_units() -> None:
    assert entities("😀<b>😀</b>é<i>x</i>") == [("bold", 2, 2), ("italic", 5, 1)]


# errors, with tdlib's exact wording and UTF-8 byte offsets


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{STADIUM}&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        (f"{STADIUM}&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("Hello, world<br>", 'Unsupported start tag "br" at byte offset 12'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        (f"{STADIUM}&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("<b />", 'Empty attribute name in the tag "b" at byte offset 0'),
        (f"{STADIUM}&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        (
            f"{STADIUM}&lt;<i    aba  =  190azAz-.,",
            "Unexpected end of name token at byte offset 27",
        ),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        (f'{STADIUM}&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        (f"{STADIUM}&lt;</", "Unexpected end tag at byte offset 13"),
        (f"{STADIUM}&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        (f"{STADIUM}&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            f"{STADIUM}&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        (
            "<b>bold <i>both</b></i>",
            'Unmatched end tag at byte offset 15, expected "</i>", found "</b>"',
        ),
        ("<b>news", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            '<span class="spoiler">x</span>',
            'Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
    ],
)
def test_errors_match_tdlib(text: str, message: str) -> None:
    assert parse_error(text) == message


@pytest.mark.parametrize("text", ["&#57311;", "&#xDFDF;", "&#xDFDF", "&#xD83D;&#xDE00;"])
def test_surrogate_entities_are_rejected(text: str) -> None:
    assert parse_error(text).startswith("Text contains invalid Unicode characters")


def test_cutting_html_mid_tag_fails_as_telegram_does() -> None:
    story = "<b>" + "x" * 10 + "</b> " + "<i>tail</i>"

    assert parse_error(story[:8]) == 'Can\'t find end tag corresponding to start tag "b"'
    assert parse_error(story[:15]) == "Unclosed end tag at byte offset 13"


# format_text: what the server stores and measures


def test_format_text_trims_and_cleans_like_fix_formatted_text() -> None:
    formatted = format_text("  \n<b> hi </b>\r\n\tx\u2028  \n", "HTML")

    assert formatted.text == " hi \n x"
    assert [(e.type, e.offset, e.length) for e in formatted.entities] == [("bold", 0, 4)]


def test_format_text_of_whitespace_only_is_empty() -> None:
    assert format_text(" \n <b> </b> \n", "html") == FormattedText("")


def test_length_is_counted_in_code_points_after_parsing() -> None:
    markup = "<b>" + "&lt;" * 4096 + "</b>"

    formatted = format_text(markup, "HTML")

    assert len(markup) > 4096
    assert len(formatted.text) == 4096


def test_markdown_is_kept_verbatim() -> None:
    assert format_text("*bold* <not html>", "MarkdownV2") == FormattedText("*bold* <not html>")


def test_explicit_entities_are_used_without_parse_mode() -> None:
    formatted = format_text(
        "😀 hello", None, [{"type": "bold", "offset": 3, "length": 5}, {"type": "nope"}]
    )

    assert formatted.entities == (MessageEntity("bold", 3, 5),)


# escaped feed text always parses


@given(st.text())
def test_escaped_text_always_parses_back_to_itself(text: str) -> None:
    assert parse_html(html.escape(text)).text == text


@given(st.text(), st.text(st.characters(exclude_characters="\x00")))
def test_escaped_links_always_parse(label: str, url: str) -> None:
    """Any URL but one holding NUL: tdlib's scanner reads NUL as the end of the text."""
    markup = f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'

    assert parse_html(markup).text == label


def test_nul_in_an_escaped_href_still_fails() -> None:
    """html.escape keeps NUL; a formatter must strip control characters from feed URLs."""
    href = html.escape("https://x.example/\x00", quote=True)

    assert parse_error(f'<a href="{href}">x</a>') == "Unclosed start tag at byte offset 0"


def test_escaped_real_feed_titles_parse() -> None:
    raw = (FEEDS / "guardian-uk-2022-04-05.rss.xml").read_text(encoding="utf-8")
    titles = [part.split("</title>", 1)[0] for part in raw.split("<title>")[1:]]
    assert len(titles) > 10

    for title in titles:
        text = html.escape(html.unescape(title))
        assert parse_html(f"<b>{text}</b>").text == html.unescape(title)
