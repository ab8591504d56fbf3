"""One story, one alert: put each newly stored article into a story cluster.

The first article of a story is its own story (``story_id`` = its id). A later article from
another source whose headline and lead are a near-duplicate (bot.dedupe) within the window
joins the earlier article's story; ingest stores and classifies it but queues no alert, since
subscribers already got the story, and `/latest` names it under "Also:".

Candidates are read from the database (storage.articles.story_members), bounded in number, so
the cost per ingest does not grow with the archive.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dedupe import DEFAULT_WINDOW, StoryCandidate, find_story, signature
from storage import articles as article_store
from storage.records import NewArticle

# How many recent articles of other sources one ingest compares against.
MAX_CANDIDATES = 2000
_SLOT_HEX = 8  # a slot is a 32-bit value


def encode_signature(sig: tuple[int, ...]) -> str:
    """A signature as fixed-width hex, for a text column that both databases store alike."""
    return "".join(f"{value:0{_SLOT_HEX}x}" for value in sig)


def decode_signature(text: str) -> tuple[int, ...]:
    return tuple(int(text[i : i + _SLOT_HEX], 16) for i in range(0, len(text), _SLOT_HEX))


async def assign_stories(
    session: AsyncSession,
    source_id: int,
    stored: Iterable[tuple[int, NewArticle]],
) -> set[int]:
    """Give each (article id, article) just stored by `source_id` its story; return the ids of
    those that joined an earlier story from another source (no alert for them)."""
    fresh = list(stored)
    if not fresh:
        return set()
    times = [article.published_at for _, article in fresh]
    members = await article_store.story_members(
        session,
        exclude_source=source_id,
        published_from=min(times) - DEFAULT_WINDOW,
        published_to=max(times) + DEFAULT_WINDOW,
        limit=MAX_CANDIDATES,
    )
    earlier = [
        StoryCandidate(
            story_id=m.story_id,
            source_id=m.source_id,
            published_at=m.published_at,
            signature=decode_signature(m.signature),
        )
        for m in members
    ]
    joined: set[int] = set()
    for article_id, article in fresh:
        sig = signature(article.title, article.summary)
        story_id = (
            find_story(sig, source_id=source_id, published_at=article.published_at, earlier=earlier)
            if sig
            else None
        )
        if story_id is None:
            story_id = article_id
        else:
            joined.add(article_id)
        await article_store.set_story(session, article_id, story_id, encode_signature(sig))
    return joined
