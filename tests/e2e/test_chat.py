"""The chat experience end to end: keyboards, settings, delivery policy, groups and forum
topics, languages, /search, the alert's buttons, /stop, and bad input.

Real parts throughout: the PTB Application with its updater and JobQueue, the Bot API
emulator (which validates HTML, lengths, callback data and answerCallbackQuery), a feed
server with the Kyiv Independent's real feed, and SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.emulator import BotAPIEmulator, SentMessage
from handlers.errors import SORRY
from storage.models import Chat, DeliveryMode, OutboxEntry, Subscription
from tests.conftest import feed_bytes
from tests.e2e.harness import Harness, running_bot, write_sources
from tests.support.feed_server import FeedServer, withhold_items

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
ALICE, BOB, CAROL, DAVE, ERIN = 2001, 2002, 2003, 2004, 2005
FORUM = -1002000000777
ADMIN, MEMBER = 501, 502
THREAD = 7


def _buttons(message: SentMessage) -> list[dict[str, Any]]:
    markup = message.reply_markup or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _labels(message: SentMessage) -> list[str]:
    return [button["text"] for button in _buttons(message)]


async def _press(bot: Harness, chat_id: int, message: SentMessage, data: str) -> str | None:
    """Press a button and return the text of the bot's answerCallbackQuery."""
    emulator = bot.emulator
    before = len(emulator.callback_answers)
    emulator.press_button(chat_id, message.message_id, data)
    await bot.wait_until(lambda: len(emulator.callback_answers) > before, what="a button answer")
    return emulator.callback_answers[before].text


def _forum_command(emulator: BotAPIEmulator, text: str, user_id: int) -> None:
    """A command sent inside forum topic THREAD of the FORUM supergroup."""
    command = text.split(maxsplit=1)[0]
    emulator.queue_update(
        {
            "message": {
                "message_id": 90_000 + len(emulator.pending_updates) + len(emulator.sent),
                "date": int(time.time()),
                "chat": {"id": FORUM, "type": "supergroup", "title": "News", "is_forum": True},
                "from": {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "en"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
                "message_thread_id": THREAD,
                "is_topic_message": True,
            }
        }
    )


async def _chat_row(bot: Harness, chat_id: int) -> Chat | None:
    async with bot.ctx.sessionmaker() as session:
        return await session.get(Chat, chat_id)


async def _outbox(bot: Harness, chat_id: int) -> list[OutboxEntry]:
    async with bot.ctx.sessionmaker() as session:
        rows = await session.scalars(select(OutboxEntry).where(OutboxEntry.chat_id == chat_id))
        return list(rows)


def _no_errors(emulator: BotAPIEmulator) -> None:
    assert not [m for m in emulator.sent if SORRY in m.plain_text]
    rejected = [r for r in emulator.requests if r.status >= 400 and r.method != "getupdates"]
    assert rejected == []
    assert emulator.limit_violations == []


async def test_keyboards_settings_and_forged_buttons(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        keyboard = await bot.command(ALICE, "/subscribe")
        assert "Ukraine" in _labels(keyboard) and not any(
            label.startswith("✓") for label in _labels(keyboard)
        )
        assert await _press(bot, ALICE, keyboard, "sub:ukraine") == "Following Ukraine"
        edit = await emulator.wait_for_request("editmessagereplymarkup")
        toggled = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
        assert "✓ Ukraine" in toggled and "Russia" in toggled
        # Forged, stale and malformed buttons: a polite answer, nothing changes, no error.
        for forged in (
            "sub:atlantis",
            "uns:k:abc",
            "uns:x:1",
            "set:mode:weekly",
            "set:at:9999",
            "set:lang:fr",
            "more:nope",
            "stop:maybe",
            "zzz",
            "sub:",
        ):
            answer = await _press(bot, ALICE, keyboard, forged)
            assert answer and "out of date" in answer, (forged, answer)
        assert await _press(bot, ALICE, keyboard, "uns:t:russia") == "Already removed."

        menu = await bot.command(BOB, "/settings")
        assert "each story as it breaks" in menu.plain_text
        assert await _press(bot, BOB, menu, "set:mode:hourly") == "Saved."
        assert await _press(bot, BOB, menu, "set:quiet:1380-420") == "Saved."
        assert await _press(bot, BOB, menu, "set:qb:silent") == "Saved."
        row = await _chat_row(bot, BOB)
        assert row is not None and row.delivery_mode is DeliveryMode.HOURLY
        assert (row.quiet_start_minute, row.quiet_end_minute) == (1380, 420)
        await bot.wait_until(
            lambda: "without a sound" in emulator.messages_to(BOB)[-1].plain_text,
            what="the menu to show the new settings",
        )
        edited = emulator.messages_to(BOB)[-1]
        assert edited.method == "editmessagetext" and edited.message_id == menu.message_id
        assert "every hour" in edited.plain_text and "23:00–07:00" in edited.plain_text
        # Pressing the chosen option again is not an error ("message is not modified").
        assert await _press(bot, BOB, menu, "set:mode:hourly") == "Saved."

        reply = await bot.command(BOB, "/timezone europe/kyiv")
        assert "Europe/Kyiv" in reply.plain_text
        reply = await bot.command(CAROL, "/timezone Europe/Kyyiv")
        assert (
            "I don't know the time zone" in reply.plain_text and "Europe/Kyiv" in reply.plain_text
        )
        reply = await bot.command(CAROL, "/digest daily 7:30")
        assert "one digest a day at 07:30" in reply.plain_text
        reply = await bot.command(CAROL, "/quiet 22-6 hold")
        assert "22:00–06:00" in reply.plain_text and "one digest" in reply.plain_text
        reply = await bot.command(CAROL, "/quiet sometimes")
        assert "/quiet 23:00-07:00" in reply.plain_text
        reply = await bot.command(CAROL, "/pause")
        assert "paused" in reply.plain_text
        reply = await bot.command(CAROL, "/resume")
        assert "paused" not in reply.plain_text
        row = await _chat_row(bot, CAROL)
        assert row is not None and row.digest_minute == 450 and not row.paused
        row = await _chat_row(bot, BOB)
        assert row is not None and row.timezone == "Europe/Kyiv"

        # /stop asks first; "No" keeps everything, "Yes" deletes the chat and its data.
        confirm = await bot.command(ALICE, "/stop")
        assert await _press(bot, ALICE, confirm, "stop:no") == "Nothing was changed."
        assert await _chat_row(bot, ALICE) is not None
        confirm = await bot.command(ALICE, "/stop")
        assert await _press(bot, ALICE, confirm, "stop:yes") == "Deleted."
        async with bot.ctx.sessionmaker() as session:
            assert await session.get(Chat, ALICE) is None
            subs = await session.scalars(select(Subscription).where(Subscription.chat_id == ALICE))
            assert list(subs) == []
        _no_errors(emulator)


async def test_timezone_takes_offsets_and_places(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:

        async def timezone(text: str) -> tuple[str, str]:
            reply = await bot.command(ALICE, f"/timezone {text}")
            row = await _chat_row(bot, ALICE)
            assert row is not None
            return reply.plain_text, row.timezone

        # UTC offsets are fixed zones (whole hours: tzdata's Etc/GMT, whose sign is inverted).
        for typed, stored, shown in (
            ("UTC+2", "Etc/GMT-2", "UTC+02:00"),
            ("UTC-5", "Etc/GMT+5", "UTC-05:00"),
            ("GMT+3", "Etc/GMT-3", "UTC+03:00"),
            ("+02:00", "Etc/GMT-2", "UTC+02:00"),
            ("UTC+5:30", "UTC+05:30", "UTC+05:30"),
        ):
            text, row_zone = await timezone(typed)
            assert row_zone == stored, typed
            assert f"Time zone set to {shown}, a fixed offset" in text, text
            assert f"Time zone: {shown} (" in text and "Did you mean" not in text, text
        text, row_zone = await timezone("UTC+15")
        assert "“UTC+15” is not an offset any time zone uses" in text and row_zone == "UTC+05:30"

        # A city picks its zone (Kiev is tzdata's old name for Europe/Kyiv).
        for typed, stored in (
            ("kyiv", "Europe/Kyiv"),
            ("new york", "America/New_York"),
            ("Kiev", "Europe/Kyiv"),
            ("london", "Europe/London"),
        ):
            text, row_zone = await timezone(typed)
            assert row_zone == stored and f"Time zone: {stored} (" in text, (typed, text)
        text, _zone = await timezone("eastern")
        assert "“eastern” could be America/New_York, America/Toronto" in text
        # A suggestion only for a near spelling; nothing for what is not close to any zone.
        text, _zone = await timezone("londn")
        assert (
            "I don't know the time zone “londn”" in text and "Did you mean Europe/London?" in text
        )
        text, row_zone = await timezone("Atlantis+2")
        assert "I don't know the time zone" in text and "Did you mean" not in text
        assert row_zone == "Europe/London"

        _no_errors(emulator)


async def test_bad_settings_input_says_what_is_wrong(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        # Bad /digest and /quiet input: the reason, then how to use the command.
        digest_usage = "Choose how alerts come: /digest off"
        quiet_usage = "Send quiet hours as a time range"
        for command, reason, usage in (
            (
                "/digest daily 25:00",
                "“25:00” is not a time of day: use HH:MM, 00:00–23:59.",
                digest_usage,
            ),
            (
                "/digest weekly",
                "Weekly digests are not offered: use /digest daily HH:MM or /digest hourly.",
                digest_usage,
            ),
            (
                "/digest sometimes",
                "“sometimes” is not a way to get alerts: use off, hourly or daily.",
                digest_usage,
            ),
            (
                "/digest hourly 08:00",
                "I don't understand “08:00” after /digest hourly.",
                digest_usage,
            ),
            (
                "/digest daily 08:00 please",
                "I don't understand “please” after /digest daily 08:00.",
                digest_usage,
            ),
            (
                "/quiet 07:00-07:00",
                "Quiet hours must start and end at different times.",
                quiet_usage,
            ),
            (
                "/quiet 24:00-07:00",
                "“24:00” is not a time of day: use HH:MM, 00:00–23:59.",
                quiet_usage,
            ),
            (
                "/quiet 23:00-07:00 loud",
                "“loud” is not a quiet-hours mode: use hold or silent.",
                quiet_usage,
            ),
        ):
            reply = await bot.command(BOB, command)
            first, _sep, rest = reply.plain_text.partition("\n")
            assert first == reason and rest.startswith(usage), (command, reply.plain_text)
        reply = await bot.command(BOB, "/quiet sometimes")  # no clear reason: the usage alone
        assert reply.plain_text.startswith(quiet_usage)
        row = await _chat_row(bot, BOB)
        assert row is not None and row.delivery_mode is DeliveryMode.INSTANT
        assert row.quiet_start_minute is None
        _no_errors(emulator)


async def test_double_tapped_buttons_are_not_errors(
    emulator: BotAPIEmulator,
    feeds: FeedServer,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A second tap asks Telegram to show what the message already shows; its answer
    # ("message is not modified") means done, not a failure with a traceback.
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])

    def edits() -> list[int]:
        return [r.status for r in emulator.requests if r.method == "editmessagetext"]

    with caplog.at_level(logging.ERROR):
        async with running_bot(
            emulator, feeds, database_url=database_url, sources_file=sources
        ) as bot:
            confirm = await bot.command(ALICE, "/stop")
            assert await _press(bot, ALICE, confirm, "stop:no") == "Nothing was changed."
            assert await _press(bot, ALICE, confirm, "stop:no") == "Nothing was changed."
            confirm = await bot.command(ALICE, "/stop")
            assert await _press(bot, ALICE, confirm, "stop:yes") == "Deleted."
            assert await _press(bot, ALICE, confirm, "stop:yes") == "Deleted."
            await bot.wait_until(lambda: len(edits()) == 4, what="the second taps' edits")
            async with bot.ctx.sessionmaker() as session:
                assert await session.get(Chat, ALICE) is None
        # The bot has stopped, so every handler has finished (and logged what it would).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not [m for m in emulator.sent if SORRY in m.plain_text]
    # Each second tap reached Telegram and was refused as "not modified".
    assert edits() == [200, 400, 200, 400]


async def test_policy_groups_forums_buttons_and_languages(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    full = feed_bytes(KYIV)
    feeds.serve("/kyiv.rss", withhold_items(full, 2))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        await bot.wait_for_articles(at_least=13)
        now = datetime.now(UTC)
        start = (now - timedelta(hours=1)).strftime("%H:%M")
        end = (now + timedelta(hours=1)).strftime("%H:%M")

        # Alice holds alerts in quiet hours; Bob gets them silently; Carol paused; Dave
        # instant in Ukrainian (from his app's language).
        for chat_id, settings in (
            (ALICE, f"/quiet {start}-{end}"),
            (BOB, f"/quiet {start}-{end} silent"),
            (CAROL, "/pause"),
        ):
            await bot.command(chat_id, "/subscribe ukraine")
            await bot.command(chat_id, settings)
        reply = await bot.command(DAVE, "/subscribe ukraine", language_code="uk")
        assert "✅ Підписано: Україна." in reply.plain_text  # no case ending to get wrong

        # A forum supergroup: a member may not subscribe, the admin may, from topic 7.
        emulator.set_chat_member_status(FORUM, ADMIN, "administrator")
        _forum_command(emulator, "/subscribe ukraine", MEMBER)
        (refusal,) = await emulator.wait_for_messages(FORUM, 1)
        assert "Only the group's admins" in refusal.plain_text
        assert refusal.message_thread_id == THREAD
        _forum_command(emulator, "/subscribe ukraine", ADMIN)
        await emulator.wait_for_messages(FORUM, 2)
        assert "Subscribed to Ukraine" in emulator.messages_to(FORUM)[1].plain_text

        # Two stories break.
        feeds.serve("/kyiv.rss", full)
        await bot.wait_for_articles(at_least=15)

        pushes = (await emulator.wait_for_messages(DAVE, 3))[1:]
        await emulator.wait_for_messages(BOB, 4)
        await emulator.wait_for_messages(FORUM, 4)

        # Dave: two alerts with Ukrainian buttons; "More on" lists stories, "Mute" unsubscribes.
        assert all(not push.disable_notification for push in pushes)
        data = [button["callback_data"] for button in _buttons(pushes[0])]
        assert [d.split(":")[0] for d in data] == ["more", "mute"]
        assert _labels(pushes[0])[0].startswith("Ще про")
        assert await _press(bot, DAVE, pushes[0], data[0]) is None
        (more,) = (await emulator.wait_for_messages(DAVE, 4))[3:]
        assert more.plain_text.startswith("Найсвіжіше:") and any(
            e.type == "text_link" for e in more.entities
        )
        muted = await _press(bot, DAVE, pushes[0], data[1])
        assert muted is not None and "вимкнено" in muted

        # Bob: the same alerts, silently. The forum: in topic 7. Carol: nothing.
        bob = emulator.messages_to(BOB)[-2:]
        assert all(message.disable_notification for message in bob)
        forum = emulator.messages_to(FORUM)[-2:]
        assert all(message.message_thread_id == THREAD for message in forum)
        assert len(emulator.messages_to(CAROL)) == 2
        assert await _outbox(bot, CAROL) == []

        # Alice: held as a digest until the quiet hours end...
        held = await _outbox(bot, ALICE)
        assert len(held) == 2 and all(row.digest and row.status == "pending" for row in held)
        assert all(row.next_attempt_at > now + timedelta(minutes=30) for row in held)
        assert len(emulator.messages_to(ALICE)) == 2
        # ...and when they end (time moves on: the rows fall due), one message for both.
        async with bot.ctx.sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.chat_id == ALICE)
                .values(next_attempt_at=datetime.now(UTC))
            )
        bot.ctx.sender.wake()
        (digest,) = (await emulator.wait_for_messages(ALICE, 3))[2:]
        await bot.outbox_idle()
        assert digest.plain_text.startswith("2 new stories")
        assert len([e for e in digest.entities if e.type == "text_link"]) == 2
        assert len(emulator.messages_to(ALICE)) == 3

        # The command menu, in both languages.
        menus = [r for r in emulator.requests if r.method == "setmycommands"]
        assert {r.params.get("language_code") for r in menus} == {None, "en", "uk"}
        uk = next(r for r in menus if r.params.get("language_code") == "uk")
        assert any(c["description"] == "Призупинити сповіщення" for c in uk.params["commands"])

        # /language switches; /search finds stories with links.
        reply = await bot.command(ERIN, "/language uk")
        assert reply.plain_text == "Відтепер я розмовлятиму тут українською."
        reply = await bot.command(ERIN, "/search Latvia")
        assert "Latvia" in reply.plain_text and any(e.type == "text_link" for e in reply.entities)
        reply = await bot.command(ERIN, "/search zzyzx qqq")
        assert "zzyzx" in reply.plain_text
        # Quotes make a phrase: both words anywhere find Black Sea stories, the words side by
        # side in another order find none.
        reply = await bot.command(ERIN, "/search sea black")
        assert "Black Sea" in reply.plain_text
        reply = await bot.command(ERIN, '/search "sea black"')
        assert "Black Sea" not in reply.plain_text and "“sea black”" in reply.plain_text
        reply = await bot.command(ERIN, "/search “Black Sea”")
        assert "Black Sea" in reply.plain_text and any(
            e.type == "text_link" for e in reply.entities
        )
        _no_errors(emulator)


async def test_bad_input_and_throttling(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "s.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        reply = await bot.command(ALICE, "/subscribe ukrane")
        assert (
            "Did you mean Ukraine?" in reply.plain_text and "/subscribe ukraine" in reply.plain_text
        )
        async with bot.ctx.sessionmaker() as session:
            assert list(await session.scalars(select(Subscription))) == []

        reply = await bot.command(ALICE, "/subscribe " + "x" * 5000)
        assert "too long" in reply.plain_text

        reply = await bot.command(ALICE, '/subscribe <b>bold</b> <a href="x">&amp;')
        assert "<b>bold</b>" in reply.plain_text  # echoed as text, not as markup
        assert all(e.type != "text_link" for e in reply.entities)

        reply = await bot.command(ALICE, "/timezone <script>")
        assert "<script>" in reply.plain_text  # shown as text, never as markup

        reply = await bot.command(ALICE, "/nosuchcommand <i>")
        assert "/help" in reply.plain_text

        # Stickers, photos, edited messages and channel posts: no reply, no error.
        base = {"date": int(time.time()), "from": {"id": BOB, "is_bot": False, "first_name": "B"}}
        chat = {"id": BOB, "type": "private", "first_name": "B"}
        emulator.queue_update(
            {"message": {**base, "message_id": 1, "chat": chat, "sticker": _sticker()}}
        )
        emulator.queue_update(
            {"message": {**base, "message_id": 2, "chat": chat, "photo": [_photo()]}}
        )
        emulator.queue_update(
            {
                "edited_message": {
                    **base,
                    "message_id": 3,
                    "chat": chat,
                    "edit_date": int(time.time()),
                    "text": "/subscribe nato",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
                }
            }
        )
        emulator.queue_update(
            {
                "channel_post": {
                    "message_id": 4,
                    "date": int(time.time()),
                    "chat": {"id": -1009, "type": "channel", "title": "C"},
                    "text": "/subscribe nato",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
                }
            }
        )
        reply = await bot.command(BOB, "/subscriptions")
        assert "follows nothing yet" in reply.plain_text
        assert len(emulator.messages_to(BOB)) == 1
        assert emulator.messages_to(-1009) == []

        # A flood of commands: the first few are answered, then one "slow down", then
        # silence; the chat's subscriptions are intact and it works again after a pause.
        await bot.command(CAROL, "/subscribe ukraine")
        for _ in range(30):
            emulator.send_text(CAROL, "/subscribe sanctions")
        await bot.wait_until(lambda: not emulator.pending_updates, what="the flood to be read")
        await emulator.wait_for_messages(CAROL, 9)
        await bot.wait_until(
            lambda: any("Too many commands" in m.plain_text for m in emulator.messages_to(CAROL)),
            what="the slow-down notice",
        )
        replies = emulator.messages_to(CAROL)
        assert len(replies) <= 12
        assert sum("Too many commands" in m.plain_text for m in replies) == 1
        reply = await _eventually_answered(bot, CAROL, "/subscriptions")
        assert "Ukraine" in reply.plain_text and "Sanctions" in reply.plain_text
        _no_errors(emulator)


async def _eventually_answered(bot: Harness, chat_id: int, text: str) -> SentMessage:
    """Send `text` until the throttle lets it through (it refills one command a second)."""
    for _attempt in range(10):
        before = len(bot.emulator.messages_to(chat_id))
        bot.emulator.send_text(chat_id, text)
        try:
            messages = await bot.emulator.wait_for_messages(chat_id, before + 1, timeout=1.2)
        except AssertionError:
            continue
        return messages[before]
    raise AssertionError(f"{text} was never answered")


def _sticker() -> dict[str, Any]:
    return {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }


def _photo() -> dict[str, Any]:
    return {"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}
