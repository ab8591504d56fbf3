"""Chat commands as a user meets them: help, topics, keyboards, unsubscribe, groups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator import BotAPIEmulator, Failure
from handlers.errors import SORRY
from tests.conftest import feed_bytes
from tests.e2e.harness import Harness, running_bot, write_sources
from tests.support.feed_server import FeedServer

ANN = 2001
GROUP = -3001


@pytest.fixture
async def bot(
    emulator: BotAPIEmulator, feeds: FeedServer, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    feeds.serve("/kyiv.rss", feed_bytes("kyivindependent-news-archive-2026-10-04.rss.xml"))
    sources = write_sources(
        tmp_path / "sources.toml", [("Kyiv Independent", feeds.url("/kyiv.rss"))]
    )
    async with running_bot(emulator, feeds, database_url=sqlite_url, sources_file=sources) as bot:
        yield bot


def _buttons(markup: dict[str, object] | None) -> list[tuple[str, str]]:
    assert markup is not None
    rows = markup["inline_keyboard"]
    assert isinstance(rows, list)
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


async def test_help_and_topics(bot: Harness) -> None:
    help_text = (await bot.command(ANN, "/help")).plain_text
    for command in ("/subscribe", "/unsubscribe", "/subscriptions", "/topics", "/latest"):
        assert command in help_text
    topics = (await bot.command(ANN, "/topics")).plain_text
    for name in ("Ukraine", "Russia", "Sanctions", "NATO", "Energy", "Diplomacy", "Military"):
        assert name in topics
    # The command menu was registered at start.
    request = await bot.emulator.wait_for_request("setMyCommands")
    commands = {entry["command"] for entry in request.params["commands"]}
    assert {"latest", "subscribe", "unsubscribe", "subscriptions", "topics", "help"} <= commands


async def test_subscribe_keyboard_toggles_topics(bot: Harness) -> None:
    menu = await bot.command(ANN, "/subscribe")
    buttons = _buttons(menu.reply_markup)
    assert ("Ukraine", "sub:ukraine") in buttons
    assert all(len(data.encode()) <= 64 for _, data in buttons)

    bot.emulator.press_button(ANN, menu.message_id, "sub:ukraine")
    await bot.wait_until(lambda: len(bot.emulator.callback_answers) == 1, what="callback answer")
    assert "Following Ukraine" in (bot.emulator.callback_answers[0].text or "")
    edited = await bot.emulator.wait_for_request("editMessageReplyMarkup")
    labels = [b["text"] for row in edited.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "✓ Ukraine" in labels

    listing = (await bot.command(ANN, "/subscriptions")).plain_text
    assert "Ukraine" in listing

    bot.emulator.press_button(ANN, menu.message_id, "sub:ukraine")
    await bot.wait_until(lambda: len(bot.emulator.callback_answers) == 2, what="second answer")
    assert "Stopped following Ukraine" in (bot.emulator.callback_answers[1].text or "")
    assert "follows nothing" in (await bot.command(ANN, "/subscriptions")).plain_text


async def test_forged_button_gets_a_polite_answer(bot: Harness) -> None:
    menu = await bot.command(ANN, "/subscribe")
    for data in ("sub:atlantis", "uns:k:notanumber", "garbage", "uns:t:nato"):
        bot.emulator.press_button(ANN, menu.message_id, data)
    await bot.wait_until(lambda: len(bot.emulator.callback_answers) == 4, what="four answers")
    assert all(answer.text for answer in bot.emulator.callback_answers)
    assert "follows nothing" in (await bot.command(ANN, "/subscriptions")).plain_text


async def test_unsubscribe_by_name_keyboard_and_all(bot: Harness) -> None:
    await bot.command(ANN, '/subscribe ukraine russia "Black Sea"')
    reply = await bot.command(ANN, "/unsubscribe Russia")
    assert "Unsubscribed from Russia" in reply.plain_text
    reply = await bot.command(ANN, "/unsubscribe nato")
    assert "wasn't following NATO" in reply.plain_text

    menu = await bot.command(ANN, "/unsubscribe")
    buttons = dict(_buttons(menu.reply_markup))
    keyword_button = next(data for text, data in buttons.items() if "black sea" in text)
    bot.emulator.press_button(ANN, menu.message_id, keyword_button)
    await bot.wait_until(lambda: len(bot.emulator.callback_answers) == 1, what="answer")
    listing = (await bot.command(ANN, "/subscriptions")).plain_text
    assert "black sea" not in listing and "Ukraine" in listing

    reply = await bot.command(ANN, "/unsubscribe all")
    assert "everything" in reply.plain_text
    assert "follows nothing" in (await bot.command(ANN, "/subscriptions")).plain_text


async def test_text_in_a_private_chat_gets_a_hint_and_in_a_group_nothing(bot: Harness) -> None:
    reply = await bot.command(ANN, "hello bot")
    assert "/help" in reply.plain_text and "/subscribe" in reply.plain_text
    # In a group people talk to each other: the bot stays out of it.
    bot.emulator.send_text(GROUP, "hello everyone", chat_type="supergroup", user_id=ANN)
    reply = await bot.command(GROUP, "/help", chat_type="supergroup", user_id=ANN)
    assert [m.plain_text for m in bot.emulator.messages_to(GROUP)] == [reply.plain_text]


async def test_group_commands_with_bot_name(bot: Harness) -> None:
    bot.emulator.set_chat_member_status(GROUP, ANN, "administrator")  # only admins subscribe
    reply = await bot.command(
        GROUP,
        "/subscribe@newsbot_test_bot sanctions",
        chat_type="supergroup",
        user_id=ANN,
        chat_title="News room",
    )
    assert "Subscribed to Sanctions" in reply.plain_text
    await bot.wait_for_articles(at_least=15)
    latest = await bot.command(
        GROUP, "/latest@newsbot_test_bot", chat_type="supergroup", user_id=ANN
    )
    assert "Lukoil" in latest.plain_text


async def test_helpful_replies_to_odd_input(bot: Harness) -> None:
    reply = await bot.command(ANN, "/subscribe ukrane")
    assert "Did you mean" in reply.plain_text and "Ukraine" in reply.plain_text
    reply = await bot.command(ANN, "/subscribe <b>bold</b>")
    assert "<b>bold</b>" in reply.plain_text  # shown as typed, never parsed as markup
    assert "can't contain HTML" in reply.plain_text and "Watching" not in reply.plain_text
    reply = await bot.command(ANN, "/subscribe &amp; <script>")
    assert "“&amp;”, “<script>”: A keyword is plain text" in reply.plain_text
    assert "follows nothing" in (await bot.command(ANN, "/subscriptions")).plain_text
    reply = await bot.command(ANN, "/latest " + "x" * 5000)
    assert "too long" in reply.plain_text
    reply = await bot.command(ANN, "/latest atlantis")
    assert "No stored story matches" in reply.plain_text


async def test_a_long_subscribe_gets_one_short_reply(bot: Harness) -> None:
    # 150 keywords in 650 characters: under the input limit, far over the per-chat limit.
    words = " ".join(f"w{n}" for n in range(150))
    reply = await bot.command(ANN, f"/subscribe {words}")
    assert len(reply.plain_text.encode("utf-16-le")) // 2 <= 4096
    assert "Not added: 125 keywords — this chat watches 25, the most allowed." in reply.plain_text
    assert reply.plain_text.count("the most") == 1  # said once, not once per keyword
    listing = (await bot.command(ANN, "/subscriptions")).plain_text
    assert "“w24”" in listing and "“w25”" not in listing


async def test_a_long_list_of_refused_words_still_gets_a_reply(bot: Harness) -> None:
    # 110 different parts, each refused and quoted back: once a line each, over 4096.
    symbols = "!?#%.;:=~^"
    parts = ", ".join([*symbols, *(a + b for a in symbols for b in symbols)])
    assert len(parts) < 1000
    reply = await bot.command(ANN, f"/subscribe {parts}")
    assert "at least one letter or digit" in reply.plain_text
    assert len(reply.plain_text.encode("utf-16-le")) // 2 <= 4096


async def test_a_reply_telegram_refuses_is_followed_by_an_apology(bot: Harness) -> None:
    bot.emulator.fail_chat(ANN, Failure("too_long", 400, "Bad Request: message is too long"), 1)
    reply = await bot.command(ANN, "/help")
    assert reply.plain_text == SORRY  # short, and without the error's text


async def test_one_letter_and_common_words_are_not_watched(bot: Harness) -> None:
    reply = await bot.command(ANN, "/subscribe a")
    assert "Too short to watch" in reply.plain_text and "Watching" not in reply.plain_text
    reply = await bot.command(ANN, '/subscribe the, на, "the hague"')
    assert "“the”, “на”: Too common to watch" in reply.plain_text
    assert 'phrase in quotes, e.g. /subscribe "the hague"' in reply.plain_text
    listing = (await bot.command(ANN, "/subscriptions")).plain_text
    assert "“the hague”" in listing and "“the”" not in listing and "“a”" not in listing


async def test_quotes_watch_the_words_and_operators_are_explained(bot: Harness) -> None:
    reply = await bot.command(ANN, '/subscribe "price cap"')
    assert "Watching the keyword “price cap”" in reply.plain_text
    assert "Sanctions" not in reply.plain_text
    reply = await bot.command(ANN, "/subscribe sanctions -iran")
    assert (
        "Watching “sanctions -iran” (a keyword watch: stories with “sanctions” and without "
        "“iran”)." in reply.plain_text
    )
    assert "not a topic" not in reply.plain_text
    reply = await bot.command(ANN, "/subscribe tomahawk +kyiv")
    assert "(a keyword watch: stories with all of “tomahawk”, “kyiv”)" in reply.plain_text
    listing = (await bot.command(ANN, "/subscriptions")).plain_text
    assert "Topics" not in listing and "“price cap”" in listing
