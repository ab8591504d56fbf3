"""Which feed items need their article page, and what is taken from a page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.normalize import Article, normalize_feed
from bot.feeds.page import LEAD_MAX_CHARS, extract_lead
from bot.feeds.parse import parse_feed
from bot.leads import MIN_SUMMARY_CHARS, needs_lead
from bot.summary import make_summary
from tests.conftest import FEEDS

WHEN = datetime(2026, 10, 3, 14, 18, tzinfo=UTC)
TITLE = "Donnyland abandoned: the last negotiations of the year"


def _item(summary_source: str, url: str = "https://www.pravda.com.ua/eng/news/8056312/") -> Article:
    return Article(
        guid=url or "guid",
        url=url,
        title=TITLE,
        summary_source=summary_source,
        published_at=WHEN,
        categories=("News",),
    )


def test_only_items_without_usable_text_need_the_page() -> None:
    assert needs_lead(_item(""))
    assert needs_lead(_item("<p>Donnyland abandoned: the last negotiations of the year</p>"))
    assert not needs_lead(
        _item("<p>Talks ended on Saturday without an agreement on the occupied territories.</p>")
    )
    assert not needs_lead(_item("", url=""))  # nothing to fetch


def test_page_lead_drops_navigation_and_footer() -> None:
    page = (
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article>"
        f"<h1>{TITLE}</h1><p>Talks ended on Saturday without an agreement on the occupied "
        "territories, and both delegations left without a joint statement.</p></article>"
        "<footer>All rights reserved. Subscribe to our newsletter.</footer></body></html>"
    )
    lead = extract_lead(page.encode())
    assert "Talks ended on Saturday without an agreement" in lead
    assert "All rights reserved" not in lead and "Home" not in lead


def test_page_without_text_or_huge_gives_bounded_result() -> None:
    assert extract_lead(b"") == ""
    assert extract_lead(b"   ") == ""
    long_page = "<html><body><article>" + "<p>The talks went on and on. </p>" * 2000
    assert 0 < len(extract_lead(long_page.encode() + b"</article></body></html>")) <= LEAD_MAX_CHARS


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".json"))
)
def test_every_fixture_item_has_a_summary_or_its_page_is_fetched(name: str) -> None:
    """The bar for a push: a summary of 40+ characters from the feed, else the article page."""
    url = f"https://fixtures.example/{name}"
    feed = parse_feed((FEEDS / name).read_bytes(), url=url)
    for article in normalize_feed(feed, feed_url=url, fetched_at=WHEN):
        if not article.title:
            continue
        summary = make_summary(article.summary_source, title=article.title)
        assert len(summary) >= MIN_SUMMARY_CHARS or needs_lead(article), article.title
