"""One alert per story, end to end: two sources carry the same story, the subscriber gets one push,
which is edited to name the other source, and `/latest` names it too; a chat that matches only
the second wording, and so had no alert for the story, gets that one.

The second source serves the Kyiv Independent's real Lukoil item as a syndicating site would:
under its own link and guid, half an hour later, with a lightly edited headline.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select, update

from bot.emulator import BotAPIEmulator, SentMessage
from storage.models import OutboxEntry
from tests.conftest import feed_bytes
from tests.e2e.harness import Harness, running_bot, write_sources
from tests.support.feed_server import ITEM, FeedServer, withhold_items

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
ALICE = 2001
BOB = 2002
LUKOIL_TITLE = (
    "U.S. peace negotiations with Russia could now involve multi-billion dollar Lukoil deal, "
    "NYT reports"
)
EDITED_TITLE = "US peace talks with Russia may involve multi-billion dollar Lukoil deal – NYT"


def _syndicated(full: bytes) -> tuple[bytes, bytes]:
    """(the wire's feed with no items, the wire's feed with its copy of the Lukoil item)."""
    first = ITEM.search(full)
    assert first is not None and LUKOIL_TITLE.encode() in first.group()
    item = (
        first.group()
        .replace(LUKOIL_TITLE.encode(), EDITED_TITLE.encode())
        .replace(b"https://kyivindependent.com/", b"https://wire.example/world/")
        .replace(b"6ac1ddbe9780d3006a1eb0c4", b"wire-lukoil-1")
        .replace(b"05:09:13 GMT", b"05:39:13 GMT")
    )
    head = full[: first.start()]
    tail = b"</channel></rss>"
    return head + tail, head + item + tail


async def test_same_story_from_two_sources_is_one_alert(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    full = feed_bytes(KYIV)
    empty_wire, wire_with_copy = _syndicated(full)
    feeds.serve("/kyiv.rss", withhold_items(full, 1))
    feeds.serve("/wire.rss", empty_wire)
    sources = write_sources(
        tmp_path / "sources.toml",
        [("The Kyiv Independent", feeds.url("/kyiv.rss")), ("Wire", feeds.url("/wire.rss"))],
    )

    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        reply = await bot.command(ALICE, "/subscribe sanctions")
        assert "Subscribed to Sanctions" in reply.plain_text
        # Bob watches words only the wire's rewrite uses.
        reply = await bot.command(BOB, '/subscribe "may involve"')
        assert "may involve" in reply.plain_text
        bob_before = len(emulator.messages_to(BOB))
        # First fetches of both sources: stored, not pushed.
        assert await bot.wait_for_articles(at_least=14) == 14
        await bot.wait_until(lambda: feeds.hits("/wire.rss") >= 1, what="the wire's first fetch")

        # The Kyiv Independent publishes the story: one push.
        feeds.serve("/kyiv.rss", full)
        before = len(emulator.messages_to(ALICE))
        (push,) = (await emulator.wait_for_messages(ALICE, before + 1, timeout=15))[before:]
        assert push.plain_text.startswith(LUKOIL_TITLE)
        # The story is filed under six topics; Alice follows one: her alert names that one.
        (tags,) = [line for line in push.plain_text.splitlines() if line.startswith("🏷 ")]
        assert tags == "🏷 Sanctions"
        assert push.reply_markup is not None
        buttons = [b["callback_data"] for b in push.reply_markup["inline_keyboard"][0]]
        assert buttons == ["more:sanctions", "mute:sanctions"]
        assert len(emulator.messages_to(BOB)) == bob_before  # "could now involve"

        # The wire carries the same story later: no second push to Alice; her alert is edited
        # to name the wire instead, keeping its buttons.
        feeds.serve("/wire.rss", wire_with_copy)
        assert await bot.wait_for_articles(at_least=16) == 16
        edited = (await emulator.wait_for_messages(ALICE, before + 2, timeout=20))[before + 1]
        assert edited.method == "editmessagetext"
        assert edited.message_id == push.message_id
        assert edited.plain_text.startswith(LUKOIL_TITLE)
        assert "Also: Wire" in edited.plain_text and "Also:" not in push.plain_text
        assert edited.reply_markup == push.reply_markup
        editor = bot.ctx.editor
        assert editor is not None
        await bot.wait_until(lambda: editor.edited == 1, what="the editor to count its edit")

        # Bob had no alert for the story, and the rewrite matches his watch: he gets that one.
        (bob_push,) = (await emulator.wait_for_messages(BOB, bob_before + 1, timeout=15))[
            bob_before:
        ]
        assert bob_push.method == "sendmessage"
        assert bob_push.plain_text.startswith(EDITED_TITLE)
        assert "Also: The Kyiv Independent" in bob_push.plain_text
        # Bob follows a keyword, no topic: his alert shows all the story's topics, names the
        # watch that brought it, and offers to stop that watch, not to mute a topic he never
        # followed.
        (tags,) = [line for line in bob_push.plain_text.splitlines() if line.startswith("🏷 ")]
        assert "Sanctions" in tags and "Ukraine" in tags and "Russia" in tags
        assert "🔎 “may involve”" in bob_push.plain_text.splitlines()
        assert bob_push.reply_markup is not None
        (row,) = bob_push.reply_markup["inline_keyboard"]
        assert [b["text"] for b in row][1] == "Stop watching “may involve”"
        assert row[0]["callback_data"].startswith("more:")
        hits = feeds.hits("/wire.rss")
        await bot.wait_until(lambda: feeds.hits("/wire.rss") >= hits + 2, what="two more fetches")
        await bot.outbox_idle()
        assert len(emulator.messages_to(ALICE)) == before + 2
        assert len(emulator.messages_to(BOB)) == bob_before + 1

        # /latest shows the story once, naming the other source.
        latest = await bot.command(ALICE, "/latest sanctions")
        assert "Lukoil deal" in latest.plain_text
        assert "Also: " in latest.plain_text
        also = latest.plain_text.split("Also: ", 1)[1].splitlines()[0]
        assert also in {"The Kyiv Independent", "Wire"}
        assert emulator.limit_violations == []

        # Bob stops the watch from his alert's button.
        answers = len(emulator.callback_answers)
        emulator.press_button(BOB, bob_push.message_id, row[1]["callback_data"])
        await bot.wait_until(lambda: len(emulator.callback_answers) > answers, what="an answer")
        assert emulator.callback_answers[answers].text == (
            "Stopped watching “may involve”. /subscribe may involve to undo."
        )
        listed = await bot.command(BOB, "/subscriptions")
        assert "may involve" not in listed.plain_text
        # The same button pressed again removes nothing and says so.
        emulator.press_button(BOB, bob_push.message_id, row[1]["callback_data"])
        await bot.wait_until(lambda: len(emulator.callback_answers) > answers + 1, what="one more")
        assert emulator.callback_answers[answers + 1].text == (
            "This chat no longer watches that keyword."
        )


PRAVDA = "ukrainskapravda-eng-2026-10-04.rss.xml"
TITLE_ONLY = "Donnyland abandoned: the last negotiations of the year"
TITLE_ONLY_LINK = b"https://www.pravda.com.ua/eng/news/2026/10/03/8056312/"
# A stand-in for the publisher's page: navigation, the article, a footer.
LEAD = (
    "The last round of talks this year ended without an agreement on the occupied territories. "
    "Both delegations left the venue on Saturday evening without a joint statement."
)
ARTICLE_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{TITLE_ONLY} | Ukrainska Pravda</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/columns">Columns</a></nav>
<article><h1>{TITLE_ONLY}</h1><p>{LEAD}</p>
<p>Negotiators are expected to meet again in January, officials said.</p></article>
<footer>© Ukrainska Pravda. All rights reserved. Subscribe to our newsletter.</footer>
</body></html>""".encode()


async def test_title_only_item_gets_its_lead_from_the_article_page(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    full = feed_bytes(PRAVDA)
    (item,) = [m for m in ITEM.finditer(full) if TITLE_ONLY.encode() in m.group()]
    without = full[: item.start()] + full[item.end() :]
    page_url = feeds.url("/eng/news/8056312/")
    with_local_page = full.replace(TITLE_ONLY_LINK, page_url.encode())
    feeds.serve("/pravda.rss", without)
    feeds.serve("/eng/news/8056312/", ARTICLE_PAGE, content_type="text/html; charset=utf-8")
    sources = write_sources(
        tmp_path / "sources.toml", [("Ukrainska Pravda", feeds.url("/pravda.rss"))]
    )

    async with running_bot(
        emulator, feeds, database_url=database_url, sources_file=sources, article_pages=True
    ) as bot:
        reply = await bot.command(ALICE, "/subscribe donnyland")
        assert "donnyland" in reply.plain_text
        assert await bot.wait_for_articles(at_least=19) == 19

        feeds.serve("/pravda.rss", with_local_page)
        before = len(emulator.messages_to(ALICE))
        (push,) = (await emulator.wait_for_messages(ALICE, before + 1, timeout=15))[before:]
        assert push.plain_text.startswith(TITLE_ONLY)
        assert LEAD in push.plain_text
        assert "All rights reserved" not in push.plain_text and "Columns" not in push.plain_text

        # Later fetches neither refetch the page nor push again.
        hits = feeds.hits("/pravda.rss")
        await bot.wait_until(lambda: feeds.hits("/pravda.rss") >= hits + 2, what="two fetches")
        await bot.outbox_idle()
        assert feeds.hits("/eng/news/8056312/") == 1
        assert len(emulator.messages_to(ALICE)) == before + 1


def _kyiv_source(feeds: FeedServer, tmp_path: Path, full: bytes) -> Path:
    """The Kyiv Independent's feed without its newest item (the Lukoil story), as a source."""
    feeds.serve("/kyiv.rss", withhold_items(full, 1))
    return write_sources(
        tmp_path / "sources.toml", [("The Kyiv Independent", feeds.url("/kyiv.rss"))]
    )


async def _alices_lukoil_alert(bot: Harness, full: bytes) -> tuple[int, SentMessage]:
    """Alice follows Sanctions; after the first fetch the Lukoil story is published: her one
    alert, and how many messages she had before it."""
    await bot.command(ALICE, "/subscribe sanctions")
    assert await bot.wait_for_articles(at_least=14) == 14
    bot.feeds.serve("/kyiv.rss", full)
    before = len(bot.emulator.messages_to(ALICE))
    (push,) = (await bot.emulator.wait_for_messages(ALICE, before + 1, timeout=15))[before:]
    await bot.outbox_idle()
    return before, push


async def test_an_alert_that_can_no_longer_be_edited_is_let_go(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    """The user deleted the alert (or Telegram refuses the edit): the editor gives it up, once."""
    full = feed_bytes(KYIV)
    sources = _kyiv_source(feeds, tmp_path, full)
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        before, push = await _alices_lukoil_alert(bot, full)

        # The alert's message is gone from the chat; an edit for it falls due.
        async with bot.ctx.sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.chat_id == ALICE)
                .values(message_id=push.message_id + 1000, edit_due_at=bot.ctx.clock.now())
            )

        async def edit_waiting() -> bool:
            async with bot.ctx.sessionmaker() as session:
                due = await session.scalar(
                    select(OutboxEntry.id).where(OutboxEntry.edit_due_at.is_not(None))
                )
            return due is not None

        deadline = asyncio.get_running_loop().time() + 20
        while await edit_waiting():
            assert asyncio.get_running_loop().time() < deadline, "the edit was never settled"
            await asyncio.sleep(0.2)
        assert bot.ctx.editor is not None and bot.ctx.editor.edited == 0
        assert [m.method for m in emulator.messages_to(ALICE)[before:]] == ["sendmessage"]


async def test_a_source_republishing_a_story_word_for_word_does_not_alert_again(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    """The Kyiv Independent puts its Lukoil item out again under a "-2" link and a new guid
    (as its real archive does with some stories): Alice has had it, so nothing is sent or
    edited; Bob, who subscribed in between, gets it once."""
    full = feed_bytes(KYIV)
    first = ITEM.search(full)
    assert first is not None and LUKOIL_TITLE.encode() in first.group()
    again = (
        first.group()
        .replace(b"6ac1ddbe9780d3006a1eb0c4", b"6ac1ddbe9780d3006a1eb0c4-2")
        .replace(b"lukoil-deal-nyt-reports/", b"lukoil-deal-nyt-reports-2/")
    )
    assert again != first.group()
    republished = full[: first.start()] + again + full[first.start() :]
    sources = _kyiv_source(feeds, tmp_path, full)
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        before, push = await _alices_lukoil_alert(bot, full)
        assert push.plain_text.startswith(LUKOIL_TITLE)
        await bot.command(BOB, "/subscribe sanctions")
        bob_before = len(emulator.messages_to(BOB))

        feeds.serve("/kyiv.rss", republished)
        assert await bot.wait_for_articles(at_least=16) == 16
        hits = feeds.hits("/kyiv.rss")
        await bot.wait_until(lambda: feeds.hits("/kyiv.rss") >= hits + 2, what="two more fetches")
        await bot.outbox_idle()
        assert len(emulator.messages_to(ALICE)) == before + 1  # no second alert, no edit
        (bob_push,) = emulator.messages_to(BOB)[bob_before:]
        assert bob_push.plain_text.startswith(LUKOIL_TITLE)
        assert "Also:" not in bob_push.plain_text
