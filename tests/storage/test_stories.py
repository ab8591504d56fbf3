"""Story clusters against real databases: a near-duplicate from another source joins the story,
and so does the same source's word-for-word republication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.stories import Assigned, assign_stories, decode_signature, encode_signature
from storage import articles, pages, sources
from storage.models import Article
from storage.records import NewArticle

T0 = datetime(2026, 10, 4, 5, 9, 13, tzinfo=UTC)
# The Kyiv Independent's item of 2026-10-04 and a lightly edited copy of it.
TITLE = (
    "U.S. peace negotiations with Russia could now involve multi-billion dollar Lukoil deal, "
    "NYT reports"
)
EDITED = "US peace talks with Russia may involve multi-billion dollar Lukoil deal – NYT"
LEAD = (
    "The Trump administration’s peace negotiations with the Kremlin have come to include "
    "discussions of a multi-billion dollar deal involving assets owned by Russian oil company "
    "Lukoil, the New York Times (NYT) reported on Oct. 3."
)
OTHER = NewArticle(
    guid="other",
    url="https://kyivindependent.com/casualties/",
    title="At least 15,000 civilian casualties documented in Ukraine",
    summary="The UN monitoring mission published its figures on Oct. 3.",
    categories=(),
    published_at=T0,
)


def _article(guid: str, title: str, *, hours: float = 0) -> NewArticle:
    return NewArticle(
        guid=guid,
        url=f"https://news.example/{guid}",
        title=title,
        summary=LEAD,
        categories=(),
        published_at=T0 + timedelta(hours=hours),
    )


async def _source(session: AsyncSession, url: str, name: str) -> int:
    await sources.sync_sources(session, [(url, name, None)], T0)
    (record,) = [s for s in await sources.list_sources(session) if s.url == url]
    return record.id


async def _store(
    session: AsyncSession, source_id: int, *items: NewArticle
) -> tuple[dict[str, int], Assigned]:
    inserted = await articles.insert_new(session, source_id, list(items), T0)
    assigned = await assign_stories(
        session, source_id, [(inserted[a.guid], a) for a in items if a.guid in inserted]
    )
    return inserted, assigned


async def _story_ids(session: AsyncSession) -> dict[str, int | None]:
    rows = await session.execute(select(Article.guid, Article.story_id))
    return {guid: story_id for guid, story_id in rows}


async def test_near_duplicate_from_another_source_joins_the_story(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        kyiv = await _source(session, "https://kyiv.example/rss", "The Kyiv Independent")
        wire = await _source(session, "https://wire.example/rss", "Wire")
        first, assigned = await _store(session, kyiv, _article("lukoil", TITLE), OTHER)
        assert assigned == Assigned()
        # Each first article is its own story.
        assert await _story_ids(session) == {"lukoil": first["lukoil"], "other": first["other"]}

        copy, assigned = await _store(session, wire, _article("copy", EDITED, hours=2))
        assert assigned.repeats == assigned.new_sources == {copy["copy"]}
        assert (await _story_ids(session))["copy"] == first["lukoil"]

        stories = await articles.get_stories(
            session, [first["lukoil"], copy["copy"], first["other"]]
        )
        assert stories[first["lukoil"]].also == ("Wire",)
        assert stories[copy["copy"]].also == ("The Kyiv Independent",)
        assert stories[first["other"]].also == ()


async def test_same_source_late_copy_and_unrelated_stay_separate(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        kyiv = await _source(session, "https://kyiv.example/rss", "The Kyiv Independent")
        wire = await _source(session, "https://wire.example/rss", "Wire")
        first, _ = await _store(session, kyiv, _article("lukoil", TITLE))
        # The same source again (an update), another source 48 h after both, an unrelated story.
        again, joined_again = await _store(session, kyiv, _article("update", EDITED, hours=1))
        late, joined_late = await _store(session, wire, _article("late", EDITED, hours=50))
        unrelated, joined_unrelated = await _store(session, wire, OTHER)
        assert joined_again == joined_late == joined_unrelated == Assigned()
        ids = await _story_ids(session)
        assert ids["update"] == again["update"]
        assert ids["late"] == late["late"]
        assert ids["other"] == unrelated["other"]
        assert (await articles.get_stories(session, [first["lukoil"]]))[first["lukoil"]].also == ()


async def test_same_source_republishing_word_for_word_joins_its_story(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A feed that puts the same headline and lead out again under a new guid and URL (a
    "-2" slug, a CMS re-import) must not alert its subscribers a second time; no "Also:"
    either, as no new source told it."""
    async with sessionmaker() as session, session.begin():
        kyiv = await _source(session, "https://kyiv.example/rss", "The Kyiv Independent")
        first, _ = await _store(session, kyiv, _article("lukoil", TITLE))
        again, assigned = await _store(
            session, kyiv, _article("lukoil-2", TITLE, hours=3), _article("lukoil-3", TITLE)
        )
        assert assigned.repeats == {again["lukoil-2"], again["lukoil-3"]}
        assert assigned.new_sources == set()
        ids = await _story_ids(session)
        assert ids["lukoil-2"] == ids["lukoil-3"] == first["lukoil"]
        assert (await articles.get_stories(session, [first["lukoil"]]))[first["lukoil"]].also == ()
        # Two copies of a new story in one fetch are one story too.
        pair, assigned = await _store(
            session,
            kyiv,
            _article("new-a", "Kherson ferry resumes"),
            _article("new-b", "Kherson ferry resumes"),
        )
        assert assigned.repeats == {pair["new-b"]}
        assert (await _story_ids(session))["new-b"] == pair["new-a"]


def test_signature_text_round_trips() -> None:
    sig = (0, 1, 0xFFFFFFFF, 0x12AB)
    assert decode_signature(encode_signature(sig)) == sig
    assert encode_signature(()) == ""


async def test_page_leads_are_cached_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await pages.save_leads(
            session, {"https://a.example/1": "Lead one.", "https://a.example/2": ""}, T0
        )
        # A second save of the same page keeps the first answer.
        await pages.save_leads(session, {"https://a.example/1": "Changed."}, T0)
    async with sessionmaker() as session:
        found = await pages.cached_leads(
            session, ["https://a.example/1", "https://a.example/2", "https://a.example/3"]
        )
    assert found == {"https://a.example/1": "Lead one.", "https://a.example/2": ""}

    async with sessionmaker() as session, session.begin():
        assert await pages.prune_leads(session, older_than=T0 + timedelta(seconds=1)) == 2
    async with sessionmaker() as session:
        assert await pages.cached_leads(session, ["https://a.example/1"]) == {}
