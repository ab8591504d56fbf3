"""canonical_url, normalize_entry and normalize_feed, on hand-made entries and real fixtures."""

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.feeds.normalize import Article, canonical_url, normalize_entry, normalize_feed
from bot.feeds.parse import ParsedFeed, RawEntry, parse_feed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
FETCHED_AT = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


def fixture_feed(name: str, feed_url: str) -> ParsedFeed:
    return parse_feed((FIXTURES / name).read_bytes(), url=feed_url)


def raw_entry(
    *,
    guid: str | None = None,
    link: str | None = "https://news.test/a",
    title: str = "A title",
    summary: str = "",
    content: str = "",
    published: datetime | None = None,
    categories: tuple[str, ...] = (),
) -> RawEntry:
    return RawEntry(guid, link, title, summary, content, published, categories)


def normalize(entry: RawEntry, *, feed_link: str | None = "https://news.test/") -> Article | None:
    return normalize_entry(
        entry, feed_link=feed_link, feed_url="https://feeds.news.test/rss", fetched_at=FETCHED_AT
    )


CANONICAL_CASES = [
    # tracking parameters go, the rest stay in order and as spelled
    (
        "https://news.test/a?utm_source=rss&id=5&UTM_Medium=x&fbclid=1&q=a%20b&gclid=2",
        "https://news.test/a?id=5&q=a%20b",
    ),
    ("https://news.test/a?b=2&a=1&b=3&flag", "https://news.test/a?b=2&a=1&b=3&flag"),
    ("https://news.test/a?utm_campaign=x&mc_cid=1&mc_eid=2", "https://news.test/a"),
    ("https://news.test/a?at_medium=RSS&at_campaign=KARANGA&page=2", "https://news.test/a?page=2"),
    ("https://news.test/a?ocid=msn&cmpid=rss&CMPID=x&wt_mc=rss.ho", "https://news.test/a"),
    ("https://news.test/a?ref=home", "https://news.test/a?ref=home"),
    # fragment, case, default ports, empty path, whitespace
    ("https://news.test/a#comments", "https://news.test/a"),
    ("HTTPS://News.Test/Path/Keeps/Case", "https://news.test/Path/Keeps/Case"),
    ("https://news.test:443/a", "https://news.test/a"),
    ("http://news.test:80/a", "http://news.test/a"),
    ("http://news.test:443/a", "http://news.test:443/a"),
    ("https://news.test:8443/a", "https://news.test:8443/a"),
    ("http://[::1]:80/a", "http://[::1]/a"),
    ("https://news.test", "https://news.test/"),
    ("  \n https://news.test/a \t", "https://news.test/a"),
    # http is not upgraded
    ("http://news.test/a", "http://news.test/a"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL_CASES)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("expected", [expected for _, expected in CANONICAL_CASES])
def test_canonical_url_is_idempotent(expected: str) -> None:
    assert canonical_url(expected) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/content/c57f", "https://www.ft.com", "https://www.ft.com/content/c57f"),
        ("story.html", "https://news.test/world/", "https://news.test/world/story.html"),
        ("../b?utm_source=x", "https://news.test/world/a", "https://news.test/b"),
        ("//cdn.news.test/x", "https://news.test/", "https://cdn.news.test/x"),
        ("https://other.test/x", "https://news.test/", "https://other.test/x"),
        ("/x#top", "HTTP://NEWS.TEST:80/", "http://news.test/x"),
    ],
)
def test_canonical_url_resolves_against_base(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base=base) == expected


def test_heise_has_no_guids_or_dates_so_link_and_fetch_time_stand_in() -> None:
    feed = fixture_feed("heise-newsticker-2018-10.rss0.90.rdf.xml", "https://www.heise.de/rss")
    articles = normalize_feed(feed, feed_url="https://www.heise.de/rss", fetched_at=FETCHED_AT)
    assert len(articles) == 60
    first = articles[0]
    assert first.url == (
        "https://www.heise.de/newsticker/meldung/"
        "OLED-TVs-Vorsichtsmassnahmen-gegen-Einbrennen-4205274.html"
    )
    assert first.guid == first.url
    assert first.title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
    assert all(article.published_at == FETCHED_AT for article in articles)
    assert not any("wt_mc" in article.url for article in articles)


def test_ft_relative_links_resolve_against_the_channel_link_not_the_feed_host() -> None:
    feed_url = "https://sample-feeds.rowanmanning.com/real-world/66aa/feed.xml"
    feed = fixture_feed("ft-uk-homepage-2022-04-05.rss.xml", feed_url)
    articles = normalize_feed(feed, feed_url=feed_url, fetched_at=FETCHED_AT)
    assert len(articles) == 31
    assert articles[0].url == "https://www.ft.com/content/c57f1115-2f03-4022-8eaf-8a7145f0e694"
    assert articles[0].guid == "c57f1115-2f03-4022-8eaf-8a7145f0e694"
    assert all(a.url.startswith("https://www.ft.com/content/") for a in articles)


def test_relative_link_falls_back_to_the_feed_url_without_a_channel_link() -> None:
    article = normalize(raw_entry(link="/content/x"), feed_link=None)
    assert article is not None
    assert article.url == "https://feeds.news.test/content/x"


def test_relative_channel_link_is_resolved_against_the_feed_url() -> None:
    article = normalize(raw_entry(link="story"), feed_link="/world/")
    assert article is not None
    assert article.url == "https://feeds.news.test/world/story"


def test_feedburner_origlink_jornal_de_noticias() -> None:
    feed_url = "http://feeds.jn.pt/JN-ULTIMAS"
    feed = fixture_feed("jornal-de-noticias-2018-01-03.iso-8859-1.rss.xml", feed_url)
    articles = normalize_feed(feed, feed_url=feed_url, fetched_at=FETCHED_AT)
    assert len(articles) == 40
    first = articles[0]
    assert first.url == (
        "https://www.jn.pt/nacional/interior/sonia-laig-e-a-nova-presidente-da-rarissimas-9021600.html"
    )
    # No <guid> in this feed: the canonical URL is the identity.
    assert first.guid == first.url
    assert first.published_at == datetime(2018, 1, 3, 13, 47, tzinfo=UTC)
    assert all(a.url.startswith("https://www.jn.pt/") for a in articles)


def test_npr_json_feed_links_lose_utm_parameters() -> None:
    feed_url = "https://feeds.npr.org/1004/feed.json"
    feed = fixture_feed("npr-world-2020-05-29.jsonfeed.json", feed_url)
    articles = normalize_feed(feed, feed_url=feed_url, fetched_at=FETCHED_AT)
    assert [a.guid for a in articles] == ["865816855", "864892887", "865044503"]
    assert articles[0].url == (
        "https://www.npr.org/sections/goatsandsoda/2020/05/29/865816855/"
        "trump-says-u-s-will-withdraw-from-who-does-he-have-the-authority-to-do-it"
    )
    assert all("utm_" not in a.url for a in articles)


def test_guardian_times_after_the_fetch_are_clamped_the_rest_kept() -> None:
    feed_url = "https://www.theguardian.com/uk/rss"
    feed = fixture_feed("guardian-uk-2022-04-05.rss.xml", feed_url)
    fetched_at = datetime(2022, 4, 5, 12, 0, tzinfo=UTC)
    articles = normalize_feed(feed, feed_url=feed_url, fetched_at=fetched_at)
    by_guid = {entry.guid: entry.published for entry in feed.entries}
    clamped = kept = 0
    for article in articles:
        published = by_guid[article.guid]
        assert published is not None
        if published > fetched_at + timedelta(minutes=10):
            assert article.published_at == fetched_at
            clamped += 1
        else:
            assert article.published_at == published
            kept += 1
    assert clamped > 0
    assert kept > 0


@pytest.mark.parametrize(
    ("offset", "clamped"),
    [
        (timedelta(minutes=9, seconds=59), False),
        (timedelta(minutes=10), False),
        (timedelta(minutes=10, seconds=1), True),
        (timedelta(days=400), True),
        (-timedelta(days=3), False),
    ],
)
def test_future_times_are_clamped_to_fetched_at(offset: timedelta, clamped: bool) -> None:
    article = normalize(raw_entry(published=FETCHED_AT + offset))
    assert article is not None
    assert article.published_at == (FETCHED_AT if clamped else FETCHED_AT + offset)


def test_fetched_at_in_another_zone_is_converted_and_naive_is_refused() -> None:
    kyiv = timezone(timedelta(hours=3))
    article = normalize_entry(
        raw_entry(),
        feed_link=None,
        feed_url="https://f.test/",
        fetched_at=FETCHED_AT.astimezone(kyiv),
    )
    assert article is not None
    assert article.published_at == FETCHED_AT
    assert article.published_at.tzinfo == UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_entry(
            raw_entry(),
            feed_link=None,
            feed_url="https://f.test/",
            fetched_at=FETCHED_AT.replace(tzinfo=None),
        )


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("In Italia l&amp;#39;uomo è accusato", "In Italia l'uomo è accusato"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("&lt;em&gt;Escaped&lt;/em&gt; markup", "Escaped markup"),
        ("<b>Bold</b> move<br/>now", "Bold move now"),
        ("Rus<i>sia</i>'s <p>turn</p>", "Russia's turn"),
        ("\n      Padded   title\twith\u00a0space  \n", "Padded title with space"),
        ("Rates < 5% & > 2%", "Rates < 5% & > 2%"),
        ("Caf&eacute; &#8220;quoted&#8221;", "Café “quoted”"),
        ("<!-- comment -->Visible", "Visible"),
        ("", ""),
    ],
)
def test_title_is_plain_text(raw: str, plain: str) -> None:
    article = normalize(raw_entry(title=raw))
    assert article is not None
    assert article.title == plain


def test_entry_with_neither_title_nor_link_is_dropped() -> None:
    assert normalize(raw_entry(title="  <br/> ", link=None)) is None
    assert normalize(raw_entry(title="", link="   ")) is None


def test_link_only_entry_keeps_an_empty_title() -> None:
    article = normalize(raw_entry(title="", link="https://news.test/x"))
    assert article is not None
    assert (article.title, article.url, article.guid) == ("", "https://news.test/x", article.url)


def test_guid_fallback_hash_is_stable_across_fetches_and_depends_on_title_and_time() -> None:
    published = datetime(2024, 1, 1, tzinfo=UTC)
    entry = raw_entry(link=None, title="Only a title", published=published)
    first = normalize_entry(
        entry, feed_link=None, feed_url="https://f.test/", fetched_at=FETCHED_AT
    )
    later = normalize_entry(
        entry,
        feed_link=None,
        feed_url="https://f.test/",
        fetched_at=FETCHED_AT + timedelta(hours=1),
    )
    assert first is not None and later is not None
    assert re.fullmatch(r"sha1:[0-9a-f]{40}", first.guid)
    assert first.guid == later.guid
    assert first.url == ""
    other_title = normalize(raw_entry(link=None, title="Another title", published=published))
    other_time = normalize(raw_entry(link=None, title="Only a title", published=None))
    assert other_title is not None and other_time is not None
    assert len({first.guid, other_title.guid, other_time.guid}) == 3


def test_feed_guid_wins_over_the_url() -> None:
    article = normalize(raw_entry(guid="abc-123", link="https://news.test/a?utm_source=x"))
    assert article is not None
    assert (article.guid, article.url) == ("abc-123", "https://news.test/a")


@pytest.mark.parametrize(
    ("summary", "content", "expected"),
    [
        ("Short summary.", "<p>A much longer body that says more.</p>", "content"),
        ("A real description.", "", "summary"),
        ("A real description.", '<p></p><img src="https://t.test/pixel.png"/>', "summary"),
        ("Same text", "<p>Same text</p>", "summary"),
        ("  \n ", "   ", "empty"),
    ],
)
def test_summary_source_prefers_the_more_useful_text(
    summary: str, content: str, expected: str
) -> None:
    article = normalize(raw_entry(summary=summary, content=content))
    assert article is not None
    wanted = {"content": content.strip(), "summary": summary.strip(), "empty": ""}[expected]
    assert article.summary_source == wanted


def test_summary_source_on_real_feeds() -> None:
    pravda = fixture_feed(
        "ukrainskapravda-eng-2026-10-04.rss.xml", "https://www.pravda.com.ua/eng/rss"
    )
    articles = normalize_feed(pravda, feed_url="https://x.test/", fetched_at=FETCHED_AT)
    assert articles[0].summary_source == pravda.entries[0].content.strip()
    huffpost = fixture_feed(
        "huffpost-frontpage-2022-04-05.rss.xml", "https://www.huffpost.com/feed"
    )
    articles = normalize_feed(huffpost, feed_url="https://x.test/", fetched_at=FETCHED_AT)
    assert articles[0].summary_source == ""


def test_categories_pass_through() -> None:
    feed_url = "https://kyivindependent.com/news-archive/rss/"
    feed = fixture_feed("kyivindependent-news-archive-2026-10-04.rss.xml", feed_url)
    articles = normalize_feed(feed, feed_url=feed_url, fetched_at=FETCHED_AT)
    assert articles[0].categories[:4] == ("Russia", "War", "Lukoil", "US sanctions")


def test_normalize_feed_dedupes_by_guid_and_by_url_keeping_the_first() -> None:
    feed = ParsedFeed(
        title="F",
        link="https://news.test/",
        entries=(
            raw_entry(guid="1", link="https://news.test/a", title="first"),
            raw_entry(guid="1", link="https://news.test/other", title="same guid"),
            raw_entry(guid="2", link="https://NEWS.test/a?utm_source=x#c", title="same url"),
            raw_entry(guid="3", link=None, title="no link"),
            raw_entry(guid="4", link=None, title="no link either"),
            raw_entry(guid="5", link=None, title=""),
            raw_entry(guid="6", link="/b", title="last"),
        ),
        bozo=False,
    )
    articles = normalize_feed(feed, feed_url="https://feeds.news.test/rss", fetched_at=FETCHED_AT)
    assert [(a.guid, a.title) for a in articles] == [
        ("1", "first"),
        ("3", "no link"),
        ("4", "no link either"),
        ("6", "last"),
    ]
    assert articles[-1].url == "https://news.test/b"


FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.name != "README.md")


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_normalises_to_unique_clean_articles(name: str) -> None:
    feed_url = f"https://feeds.example.test/{name}"
    feed = fixture_feed(name, feed_url)
    articles = normalize_feed(feed, feed_url=feed_url, fetched_at=FETCHED_AT)
    # Only the truncated feedparser test has an entry with neither title nor link.
    truncated = name == "feedparser-test-illformed-incomplete-cdata.rss.xml"
    assert len(articles) == (0 if truncated else len(feed.entries))
    assert len({a.guid for a in articles}) == len(articles)
    assert len({a.url for a in articles if a.url}) == len([a for a in articles if a.url])
    for article in articles:
        assert article.title == article.title.strip()
        assert "<" not in article.title or " < " in article.title
        assert article.published_at.tzinfo == UTC
        assert article.published_at <= FETCHED_AT + timedelta(minutes=10)
        assert article.url == "" or re.match(r"https?://[a-z0-9.-]+/", article.url)
        assert "utm_" not in article.url
