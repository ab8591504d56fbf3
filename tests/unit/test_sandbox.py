"""The sandbox's pure parts: cutting and restamping replayed feeds, and what a chat shows."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.feeds.normalize import canonical_url
from bot.feeds.parse import parse_feed
from bot.sandbox.chatlog import ChatLog, chat_event
from bot.sandbox.replay import BUNDLED_FEEDS, item_title, restamp, split_feed

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title><![CDATA[First & best]]></title><link>https://e.com/a?id=1</link>"
    b'<guid isPermaLink="false"><![CDATA[g1]]></guid>'
    b"<pubDate>Sun, 04 Oct 2026 08:40:00 +0300</pubDate></item>"
    b"<item><title>Second</title><link>https://e.com/b</link><guid>g2</guid></item>"
    b"</channel></rss>"
)


def test_split_feed_keeps_every_byte_and_every_bundled_feed_splits() -> None:
    parts = split_feed(FEED)
    assert len(parts.items) == 2
    assert parts.with_items(parts.items) == FEED
    assert b"<item>" not in parts.with_items([])
    for feed in BUNDLED_FEEDS:
        body = feed.read()
        bundled = split_feed(body)
        assert len(bundled.items) >= 15
        rebuilt = parse_feed(bundled.with_items(bundled.items), url="https://e.com/")
        original = parse_feed(body, url="https://e.com/")
        assert rebuilt.entries == original.entries and not rebuilt.bozo


def test_restamp_publishes_now_and_marks_replays_as_new_stories() -> None:
    first = split_feed(FEED).items[0]
    fresh = restamp(first, NOW)
    assert b"<pubDate>Wed, 02 Jan 2030 03:04:05 +0000</pubDate>" in fresh
    assert b"g1]]></guid>" in fresh and b"sandbox_replay" not in fresh

    again = restamp(first, NOW, replay_round=2)
    assert b"<![CDATA[g1#sandbox_replay=2]]>" in again
    assert b"<link>https://e.com/a?id=1&sandbox_replay=2</link>" in again
    second = restamp(split_feed(FEED).items[1], NOW, replay_round=3)
    assert b"<link>https://e.com/b?sandbox_replay=3</link>" in second
    # The bot's own parser and canonicaliser see a different story, published now.
    parsed = parse_feed(split_feed(FEED).with_items([again]), url="https://e.com/feed")
    (entry,) = parsed.entries
    assert entry.guid == "g1#sandbox_replay=2" and entry.published == NOW
    assert entry.link is not None
    assert canonical_url(entry.link) != canonical_url("https://e.com/a?id=1")
    assert item_title(first) == "First & best"


def test_chat_event_keeps_text_entities_and_safe_buttons_only() -> None:
    event = chat_event(
        {
            "direction": "outgoing",
            "method": "editmessagetext",
            "chat_id": 7,
            "payload": {
                "message_id": 3,
                "date": 1,
                "from": {"first_name": "newsbot"},
                "text": "Hi there",
                "edit_date": 2,
                "entities": [
                    {"type": "bold", "offset": 0, "length": 2},
                    {"type": "text_link", "offset": 3, "length": 5, "url": "javascript:alert(1)"},
                ],
                "reply_markup": {
                    "inline_keyboard": [
                        [{"text": "Go", "callback_data": "sub:x"}],
                        [{"text": "Site", "url": "javascript:alert(1)"}],
                    ]
                },
            },
        }
    )
    assert event is not None
    message = event["message"]
    assert message["from"] == "bot" and message["edited"] is True
    assert message["entities"][1] == {"type": "text_link", "offset": 3, "length": 5}
    assert message["buttons"] == [[{"text": "Go", "data": "sub:x"}], [{"text": "Site"}]]


def test_chat_event_for_users_answers_and_what_a_chat_does_not_show() -> None:
    update = {"update_id": 1, "message": {"message_id": 1, "text": "/start", "from": {}}}
    incoming = {"direction": "incoming", "method": "message", "chat_id": 5, "payload": update}
    shown = chat_event(incoming)
    assert shown is not None and shown["message"]["from"] == "user"
    answer = chat_event(
        {
            "direction": "outgoing",
            "method": "answercallbackquery",
            "chat_id": 5,
            "payload": {"callback_query_id": "1", "text": "Done", "show_alert": "true"},
        }
    )
    assert answer == {"type": "answer", "chat_id": 5, "text": "Done", "show_alert": True}
    callback = {"direction": "incoming", "method": "callback_query", "chat_id": 5, "payload": {}}
    assert chat_event(callback) is None
    typing = {"direction": "outgoing", "method": "sendchataction", "chat_id": 5, "payload": {}}
    assert chat_event(typing) is None


def test_chat_log_replaces_edits_in_place_and_hands_out_consistent_snapshots() -> None:
    log = ChatLog(limit=2)

    def message(message_id: int, text: str) -> dict[str, object]:
        return {"type": "message", "chat_id": 1, "message": {"id": message_id, "text": text}}

    log.apply(message(1, "a"))
    snapshot, queue = log.listen()
    assert [e["message"]["text"] for e in snapshot] == ["a"]
    log.apply(message(2, "b"))
    log.apply(message(1, "a, edited"))
    assert [m["text"] for m in log.history(1)] == ["a, edited", "b"]
    log.apply(message(3, "c"))  # over the limit: the oldest goes
    assert [m["id"] for m in log.history(1)] == [2, 3]
    log.apply({"type": "delete", "chat_id": 1, "message_id": 2})
    assert [m["id"] for m in log.history(1)] == [3]
    assert queue.qsize() == 4
    log.unlisten(queue)
    log.apply(message(4, "d"))
    assert queue.qsize() == 4
