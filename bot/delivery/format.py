"""Rendering stories as Telegram messages (parse_mode HTML), within Telegram's rules.

Every piece of feed text goes through `html.escape`; URLs are put in `href` only when they are
http(s). The 4096-character limit applies to the text *after* Telegram parses the HTML, so
the plain parts are measured and cut before they are escaped: cutting escaped HTML could split
an entity or leave a tag open.

The few fixed words (digest headings, "…and N more", the fallback source name) are translated
through the chat's `gettext` translations, passed in as `translator`: rendering stays pure and
the catalogue stays in `bot.i18n`. Without one, the words are English.
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from storage.records import Story

MAX_MESSAGE_CHARS = 4096
MAX_TITLE_CHARS = 300
ELLIPSIS = "…"
ENGLISH = gettext.NullTranslations()


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    text: str
    parse_mode: str | None  # "HTML", or None for the plain-text fallback


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a word boundary, marking the cut."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """The URL if Telegram can link it: http(s), and no control characters or spaces.

    A NUL inside `href` makes Telegram reject the whole message, and `html.escape` keeps it.
    """
    if not url or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return url


def _topic_line(story: Story, topic_names: Mapping[str, str]) -> str:
    names = [topic_names[slug] for slug in sorted(story.topics) if slug in topic_names]
    return " · ".join(names)


def _when(published_at: datetime, t: gettext.NullTranslations) -> str:
    # Month names from strftime follow the process locale, not the chat: numbers for "uk".
    return published_at.strftime(t.gettext("%d %b %Y, %H:%M UTC"))


def _more(t: gettext.NullTranslations, count: int) -> str:
    return t.gettext("…and {count} more: /latest").format(count=count)


def render_story(
    story: Story,
    *,
    topic_names: Mapping[str, str] = {},
    heading: str | None = None,
    show_time: bool = False,
    translator: gettext.NullTranslations = ENGLISH,
) -> RenderedMessage:
    """The alert for one story: bold headline, summary, source linked to the article.

    `topic_names` are shown as given: pass them already in the chat's language."""
    title = truncate(story.title.strip() or story.source_name, MAX_TITLE_CHARS)
    summary = story.summary.strip()
    source = story.source_name.strip() or translator.gettext("Source")
    url = safe_url(story.url)
    topics = _topic_line(story, topic_names)
    # The chat's keyword watches that brought the alert: why it came, when no topic did.
    watched = truncate(" · ".join(f"“{w}”" for w in story.watched), MAX_TITLE_CHARS)
    when = "  🕒 " + _when(story.published_at, translator) if show_time else ""
    footer_plain = "📰 " + source + when
    # The same story from other sources (bot.stories): named, never alerted again.
    also = ""
    if story.also:
        sources = ", ".join(story.also)
        also = truncate(
            translator.gettext("Also: {sources}").format(sources=sources), MAX_TITLE_CHARS
        )
    footer_plain += also
    head_plain = heading or ""

    fixed = len(head_plain) + len(title) + len(footer_plain) + len(topics) + len(watched) + 15
    summary = truncate(summary, max(0, MAX_MESSAGE_CHARS - fixed))

    parts: list[str] = []
    if heading:
        parts.append(html.escape(heading))
    parts.append(f"<b>{html.escape(title)}</b>")
    if summary:
        parts.append(html.escape(summary))
    source_html = html.escape(source)
    if url:
        source_html = f'<a href="{html.escape(url, quote=True)}">{source_html}</a>'
    footer = "📰 " + source_html
    if show_time:
        footer += "  🕒 " + html.escape(_when(story.published_at, translator))
    if also:
        footer += "\n" + html.escape(also)
    if topics:
        footer += "\n🏷 " + html.escape(topics)
    if watched:
        footer += "\n🔎 " + html.escape(watched)
    parts.append(footer)
    return RenderedMessage(text="\n\n".join(parts), parse_mode="HTML")


def render_story_plain(story: Story) -> RenderedMessage:
    """The fallback when Telegram rejects our HTML: the same facts, no markup at all."""
    title = truncate(story.title.strip() or story.source_name, MAX_TITLE_CHARS)
    lines = [title]
    footer = story.source_name + (f": {story.url}" if safe_url(story.url) else "")
    summary = truncate(story.summary.strip(), MAX_MESSAGE_CHARS - len(title) - len(footer) - 4)
    if summary:
        lines.append(summary)
    lines.append(footer)
    return RenderedMessage(text="\n\n".join(lines), parse_mode=None)


def render_digest(
    stories: Sequence[Story],
    *,
    heading: str,
    limit: int = MAX_MESSAGE_CHARS,
    translator: gettext.NullTranslations = ENGLISH,
) -> RenderedMessage:
    """Several stories in one message: a heading and one linked headline per story."""
    lines = [f"<b>{html.escape(heading)}</b>"]
    used = len(heading)
    shown = 0
    for story in stories:
        title = truncate(story.title.strip() or story.source_name, 200)
        source = story.source_name.strip()
        plain = f"• {title} ({source})"
        if used + len(plain) + 2 > limit - 40:
            break
        url = safe_url(story.url)
        title_html = html.escape(title)
        if url:
            title_html = f'<a href="{html.escape(url, quote=True)}">{title_html}</a>'
        lines.append(f"• {title_html} — {html.escape(source)}")
        used += len(plain) + 1
        shown += 1
    if shown < len(stories):
        lines.append(html.escape(_more(translator, len(stories) - shown)))
    return RenderedMessage(text="\n".join(lines), parse_mode="HTML")


def digest_heading(
    stories: Sequence[Story],
    topic_names: Mapping[str, str] = {},
    translator: gettext.NullTranslations = ENGLISH,
) -> str:
    """ "5 new stories on Ukraine:" for the topic most of them share, else "5 new stories:".

    `topic_names` in the chat's language, as for `render_story`."""
    counts: dict[str, int] = {}
    for story in stories:
        for slug in story.topics:
            if slug in topic_names:
                counts[slug] = counts.get(slug, 0) + 1
    n = len(stories)
    if not counts:
        return translator.ngettext("{count} new story:", "{count} new stories:", n).format(count=n)
    order = {slug: index for index, slug in enumerate(topic_names)}  # catalogue order
    best = min(counts, key=lambda slug: (-counts[slug], order[slug]))
    return translator.ngettext(
        "{count} new story on {topic}:", "{count} new stories on {topic}:", n
    ).format(count=n, topic=topic_names[best])


def render_digest_plain(
    stories: Sequence[Story], *, heading: str, translator: gettext.NullTranslations = ENGLISH
) -> RenderedMessage:
    """The digest without markup: the fallback when Telegram rejects the HTML one."""
    lines = [heading]
    used = len(heading)
    for shown, story in enumerate(stories):
        title = truncate(story.title.strip() or story.source_name, 200)
        url = safe_url(story.url)
        line = f"• {title}" + (f" {url}" if url else "")
        if used + len(line) + 1 > MAX_MESSAGE_CHARS - 40:
            lines.append(_more(translator, len(stories) - shown))
            break
        lines.append(line)
        used += len(line) + 1
    return RenderedMessage(text="\n".join(lines), parse_mode=None)
