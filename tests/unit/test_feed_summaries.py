"""Summaries of real feed items: what feedparser hands over must not leak hidden markup text."""

from __future__ import annotations

from bench.labelled import feed_articles
from bot.summary import html_to_text, make_summary


def test_template_tooltips_do_not_leak_into_the_text() -> None:
    # Ukrainska Pravda explains "hromadas" in a <template> tooltip; feedparser's sanitiser used
    # to drop the tag and keep its text, mid-sentence.
    articles = feed_articles("ukrainskapravda-eng-2026-10-04.rss.xml")
    (article,) = (a for a in articles.values() if "Dnipropetrovsk Oblast over 40" in a.title)
    text = html_to_text(article.summary_source)
    assert "Chervonohryhorivka and Pokrovske hromadas came under attack" in text
    assert "administrative unit" not in text
    summary = make_summary(article.summary_source, title=article.title)
    assert summary.startswith("Three people were injured in Russian attacks")
    assert 40 <= len(summary) <= 350
