"""Storing articles once and reading stories back for alerts and `/latest`.

"Is this item new?" is answered by the database: the insert skips any row that collides on
(source, guid) or on the canonical URL, and returns only the rows it really inserted. Two
sources carrying the same story under one URL therefore yield one article and one alert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Article, ArticleTopic, Source
from storage.records import NewArticle, Story, StoryMember

_STORY_COLUMNS = (
    Article.id,
    Article.source_id,
    Source.name,
    Article.url,
    Article.title,
    Article.summary,
    Article.categories,
    Article.published_at,
    Article.first_seen_at,
    Article.story_id,
)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """`INSERT` with `ON CONFLICT` support for whichever database the session is bound to."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {name!r}")


def _story(
    row: Sequence[Any], topics: frozenset[str] = frozenset(), also: tuple[str, ...] = ()
) -> Story:
    return Story(
        id=row[0],
        source_id=row[1],
        source_name=row[2],
        url=row[3],
        title=row[4],
        summary=row[5],
        categories=tuple(row[6] or ()),
        published_at=row[7],
        first_seen_at=row[8],
        topics=topics,
        also=also,
    )


def _stories_query() -> Select[*tuple[Any, ...]]:
    return select(*_STORY_COLUMNS).join(Source, Source.id == Article.source_id)


async def insert_new(
    session: AsyncSession,
    source_id: int,
    articles: Sequence[NewArticle],
    now: datetime,
) -> dict[str, int]:
    """Insert the articles that are not stored yet; return {guid: id} of those inserted."""
    if not articles:
        return {}
    rows: list[dict[str, Any]] = [
        {
            "source_id": source_id,
            "guid": article.guid,
            "url": article.url or None,
            "title": article.title,
            "summary": article.summary,
            "categories": list(article.categories),
            "published_at": article.published_at,
            "first_seen_at": now,
        }
        for article in articles
    ]
    inserted: dict[str, int] = {}
    # One statement per row keeps "DO NOTHING" per row and RETURNING unambiguous; the number
    # of new items per fetch is small (a feed carries tens of items, few of them new).
    for row in rows:
        stmt = dialect_insert(session, Article).values(**row).on_conflict_do_nothing()
        result = await session.execute(stmt.returning(Article.id))
        article_id = result.scalar_one_or_none()
        if article_id is not None:
            inserted[row["guid"]] = article_id
    return inserted


async def known_guids(session: AsyncSession, source_id: int, guids: Iterable[str]) -> set[str]:
    """The guids of this source that are already stored (to skip summarising old items)."""
    wanted = list(guids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await session.scalars(
            select(Article.guid).where(Article.source_id == source_id, Article.guid.in_(chunk))
        )
        found.update(rows)
    return found


async def known_urls(session: AsyncSession, urls: Iterable[str]) -> set[str]:
    wanted = [url for url in urls if url]
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await session.scalars(select(Article.url).where(Article.url.in_(chunk)))
        found.update(url for url in rows if url)
    return found


async def set_topics(session: AsyncSession, article_id: int, topics: Iterable[str]) -> None:
    values = [{"article_id": article_id, "topic": topic} for topic in sorted(set(topics))]
    if values:
        await session.execute(
            dialect_insert(session, ArticleTopic).values(values).on_conflict_do_nothing()
        )


async def _with_topics(session: AsyncSession, rows: Sequence[Sequence[Any]]) -> list[Story]:
    ids = [row[0] for row in rows]
    topics: dict[int, set[str]] = {article_id: set() for article_id in ids}
    if ids:
        pairs = await session.execute(
            select(ArticleTopic.article_id, ArticleTopic.topic).where(
                ArticleTopic.article_id.in_(ids)
            )
        )
        for article_id, topic in pairs:
            topics[article_id].add(topic)
    also = await _other_sources(session, rows)
    return [_story(row, frozenset(topics[row[0]]), also.get(row[0], ())) for row in rows]


async def _other_sources(
    session: AsyncSession, rows: Sequence[Sequence[Any]]
) -> dict[int, tuple[str, ...]]:
    """{article id: names of the other sources in its story, earliest first}."""
    story_ids = {row[9] for row in rows if row[9] is not None}
    if not story_ids:
        return {}
    members = await session.execute(
        select(Article.story_id, Article.source_id, Source.name)
        .join(Source, Source.id == Article.source_id)
        .where(Article.story_id.in_(story_ids))
        .order_by(Article.published_at, Article.id)
    )
    by_story: dict[int | None, list[tuple[int, str]]] = {}
    for story_id, source_id, name in members:
        by_story.setdefault(story_id, []).append((source_id, name))
    also: dict[int, tuple[str, ...]] = {}
    for row in rows:
        names: list[str] = []
        for source_id, name in by_story.get(row[9], ()):
            if source_id != row[1] and name not in names:
                names.append(name)
        if names:
            also[row[0]] = tuple(names)
    return also


async def story_members(
    session: AsyncSession,
    *,
    exclude_source: int,
    published_from: datetime,
    published_to: datetime,
    limit: int = 500,
) -> list[StoryMember]:
    """Signed articles of other sources published in the window, newest first, at most `limit`:
    the candidates a new article may repeat (bounded so the cost per ingest stays flat)."""
    rows = await session.execute(
        select(Article.story_id, Article.source_id, Article.published_at, Article.signature)
        .where(
            Article.source_id != exclude_source,
            Article.story_id.is_not(None),
            Article.signature.is_not(None),
            Article.published_at >= published_from,
            Article.published_at <= published_to,
        )
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        StoryMember(story_id=story_id, source_id=source_id, published_at=at, signature=sig)
        for story_id, source_id, at, sig in rows
        if story_id is not None and sig is not None
    ]


async def stories_by_signature(
    session: AsyncSession,
    *,
    source_id: int,
    signatures: Iterable[str],
    published_from: datetime,
    published_to: datetime,
) -> dict[str, int]:
    """{signature: story id} of this source's articles in the window with one of these exact
    signatures: the source telling a story again word for word under a new guid and URL."""
    wanted = sorted({sig for sig in signatures if sig})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Article.signature, Article.story_id)
            .where(
                Article.source_id == source_id,
                Article.signature.in_(wanted[start : start + 500]),
                Article.story_id.is_not(None),
                Article.published_at >= published_from,
                Article.published_at <= published_to,
            )
            .order_by(Article.id)
        )
        for sig, story_id in rows:
            if sig is not None and story_id is not None:
                found.setdefault(sig, story_id)
    return found


async def set_story(session: AsyncSession, article_id: int, story_id: int, signature: str) -> None:
    await session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(story_id=story_id, signature=signature)
    )


async def get_stories(session: AsyncSession, article_ids: Iterable[int]) -> dict[int, Story]:
    ids = list(set(article_ids))
    if not ids:
        return {}
    rows = (await session.execute(_stories_query().where(Article.id.in_(ids)))).all()
    return {story.id: story for story in await _with_topics(session, rows)}


async def newest(session: AsyncSession, limit: int = 1) -> list[Story]:
    rows = (
        await session.execute(
            _stories_query().order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
        )
    ).all()
    return await _with_topics(session, rows)


async def newest_in_topics(
    session: AsyncSession, topics: Iterable[str], limit: int = 1
) -> list[Story]:
    wanted = sorted(set(topics))
    if not wanted:
        return []
    ids = select(ArticleTopic.article_id).where(ArticleTopic.topic.in_(wanted))
    rows = (
        await session.execute(
            _stories_query()
            .where(Article.id.in_(ids))
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(limit)
        )
    ).all()
    return await _with_topics(session, rows)


async def newest_matching(
    session: AsyncSession,
    predicate: Callable[[Story], bool],
    *,
    scan: int = 500,
) -> Story | None:
    """The newest of the `scan` most recent stories that satisfy `predicate`.

    Keyword watches are whole-word matches that SQL cannot express portably, so they are
    checked in Python over a bounded window of recent stories.
    """
    for story in await newest(session, limit=scan):
        if predicate(story):
            return story
    return None
