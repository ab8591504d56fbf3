"""Property: no text a user can send, and no button data a client can forge, makes a handler
fail or answer something Telegram would reject. The real Application runs against the
emulator, which checks every reply's HTML, length and keyboard as Telegram does; each example
is one command (or one button press) in a fresh chat: private, or a group where the user is
an administrator or a plain member.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator import BotAPIEmulator
from bot.i18n import load_locales
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
WHERE = st.sampled_from(["private", "group admin", "group member"])
PREFIXES = (
    "sub:", "uns:t:", "uns:k:", "set:mode:", "set:at:", "set:quiet:", "set:qb:", "set:pause:",
    "set:lang:", "more:", "mute:", "stop:", "", ":", "set:",
)  # fmt: skip
KNOWN = ("ukraine", "1", "0", "uk", "en", "off", "hold", "daily", "420", "yes", "no", "-1")
DATA = st.builds(
    str.__add__,
    st.sampled_from(PREFIXES),
    st.one_of(st.sampled_from(KNOWN), TRICKY, st.text(max_size=40)),
).filter(lambda data: 0 < len(data.encode()) <= 64)  # what Telegram lets a button carry
SORRIES = {SORRY, load_locales().get("uk").gettext(SORRY)}


@contextmanager
def _running(tmp_path: Path) -> Iterator[tuple[asyncio.Runner, Harness]]:
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
        try:
            yield runner, bot
        finally:
            runner.run(bot_cm.__aexit__(None, None, None))
            runner.run(feeds.stop())
            runner.run(emulator.stop())


def test_no_user_text_breaks_a_handler(tmp_path: Path) -> None:
    serial = itertools.count(1)
    with _running(tmp_path) as (runner, bot):

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        @given(command=st.sampled_from(COMMANDS), text=ARGUMENT, uk=st.booleans(), where=WHERE)
        def one_command(command: str, text: str, uk: bool, where: str) -> None:
            chat = _Chat(bot, next(serial), where, uk)
            runner.run(_exchange(bot, chat, f"/{command} {text}"))

        one_command()


def test_no_button_data_breaks_a_handler(tmp_path: Path) -> None:
    """Forged or stale callback data gets an answer (a polite one), never an error."""
    serial = itertools.count(1)
    with _running(tmp_path) as (runner, bot):

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        @given(data=DATA, uk=st.booleans(), where=WHERE)
        def one_press(data: str, uk: bool, where: str) -> None:
            runner.run(_press(bot, _Chat(bot, next(serial), where, uk), data))

        one_press()


class _Chat:
    """A fresh chat for one example: private, or a supergroup with the user's rights set."""

    def __init__(self, bot: Harness, serial: int, where: str, uk: bool) -> None:
        self.language = "uk" if uk else "en"
        if where == "private":
            self.chat_id, self.user_id, self.chat_type = 10_000 + serial, 10_000 + serial, "private"
            return
        self.chat_id, self.user_id = -1_003_000_000_000 - serial, 20_000 + serial
        self.chat_type = "supergroup"
        status = "administrator" if where == "group admin" else "member"
        bot.emulator.set_chat_member_status(self.chat_id, self.user_id, status)

    def send(self, emulator: BotAPIEmulator, text: str) -> None:
        emulator.send_text(
            self.chat_id,
            text,
            user_id=self.user_id,
            chat_type=self.chat_type,
            language_code=self.language,
        )


async def _exchange(bot: Harness, chat: _Chat, text: str) -> None:
    emulator = bot.emulator
    requests = len(emulator.requests)
    chat.send(emulator, text)
    (answer,) = await emulator.wait_for_messages(chat.chat_id, 1, timeout=10)
    await bot.wait_until(lambda: not emulator.pending_updates, what="the update to be read")
    _accepted(emulator, requests)
    assert not any(sorry in answer.plain_text for sorry in SORRIES)
    assert 0 < len(answer.plain_text) <= 4096


async def _press(bot: Harness, chat: _Chat, data: str) -> None:
    emulator = bot.emulator
    chat.send(emulator, "/settings")  # a message of the bot's to press a button under
    (menu,) = await emulator.wait_for_messages(chat.chat_id, 1, timeout=10)
    requests, answers = len(emulator.requests), len(emulator.callback_answers)
    emulator.press_button(chat.chat_id, menu.message_id, data, user_id=chat.user_id)
    await bot.wait_until(
        lambda: len(emulator.callback_answers) > answers, timeout=10, what="the button's answer"
    )
    await bot.wait_until(lambda: not emulator.pending_updates, what="the update to be read")
    _accepted(emulator, requests)
    sent = emulator.messages_to(chat.chat_id)
    assert not any(sorry in message.plain_text for message in sent for sorry in SORRIES)


def _accepted(emulator: BotAPIEmulator, since: int) -> None:
    rejected = [
        r for r in emulator.requests[since:] if r.status >= 400 and r.method != "getupdates"
    ]
    assert rejected == [], rejected
