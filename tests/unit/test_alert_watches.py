"""An alert a keyword watch brought: which watch it names, and the buttons it offers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.delivery.format import render_story
from bot.i18n import load_locales
from bot.keywords import with_matched_watches
from bot.topics import load_catalogue
from handlers.alerts import alert_keyboard
from storage.records import PendingAlert, Story

T0 = datetime(2026, 10, 4, 6, 0, tzinfo=UTC)
STORY = Story(
    id=1,
    source_id=1,
    source_name="Ukrinform",
    url="https://www.ukrinform.net/1",
    title="Russia loses 1,750 soldiers over past day",
    summary="Russian combat losses rose by 1,750 troops, the General Staff said.",
    categories=("War",),
    published_at=T0,
    first_seen_at=T0,
    topics=frozenset({"russia", "military"}),
)


def _alert(story: Story, watches: tuple[tuple[int, str], ...] = ()) -> PendingAlert:
    return PendingAlert(
        outbox_id=1, chat_id=7, chat_type="private", attempts=0, story=story, watches=watches
    )


def _buttons(alert: PendingAlert) -> list[tuple[str, str]]:
    markup = alert_keyboard(alert, load_catalogue(), load_locales())
    assert markup is not None
    return [(b.text, str(b.callback_data)) for row in markup.inline_keyboard for b in row]


def test_only_the_watches_the_story_satisfies_are_named() -> None:
    watches = ((3, "past day"), (4, "sanctions -iran"), (5, "losses -russian"), (6, "1,750"))
    shown = with_matched_watches(_alert(STORY, watches))
    assert shown.watches == ((3, "past day"), (6, "1,750"))
    assert shown.story.watched == ("past day", "1,750")
    text = render_story(shown.story).text
    assert "🔎 “past day” · “1,750”" in text.splitlines()


def test_a_watched_alert_offers_to_stop_the_watch_not_to_mute_a_topic() -> None:
    shown = with_matched_watches(_alert(STORY, ((3, "past day"),)))
    assert _buttons(shown) == [
        ("More on Russia", "more:russia"),
        ("Stop watching “past day”", "unwatch:3"),
    ]
    # Followed topics keep "Mute"; a story with neither topic nor watch has no buttons.
    assert _buttons(_alert(STORY))[1] == ("Mute Russia", "mute:russia")
    bare = _alert(replace(STORY, topics=frozenset()))
    assert alert_keyboard(bare, load_catalogue(), load_locales()) is None
