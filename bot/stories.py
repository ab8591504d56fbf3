"""One story, one alert: put each newly stored article into a story cluster.

The first article of a story is its own story (``story_id`` = its id). A later article joins
an earlier one's story when, within the window,

* another source's headline and lead are a near-duplicate of it (bot.dedupe): the story's
  alert gains "Also: <source>" and `/latest` names it;
* or the same source carries it again word for word (the same headline and lead words) under
  a new guid and URL: a republished item, which must not alert its subscribers twice. A
  source's reworded item stays its own story: an update, a live blog's next entry.

Either way ingest stores and classifies it but alerts only chats that have not had the story.

Candidates are read from the database (storage.articles.story_members), bounded in number, so
the cost per ingest does not grow with the archive. They are prepared once per ingest
(``StoryPool``: word weights over the candidates) and every new article is looked up in them.

The signature is stored as text: ``w1:`` and the word tokens in fixed-width hex. Rows written
before that format (the old 32-slot MinHash, plain hex) decode to no signature, so they never
match: for two days after the change an article stored before it can at worst get a second
alert, never a wrong merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dedupe import DEFAULT_WINDOW, StoryCandidate, StoryPool, signature
from storage import articles as article_store
from storage.records import NewArticle

# How many recent articles of other sources one ingest compares against.
MAX_CANDIDATES = 2000
_SLOT_HEX = 8  # a token is a 32-bit value
_FORMAT = "w1:"  # word tokens (bot.dedupe.signature); unprefixed text is the old MinHash
_HEX = frozenset("0123456789abcdef")


def encode_signature(sig: tuple[int, ...]) -> str:
    """A signature as ``w1:`` and fixed-width hex, for a text column both databases store alike.

    No signature is the empty text.
    """
    if not sig:
        return ""
    return _FORMAT + "".join(f"{value:0{_SLOT_HEX}x}" for value in sig)


def decode_signature(text: str | None) -> tuple[int, ...]:
    """The signature in ``text``; () for empty, old-format or damaged text (it matches nothing)."""
    if not text or not text.startswith(_FORMAT):
        return ()
    body = text[len(_FORMAT) :]
    if len(body) % _SLOT_HEX or not _HEX.issuperset(body):
        return ()
    return tuple(int(body[i : i + _SLOT_HEX], 16) for i in range(0, len(body), _SLOT_HEX))


@dataclass(frozen=True, slots=True)
class Assigned:
    """Of the articles just stored: those that joined an earlier story (`repeats`: alerted
    only to chats that have not had the story), and of those, the ones another source told
    (`new_sources`: the story's sent alerts gain "Also: <source>")."""

    repeats: frozenset[int] = frozenset()
    new_sources: frozenset[int] = frozenset()


async def assign_stories(
    session: AsyncSession,
    source_id: int,
    stored: Iterable[tuple[int, NewArticle]],
) -> Assigned:
    """Give each (article id, article) just stored by `source_id` its story."""
    fresh = list(stored)
    if not fresh:
        return Assigned()
    times = [article.published_at for _, article in fresh]
    published_from = min(times) - DEFAULT_WINDOW
    published_to = max(times) + DEFAULT_WINDOW
    signatures = {
        article_id: signature(article.title, article.summary) for article_id, article in fresh
    }
    own = await article_store.stories_by_signature(
        session,
        source_id=source_id,
        signatures=(encode_signature(sig) for sig in signatures.values()),
        published_from=published_from,
        published_to=published_to,
    )
    members = await article_store.story_members(
        session,
        exclude_source=source_id,
        published_from=published_from,
        published_to=published_to,
        limit=MAX_CANDIDATES,
    )
    pool = StoryPool(
        StoryCandidate(
            story_id=m.story_id,
            source_id=m.source_id,
            published_at=m.published_at,
            signature=decode_signature(m.signature),
        )
        for m in members
    )
    repeats: set[int] = set()
    new_sources: set[int] = set()
    for article_id, article in fresh:
        sig = signatures[article_id]
        text = encode_signature(sig)
        story_id = own.get(text) if text else None
        if story_id is None:
            story_id = pool.find(sig, source_id=source_id, published_at=article.published_at)
            if story_id is not None:
                new_sources.add(article_id)
        if story_id is None:
            story_id = article_id
        else:
            repeats.add(article_id)
        if text:
            own.setdefault(text, story_id)  # a second copy in the same fetch
        await article_store.set_story(session, article_id, story_id, text)
    return Assigned(frozenset(repeats), frozenset(new_sources))
