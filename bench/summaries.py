"""How many alerts would have a real summary, feed by feed, and how many need the article page.

Run: ``python -m bench.summaries``. For every item of every fixture feed: the summary the bot
makes from the feed's own text (``bot.summary.make_summary``), whether it reaches the
40-character bar, and whether the item would have its article page fetched for a lead
(``bot.leads.needs_lead``: on by default, NEWSBOT_ARTICLE_PAGES). Nothing is fetched here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.labelled import FEEDS
from bot.feeds.normalize import normalize_feed
from bot.feeds.parse import parse_feed
from bot.leads import MIN_SUMMARY_CHARS, needs_lead
from bot.summary import make_summary

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def main() -> None:
    print(f"| feed | items | summary ≥ {MIN_SUMMARY_CHARS} chars | page fetched | neither |")
    print("|---|---:|---:|---:|---:|")
    totals = [0, 0, 0, 0]
    for path in sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".json")):
        url = f"https://fixtures.example/{path.name}"
        feed = parse_feed(path.read_bytes(), url=url)
        articles = [a for a in normalize_feed(feed, feed_url=url, fetched_at=NOW) if a.title]
        long_enough = sum(
            len(make_summary(a.summary_source, title=a.title)) >= MIN_SUMMARY_CHARS
            for a in articles
        )
        paged = sum(needs_lead(a) for a in articles)
        neither = len(articles) - long_enough - paged
        counts = (len(articles), long_enough, paged, neither)
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        print(f"| {path.name} | " + " | ".join(str(c) for c in counts) + " |")
    print("| **all** | " + " | ".join(f"**{c}**" for c in totals) + " |")
    print(
        "\n'neither': no usable feed text and no link to fetch; such an alert is the headline "
        "and source alone."
    )


if __name__ == "__main__":
    main()
