"""`newsbot check-feed` as an operator runs it: a real subprocess, output written to files."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.conftest import FEEDS, feed_bytes
from tests.support.env import child_env
from tests.support.feed_server import FeedServer

NEWSBOT = [sys.executable, "-m", "bot.cli", "check-feed"]
JSON_KEYS = {"title", "link", "published", "summary", "topics", "story"}


async def _check(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = child_env()
    env["NO_PROXY"] = "127.0.0.1,localhost"
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *NEWSBOT, *args, env=env, cwd=tmp_path, stdout=out, stderr=err
        )
        code = await asyncio.wait_for(process.wait(), 60)
    return code, out_path.read_text(encoding="utf-8"), err_path.read_text(encoding="utf-8")


async def test_json_of_a_file_has_exactly_the_contract_keys(tmp_path: Path) -> None:
    feed = FEEDS / "ft-uk-homepage-2022-04-05.rss.xml"
    code, out, err = await _check(tmp_path, str(feed), "--json")
    assert code == 0, err
    items = json.loads(out)
    assert len(items) == 31
    assert all(set(item) == JSON_KEYS for item in items)
    coal = items[0]
    assert coal["title"] == "Brussels prepares ban on Russian coal imports and transport operators"
    # The FT's relative link is resolved against the channel link.
    assert coal["link"].startswith("https://www.ft.com/content/")
    assert coal["published"] == "2022-04-05T18:03:09+00:00"
    assert coal["summary"] == "New penalties need to be agreed by all 27 EU member states."
    assert {"russia", "sanctions", "eu", "energy"} <= set(coal["topics"])
    # A story id is the number of the story's first item: its own, or an earlier one.
    assert all(1 <= item["story"] <= number for number, item in enumerate(items, start=1))
    assert items[0]["story"] == 1


async def test_one_feed_merges_only_word_for_word_repeats(tmp_path: Path) -> None:
    """As ingest does for one source: Ukrinform's look-alike daily reports (casualty toll,
    shelling of settlements) stay separate stories; the same item republished under a new
    guid and link is the first one's story; an untitled item is left out, and said so."""
    text = feed_bytes("ukrinform-lastnews-2026-10-04.rss.xml").decode("utf-8")
    start = text.index("<item")
    first = text[start : text.index("</item>", start) + len("</item>")]
    republished = first.replace("4170803", "4170999")
    untitled = (
        "<item><guid>no-title</guid><link>https://www.ukrinform.net/x.html</link>"
        "<description>Only a lead.</description></item>"
    )
    feed = tmp_path / "ukrinform.xml"
    end = text.index("</channel>")
    feed.write_text(text[:end] + republished + untitled + text[end:], encoding="utf-8")
    code, out, err = await _check(tmp_path, str(feed), "--json")
    assert code == 0, err
    items = json.loads(out)
    assert len(items) == 31
    assert [item["story"] for item in items] == [*range(1, 31), 1]
    assert items[-1]["title"] == items[0]["title"]
    assert "1 item(s) without a title left out" in err


async def test_undated_items_have_null_published(tmp_path: Path) -> None:
    feed = FEEDS / "heise-newsticker-2018-10.rss0.90.rdf.xml"
    code, out, err = await _check(tmp_path, str(feed), "--json")
    assert code == 0, err
    items = json.loads(out)
    assert items and all(item["published"] is None for item in items)


async def test_url_is_fetched_and_printed_as_text(tmp_path: Path) -> None:
    server = FeedServer()
    await server.start()
    try:
        server.serve("/rss", feed_bytes("ukrinform-lastnews-2026-10-04.rss.xml"))
        code, out, err = await _check(tmp_path, server.url("/rss"))
    finally:
        await server.stop()
    assert code == 0, err
    assert server.hits("/rss") == 1
    assert "1. Russia's war casualty toll in Ukraine up by 1,750 over past day" in out
    assert "topics:    military, russia, ukraine" in out
    assert out.rstrip().endswith("30 items")


async def test_bad_inputs_give_one_line_and_non_zero_exit(tmp_path: Path) -> None:
    server = FeedServer()
    await server.start()
    try:
        server.serve("/page", b"<html><body>not a feed</body></html>", content_type="text/html")
        cases = [str(tmp_path / "missing.xml"), server.url("/gone"), server.url("/page")]
        for target in cases:
            code, out, err = await _check(tmp_path, target, "--json")
            assert code != 0, target
            assert out == ""
            assert err.count("\n") == 1 and err.startswith("newsbot: "), err
            assert target in err
        not_xml = tmp_path / "notes.txt"
        not_xml.write_text("hello\n<html>x</html>\n", encoding="utf-8")
        code, out, err = await _check(tmp_path, str(not_xml))
        assert (code, out) == (1, "")
        assert err == f"newsbot: {not_xml} is not a feed: line 2, column 0: syntax error\n"
    finally:
        await server.stop()
