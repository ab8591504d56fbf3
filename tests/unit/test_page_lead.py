"""Which feed items need their article page, and what is taken from a page."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.feeds.normalize import Article
from bot.feeds.page import LEAD_MAX_CHARS, extract_lead
from bot.leads import needs_lead

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
