"""Property: no text a user can send makes a handler fail or answer something Telegram would
reject. The real Application runs against the emulator, which checks every reply's HTML,
length and keyboard as Telegram does; each example is one command in a fresh chat.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator import BotAPIEmulator
from handlers.errors import SORRY
from tests.e2e.harness import Harness, running_bot, write_sources
from tests.support.feed_server import FeedServer

COMMANDS = (
    "start", "help", "subscribe", "unsubscribe", "latest", "search", "settings", "timezone",
    "quiet", "digest", "language", "pause", "stop", "topics", "subscriptions",
)  # fmt: skip
TRICKY = st.sampled_from(
    [
        "<b>", "</i>", "<a href='javascript:x'>", "&", "&amp;", "&#0;", "<tg-spoiler>", "\"",
        "“", "«", "'", ",", "all", "ukrane", "Europe/Kyiv", "23:00-07:00", "daily 7",
        "\u200b", "\u202e", "🇺🇦", "x" * 5000, " ", "\n", "\t", "/", "@newsbot_test_bot",
    ]
)  # fmt: skip
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
ARGUMENT = st.lists(st.one_of(TRICKY, TEXT), max_size=4).map(" ".join)


def test_no_user_text_breaks_a_handler(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        emulator = BotAPIEmulator()
        feeds = FeedServer()
        runner.run(emulator.start())
        runner.run(feeds.start())
        feeds.serve("/empty.rss", b"<rss version='2.0'><channel><title>t</title></channel></rss>")
        sources = write_sources(tmp_path / "s.toml", [("Empty", feeds.url("/empty.rss"))])
        database = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
        bot_cm = running_bot(emulator, feeds, database_url=database, sources_file=sources)
        bot = runner.run(bot_cm.__aenter__())
        chats = itertools.count(10_000)
        try:

            @settings(
                max_examples=60,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
            )
            @given(command=st.sampled_from(COMMANDS), text=ARGUMENT, uk=st.booleans())
            def one_command(command: str, text: str, uk: bool) -> None:
                runner.run(_exchange(bot, next(chats), f"/{command} {text}", uk))

            one_command()
        finally:
            runner.run(bot_cm.__aexit__(None, None, None))
            runner.run(feeds.stop())
            runner.run(emulator.stop())


async def _exchange(bot: Harness, chat_id: int, text: str, uk: bool) -> None:
    emulator = bot.emulator
    requests = len(emulator.requests)
    emulator.send_text(chat_id, text, language_code="uk" if uk else "en")
    (answer,) = await emulator.wait_for_messages(chat_id, 1, timeout=10)
    await bot.wait_until(lambda: not emulator.pending_updates, what="the update to be read")
    rejected = [
        r for r in emulator.requests[requests:] if r.status >= 400 and r.method != "getupdates"
    ]
    assert rejected == [], rejected
    assert SORRY not in answer.plain_text
    assert 0 < len(answer.plain_text) <= 4096
