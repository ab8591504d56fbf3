"""/search <words>: the newest stored stories that mention every word (or "quoted phrase"),
with links."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import CustomContext
from bot.delivery.format import render_digest
from bot.keywords import KeywordError, KeywordMatcher, normalize_keyword
from handlers.common import (
    MAX_ARGUMENT_CHARS,
    argument,
    command,
    quote,
    register_chat,
    reply,
    too_long,
    translator,
)
from storage import articles as article_store
from storage.records import Story

RESULTS = 5
SCAN = 2000  # recent stories searched: whole-word matching is done in Python, as for /latest
MAX_WORDS = 8


# A phrase in quotes ("Black Sea", “Black Sea”, «Black Sea») is one term; other words are one
# term each, stray quote marks dropped.
_TERM = re.compile(r'["“«„]([^"“”«»„]+)["”»“]|([^\s"“”«»„]+)')


def search_terms(text: str) -> list[str]:
    """The words and quoted phrases to look for, normalised like keyword watches; duplicates
    dropped. A phrase matches its words side by side, as a keyword watch does."""
    terms: list[str] = []
    for match in _TERM.finditer(text):
        if len(terms) == MAX_WORDS:
            break
        try:
            term = normalize_keyword(match.group(1) or match.group(2))
        except KeywordError:
            continue
        if term not in terms:
            terms.append(term)
    return terms


def matches_all(story: Story, matchers: list[KeywordMatcher]) -> bool:
    text = "\n".join((story.title, story.summary, *story.categories))
    return all(matcher.matches(text) for matcher in matchers)


async def search(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    t = translator(context, chat)
    _ = t.gettext
    text = argument(update)
    if len(text) > MAX_ARGUMENT_CHARS:
        await reply(update, too_long(t))
        return
    terms = search_terms(text)
    if not terms:
        await reply(update, _("Send the words to look for, e.g. /search drone attack Odesa."))
        return
    matchers = [KeywordMatcher([term]) for term in terms]
    async with context.app.sessionmaker() as session:
        recent = await article_store.newest(session, limit=SCAN)
    found = [story for story in recent if matches_all(story, matchers)][:RESULTS]
    described = ", ".join(quote(term) for term in terms)
    if not found:
        await reply(
            update,
            _("No stored story mentions {words}. Try fewer or other words.").format(
                words=described
            ),
        )
        return
    heading = _("Newest stories that mention {words}").format(
        words=", ".join(f"“{term[:40]}”" for term in terms)
    )
    rendered = render_digest(found, heading=heading, translator=t)
    await reply(update, rendered.text, parse_mode=rendered.parse_mode)


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [command("search", search)]
