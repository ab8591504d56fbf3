"""parse_feed against every real feed fixture, plus inputs that are not feeds."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.feeds.errors import ParseError
from bot.feeds.parse import ParsedFeed, parse_feed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"

# Entry counts from the fixture README; bozo where the README marks the file
# malformed or the XML parse as failing (feedparser recovers all of them).
EXPECTED_ENTRIES = {
    "lanacion-2022-04-06.rss.xml": (100, False),
    "guardian-us-2018-01-31.rss.xml": (55, False),
    "ilmessaggero-mondo-2022-11-16.rss.xml": (1, False),
    "ilgiornale-cronache-2022-11-15.rss.xml": (1, False),
    "golem-2023-01-25.rss1.0-iso-8859-1.rdf.xml": (1, False),
    "heise-newsticker-2018-10.rss0.90.rdf.xml": (60, False),
    "ibash-org-ru-2018-03-21.windows-1251.rss.xml": (50, False),
    "npr-world-2020-05-29.jsonfeed.json": (3, False),
    "planet-gnome-2020-04-07.atom-xhtml.xml": (1, False),
    "jornal-de-noticias-2018-01-03.iso-8859-1.rss.xml": (40, False),
    "uol-noticias-2018-09-24.malformed-latin1.rss.xml": (15, True),
    "feedparser-test-touchnokia-ru-2009.large-atom.xml": (15, False),
    "feedparser-test-illformed-koi8r-no-encoding.rss.xml": (1, True),
    "feedparser-test-illformed-incomplete-cdata.rss.xml": (1, True),
    "telegraph-uk-2022-04-05.rss.xml": (100, False),
    "guardian-uk-2022-04-05.rss.xml": (115, False),
    "ft-uk-homepage-2022-04-05.rss.xml": (31, False),
    "nyt-homepage-2022-04-05.rss.xml": (63, False),
    "huffpost-frontpage-2022-04-05.rss.xml": (50, False),
    "skynews-home-2022-04-05.rss.xml": (10, False),
    "independent-uk-2025-03-18.leading-newline.rss.xml": (100, True),
    "ft-world-2025-03-18.leading-newline.rss.xml": (25, True),
    "kyivindependent-news-archive-2026-10-04.rss.xml": (15, False),
    "ukrainskapravda-eng-2026-10-04.rss.xml": (20, False),
    "ukrinform-lastnews-2026-10-04.rss.xml": (30, False),
}


def parse_fixture(name: str, *, content_type: str | None = None) -> ParsedFeed:
    return parse_feed(
        (FIXTURES / name).read_bytes(),
        url=f"https://feeds.example.test/{name}",
        content_type=content_type,
    )


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {path.name for path in FIXTURES.iterdir() if path.name != "README.md"}
    assert on_disk == set(EXPECTED_ENTRIES)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED_ENTRIES.items()))
def test_fixture_entry_count_and_bozo(name: str, expected: tuple[int, bool]) -> None:
    count, bozo = expected
    feed = parse_fixture(name)
    assert len(feed.entries) == count
    assert feed.bozo is bozo


@pytest.mark.parametrize("name", sorted(EXPECTED_ENTRIES))
def test_fixture_entries_keep_the_contract(name: str) -> None:
    for entry in parse_fixture(name).entries:
        assert entry.published is None or entry.published.utcoffset() is not None
        assert entry.published is None or entry.published.tzinfo == UTC
        assert all(term and term == term.strip() for term in entry.categories)
        assert entry.guid is None or (entry.guid and entry.guid == entry.guid.strip())
        assert entry.link is None or (entry.link and entry.link == entry.link.strip())


def test_rss090_heise_has_no_guids_and_no_dates() -> None:
    feed = parse_fixture("heise-newsticker-2018-10.rss0.90.rdf.xml")
    assert feed.title == "heise online News"
    assert feed.link == "https://www.heise.de/newsticker/"
    first = feed.entries[0]
    assert first.title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
    assert first.link == (
        "https://www.heise.de/newsticker/meldung/"
        "OLED-TVs-Vorsichtsmassnahmen-gegen-Einbrennen-4205274.html?wt_mc=rss.ho.beitrag.rdf"
    )
    assert first.summary.startswith("Wer gerade einen neuen OLED-Fernseher gekauft hat")
    assert all(entry.guid is None and entry.published is None for entry in feed.entries)
    assert (
        feed.entries[-1].title == "Mi Mix 3: Xiaomi-Flaggschiff mit Kamera-Slider und 10 GByte RAM"
    )


def test_rss10_golem_iso_8859_1_with_dc_date_offset() -> None:
    feed = parse_fixture("golem-2023-01-25.rss1.0-iso-8859-1.rdf.xml")
    assert feed.title == "Golem.de"
    (entry,) = feed.entries
    assert entry.title == "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse"
    assert entry.link == (
        "https://www.golem.de/news/"
        "digitalministerium-neue-glasfaserfoerderung-mit-schnellkasse-2301-171451.html"
    )
    # <dc:date>2023-01-25T19:03:02+01:00</dc:date>
    assert entry.published == datetime(2023, 1, 25, 18, 3, 2, tzinfo=UTC)


def test_windows_1251_ibash_decodes_cyrillic_and_converts_plus_0300() -> None:
    feed = parse_fixture("ibash-org-ru-2018-03-21.windows-1251.rss.xml")
    first = feed.entries[0]
    assert first.title == "Цитата #17703"
    assert first.link == "http://ibash.org.ru/quote.php?id=17703"
    # Wed, 21 Mar 2018 10:27:32 +0300
    assert first.published == datetime(2018, 3, 21, 7, 27, 32, tzinfo=UTC)


def test_http_charset_is_passed_to_feedparser() -> None:
    # The HTTP charset outranks the XML declaration (RFC 7303), so a wrong one shows.
    body = (FIXTURES / "ibash-org-ru-2018-03-21.windows-1251.rss.xml").read_bytes()
    declared = parse_feed(body, url="https://x.test/", content_type="application/rss+xml")
    overridden = parse_feed(
        body, url="https://x.test/", content_type="application/rss+xml; charset=iso-8859-1"
    )
    assert declared.entries[0].title == "Цитата #17703"
    assert overridden.entries[0].title != "Цитата #17703"


def test_atom_xhtml_planet_gnome() -> None:
    feed = parse_fixture("planet-gnome-2020-04-07.atom-xhtml.xml")
    assert feed.title == "Planet GNOME"
    (entry,) = feed.entries
    assert entry.title == "High resolution wheel scrolling in the desktop stack"
    assert entry.guid == "tag:blogger.com,1999:blog-6112936277054198647.post-1097972507907717676"
    # The entry has no <link>; its tag: id must not be passed off as one.
    assert entry.link is None
    assert entry.content.startswith("<p>This is a follow up from <a href=")
    assert "REL_WHEEL_HI_RES" in entry.content
    assert entry.published == datetime(2020, 4, 4, 4, 0, tzinfo=UTC)
    assert entry.categories == ("libinput. wayland",)


def test_large_atom_touchnokia_cyrillic_categories() -> None:
    first = parse_fixture("feedparser-test-touchnokia-ru-2009.large-atom.xml").entries[0]
    assert first.title == "Невидимая броня для Вашего Nokia 5800"
    assert (
        first.link == "http://touchnokia.ru/2009/09/nevidimaja-bronja-dlja-vashego-nokia-5800.html"
    )
    assert first.categories[:2] == ("Новости", "5800")
    assert first.published == datetime(2009, 9, 9, 14, 19, 45, tzinfo=UTC)
    assert first.content.strip()


def test_json_feed_npr() -> None:
    feed = parse_fixture("npr-world-2020-05-29.jsonfeed.json")
    assert feed.title == "World"
    assert feed.link == "https://www.npr.org/sections/world/?utm_medium=JSONFeed&utm_campaign=world"
    first = feed.entries[0]
    assert first.guid == "865816855"
    assert first.title == (
        "Trump Says U.S. Will Withdraw From WHO. Does He Have The Authority To Do It?"
    )
    assert first.link is not None
    assert first.link.startswith("https://www.npr.org/sections/goatsandsoda/2020/05/29/865816855/")
    assert first.link.endswith("?utm_medium=JSONFeed&utm_campaign=world")
    assert first.summary.startswith("In a press conference on Friday")
    assert "npr-rss-pixel.png" in first.content
    # date_published "2020-05-29T19:30:03-04:00"
    assert first.published == datetime(2020, 5, 29, 23, 30, 3, tzinfo=UTC)
    assert first.categories[:2] == ("COVID-19", "President Trump")
    assert any(entry.title.startswith("Moscow Doubles") for entry in feed.entries)


def test_json_feed_is_detected_by_its_bytes_whatever_the_content_type() -> None:
    feed = parse_fixture("npr-world-2020-05-29.jsonfeed.json", content_type="text/plain")
    assert len(feed.entries) == 3


def test_json_feed_1_1_fields_and_fallbacks() -> None:
    body = b"""\xef\xbb\xbf
      {"version": "https://jsonfeed.org/version/1.1", "title": "T",
       "items": [
         {"id": 42, "external_url": "https://elsewhere.test/a", "title": "A",
          "content_text": "plain body", "date_modified": "2024-02-29T23:59:59Z",
          "tags": ["x", " ", "  y  ", "x", 3]},
         {"id": "b", "url": "/relative", "date_published": "yesterday"},
         "not an object"
       ]}"""
    feed = parse_feed(body, url="https://j.test/feed.json", content_type="application/feed+json")
    assert feed.title == "T"
    assert feed.link is None
    assert feed.bozo is True
    first, second = feed.entries
    assert first.guid == "42"
    assert first.link == "https://elsewhere.test/a"
    assert first.content == "plain body"
    assert first.summary == ""
    assert first.published == datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert first.categories == ("x", "y")
    assert second.link == "/relative"
    assert second.title == ""
    assert second.published is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": "1", "items": []}',
        b'{"title": "no version"}',
        b'{"version": "https://jsonfeed.org/version/1", "items": {}}',
        b'{"version": "https://jsonfeed.org/version/1", "items": [',
    ],
)
def test_json_that_is_not_a_json_feed_raises(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, url="https://j.test/feed.json", content_type="application/json")
    assert caught.value.url == "https://j.test/feed.json"


def test_rss_with_relative_links_ft_keeps_them_as_written() -> None:
    feed = parse_fixture("ft-uk-homepage-2022-04-05.rss.xml")
    assert feed.link == "https://www.ft.com"
    first = feed.entries[0]
    assert first.title == "Brussels prepares ban on Russian coal imports and transport operators"
    assert first.link == "/content/c57f1115-2f03-4022-8eaf-8a7145f0e694"
    assert first.guid == "c57f1115-2f03-4022-8eaf-8a7145f0e694"
    assert all(entry.link and entry.link.startswith("/content/") for entry in feed.entries)


def test_leading_newline_ft_world_is_recovered() -> None:
    feed = parse_fixture("ft-world-2025-03-18.leading-newline.rss.xml")
    assert feed.bozo is True
    first = feed.entries[0]
    assert first.title == "‘If Trump defies a Supreme Court order, will it matter to markets?’"
    assert first.link == "https://www.ft.com/content/2e579290-fc0c-4b88-8703-f0bae45266d9"
    assert first.published == datetime(2025, 3, 18, 23, 34, 47, tzinfo=UTC)


def test_leading_newline_independent_is_recovered() -> None:
    feed = parse_fixture("independent-uk-2025-03-18.leading-newline.rss.xml")
    assert feed.title == "The Independent"
    first = feed.entries[0]
    assert first.guid == "b2717229"
    assert first.link == (
        "https://www.independent.co.uk/news/world/americas/us-politics/"
        "jfk-files-released-assassination-trump-b2717229.html"
    )
    assert first.categories == ("US politics", "Americas", "World")


def test_huffpost_with_html_meta_and_minus_0400_dates() -> None:
    feed = parse_fixture("huffpost-frontpage-2022-04-05.rss.xml")
    assert feed.title == "HuffPost - Breaking News, U.S. and World News"
    first = feed.entries[0]
    assert first.title == "Oklahoma House Sends Aggressive Abortion Ban To Governor"
    assert first.link == (
        "https://www.huffpost.com/entry/bc-us-abortion-ban-oklahoma_n_624c70a6e4b007d3845bbc30"
    )
    # Tue, 05 Apr 2022 12:48:57 -0400
    assert first.published == datetime(2022, 4, 5, 16, 48, 57, tzinfo=UTC)
    # Its content:encoded elements are empty.
    assert first.content == ""


def test_skynews_plus_0100_dates() -> None:
    first = parse_fixture("skynews-home-2022-04-05.rss.xml").entries[0]
    assert first.title.startswith("Some 1,200 war crimes registered in Kyiv region")
    # Tue, 05 Apr 2022 21:12:00 +0100
    assert first.published == datetime(2022, 4, 5, 20, 12, tzinfo=UTC)


def test_kyiv_independent_categories() -> None:
    feed = parse_fixture("kyivindependent-news-archive-2026-10-04.rss.xml")
    first = feed.entries[0]
    assert first.guid == "6ac1ddbe9780d3006a1eb0c4"
    assert first.categories == (
        "Russia",
        "War",
        "Lukoil",
        "US sanctions",
        "Oil",
        "Russian oil",
        "Sanctions against Russia",
        "Russian economy",
        "Peace talks",
        "Ukraine",
    )
    assert max(len(entry.categories) for entry in feed.entries) == 11
    assert first.published == datetime(2026, 10, 4, 5, 9, 13, tzinfo=UTC)


def test_ukrinform_category_with_trailing_space_is_stripped() -> None:
    feed = parse_fixture("ukrinform-lastnews-2026-10-04.rss.xml")
    assert feed.title == "Latest news"
    assert any(entry.categories == ("Society and Culture",) for entry in feed.entries)
    first = feed.entries[0]
    assert first.guid == "4170803"
    # Sun, 04 Oct 2026 08:40:00 +0300
    assert first.published == datetime(2026, 10, 4, 5, 40, tzinfo=UTC)


def test_ukrainskapravda_full_content_and_the_empty_item() -> None:
    feed = parse_fixture("ukrainskapravda-eng-2026-10-04.rss.xml")
    first = feed.entries[0]
    assert first.title == "German chancellor arrives in Kyiv"
    assert len(first.content) > len(first.summary) > 0
    (empty,) = [e for e in feed.entries if e.title.startswith("Donnyland abandoned")]
    assert empty.summary == ""
    assert empty.content == ""


def test_telegraph_items_have_no_description() -> None:
    first = parse_fixture("telegraph-uk-2022-04-05.rss.xml").entries[0]
    assert first.title == "Why letting your dog lick your face might render antibiotics useless"
    assert first.summary == ""
    assert first.content == ""
    assert "topics:things/dogs" in first.categories


def test_nyt_keyword_categories() -> None:
    feed = parse_fixture("nyt-homepage-2022-04-05.rss.xml")
    assert feed.entries[0].title == "US Blocks Russia’s Access to Dollars for Bond Payments"
    tagged = [e for e in feed.entries if "Russian Invasion of Ukraine (2022)" in e.categories]
    assert len(tagged) == 12


def test_guardian_uk_escaped_html_description_and_categories() -> None:
    first = parse_fixture("guardian-uk-2022-04-05.rss.xml").entries[0]
    assert first.title.startswith("Russia-Ukraine war latest: Russian foreign minister")
    assert first.categories[:4] == ("Ukraine", "Russia", "Europe", "World news")
    assert "<p>" in first.summary
    assert first.published == datetime(2022, 4, 5, 21, 53, 47, tzinfo=UTC)


def test_guardian_us() -> None:
    first = parse_fixture("guardian-us-2018-01-31.rss.xml").entries[0]
    assert first.title == "Trump State of the Union address promised unity but emphasized discord"
    assert first.guid == first.link
    assert first.published == datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC)


def test_lanacion_content_encoded() -> None:
    first = parse_fixture("lanacion-2022-04-06.rss.xml").entries[0]
    assert first.title.startswith("El Gobierno aumentó un 50% el monto de la Tarjeta Alimentar")
    assert first.categories == ("Política",)
    assert len(first.content) > 1000
    assert first.published == datetime(2022, 4, 6, 22, 48, 39, tzinfo=UTC)


def test_feedburner_origlink_is_preferred_jornal_de_noticias() -> None:
    feed = parse_fixture("jornal-de-noticias-2018-01-03.iso-8859-1.rss.xml")
    assert feed.title == "Jornal de Notícias - Últimas Notícias"
    first = feed.entries[0]
    assert first.title == "Mãe de utente é a nova presidente da Raríssimas"
    assert first.link == (
        "https://www.jn.pt/nacional/interior/sonia-laig-e-a-nova-presidente-da-rarissimas-9021600.html"
    )
    assert first.guid is None
    # "Wed, 03 Jan 2018 13:47:00 GMT\r\n      " still parses.
    assert first.published == datetime(2018, 1, 3, 13, 47, tzinfo=UTC)
    assert all(entry.link and "/~r/" not in entry.link for entry in feed.entries)


def test_italian_dates_are_none_ilmessaggero() -> None:
    (entry,) = parse_fixture("ilmessaggero-mondo-2022-11-16.rss.xml").entries
    assert (
        entry.title
        == "Missili Polonia, cosa è successo? Tensione Nato-Russia, Mosca: non siamo stati noi"
    )
    assert entry.published is None
    assert entry.categories == ("Mondo",)


def test_z_zone_date_ilgiornale() -> None:
    (entry,) = parse_fixture("ilgiornale-cronache-2022-11-15.rss.xml").entries
    assert entry.published == datetime(2022, 11, 15, 20, 15, 4, tzinfo=UTC)
    assert entry.categories == ("Cronaca nera",)


def test_malformed_latin1_uol_is_recovered() -> None:
    feed = parse_fixture("uol-noticias-2018-09-24.malformed-latin1.rss.xml")
    first = feed.entries[0]
    assert first.title == (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )
    assert first.link is not None
    assert first.link.startswith("https://noticias.uol.com.br/politica/eleicoes/2018/")
    # Portuguese day and month names: "Seg, 24 Set 2018 19:42:40 -0300".
    assert all(entry.published is None for entry in feed.entries)


def test_illformed_feedparser_cases() -> None:
    koi8r = parse_fixture("feedparser-test-illformed-koi8r-no-encoding.rss.xml")
    (entry,) = koi8r.entries
    assert entry.title  # mojibake without chardet, but present
    assert entry.link is None
    assert entry.guid is None
    truncated = parse_fixture("feedparser-test-illformed-incomplete-cdata.rss.xml")
    assert truncated.title == "can feedparser read this xml"
    assert truncated.link == "http://adcdefgh.com"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  \n\t ",
        b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>hi</p></body></html>",
        b"\x00\x01garbage\xff\xfe",
        b"not a feed at all",
        b"<html><body><rss><channel><item><title>x",
        b"[1, 2, 3]",
    ],
)
def test_not_a_feed_raises(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, url="https://example.test/", content_type="text/html")


def test_empty_valid_rss_has_zero_entries() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        b"<title>Quiet</title><link>https://quiet.test/</link><description>d</description>"
        b"</channel></rss>"
    )
    feed = parse_feed(body, url="https://quiet.test/rss")
    assert feed == ParsedFeed(title="Quiet", link="https://quiet.test/", entries=(), bozo=False)


def test_empty_valid_atom_has_zero_entries() -> None:
    body = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>None yet</title></feed>'
    feed = parse_feed(body, url="https://quiet.test/atom")
    assert feed.entries == ()
    assert feed.title == "None yet"


def test_truncated_feed_without_title_or_entries_raises() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><ti'
    with pytest.raises(ParseError):
        parse_feed(body, url="https://cut.test/rss")


def test_permalink_guid_stands_in_for_a_missing_link_but_a_bare_id_does_not() -> None:
    body = (
        b'<rss version="2.0"><channel><title>G</title>'
        b"<item><title>a</title><guid>https://g.test/a</guid></item>"
        b"<item><title>b</title><guid>0b8d2f</guid></item>"
        b"</channel></rss>"
    )
    first, second = parse_feed(body, url="https://g.test/rss").entries
    assert (first.guid, first.link) == ("https://g.test/a", "https://g.test/a")
    assert (second.guid, second.link) == ("0b8d2f", None)
