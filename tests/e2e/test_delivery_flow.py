"""Delivery at volume: burst digests, the emulator's flood limits, stop, and the transport."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from telegram.error import Forbidden, NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.delivery.transport import AiohttpRequest, AnswerLost
from bot.emulator import BotAPIEmulator, Failure, FloodLimits
from storage.chats import get_chat
from storage.models import OutboxStatus
from tests.e2e.delivery_rig import seed, sender_rig
from tests.e2e.harness import running_bot, write_sources
from tests.support.feed_server import FeedServer

ANN, BOB = 2001, 2002


async def test_a_burst_for_one_chat_becomes_one_digest(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN], stories=5)
        await seed(rig.sessionmaker, [BOB], stories=2, topics=("sanctions",))
        rig.sender.start()
        await rig.wait_until_idle()
        (digest,) = emulator.messages_to(ANN)
        assert digest.plain_text.startswith("5 new stories on Ukraine:")
        assert len(digest.plain_text) <= 4096
        links = [e.url for e in digest.entities if e.type == "text_link"]
        assert links == [f"https://example.org/news/{n}" for n in range(5)]
        rows = await rig.rows(ANN)
        assert [r.status for r in rows] == [OutboxStatus.SENT] * 5
        assert {r.message_id for r in rows} == {digest.message_id}
        # At or below the threshold, each story is its own alert.
        assert len(emulator.messages_to(BOB)) == 2
        assert all(m.plain_text.startswith("Story number") for m in emulator.messages_to(BOB))


async def test_a_huge_burst_stays_within_4096_characters(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN], stories=40, title=lambda n: f"{n} " + "word " * 38)
        rig.sender.start()
        await rig.wait_until_idle()
        (digest,) = emulator.messages_to(ANN)
        assert len(digest.plain_text) <= 4096
        assert digest.plain_text.startswith("40 new stories on Ukraine:")
        assert digest.plain_text.rstrip().endswith("more: /latest")
        assert await rig.statuses(ANN) == [OutboxStatus.SENT] * 40


async def test_fan_out_keeps_every_flood_limit(sqlite_url: str) -> None:
    """300 private chats and 10 groups, three alerts each, at 150 messages/s overall."""
    limits = FloodLimits(overall_per_second=150)
    async with BotAPIEmulator(limits=limits) as emulator:
        chats = list(range(5000, 5300)) + list(range(-6010, -6000))
        async with sender_rig(emulator, sqlite_url, send_rate=150) as rig:
            await seed(rig.sessionmaker, chats, stories=3)
            started = asyncio.get_running_loop().time()
            rig.sender.start()
            await rig.wait_until_idle(timeout=60)
            elapsed = asyncio.get_running_loop().time() - started
        assert emulator.limit_violations == []
        assert len(emulator.sent) == 3 * len(chats)
        for chat in (5000, 5299, -6010):
            assert len(emulator.messages_to(chat)) == 3
        group = [m.at for m in emulator.messages_to(-6010)]
        assert group[1] - group[0] >= 3.0 - 0.05  # 20 per minute, evenly spaced
        # Pacing, not speed: at 150/s, 930 messages cannot all arrive in under 6.2 s.
        assert elapsed + 0.1 >= 930 / 150


async def test_stop_finishes_in_flight_and_puts_the_rest_back(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    chats = list(range(7000, 7100))
    async with sender_rig(emulator, database_url, send_rate=30) as rig:
        await seed(rig.sessionmaker, chats, stories=1)
        rig.sender.start()
        await emulator.wait_for_messages(7010, 1, timeout=10)
        await rig.sender.stop()
        statuses = await rig.statuses()
        sent = statuses.count(OutboxStatus.SENT)
        assert OutboxStatus.CLAIMED not in statuses
        assert sent == len(emulator.sent) and 0 < sent < len(chats)
        assert statuses.count(OutboxStatus.PENDING) == len(chats) - sent
    # A new sender delivers the rest, and nothing twice.
    async with sender_rig(emulator, database_url, send_rate=200, start=True) as rig:
        await rig.wait_until_idle()
        assert sorted(m.chat_id for m in emulator.sent) == chats


async def test_transport_tells_never_sent_from_answer_lost(emulator: BotAPIEmulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as never_sent:
            await request.post(f"http://127.0.0.1:{closed_port}/bot{emulator.token}/getMe")
        assert not isinstance(never_sent.value, TimedOut)
    finally:
        await request.shutdown()

    bot: ExtBot[None] = ExtBot(
        emulator.token,
        base_url=f"{emulator.api_url}/bot",
        request=AiohttpRequest(read_timeout=0.3),
    )
    await bot.initialize()
    try:
        emulator.fail_chat(ANN, Failure.slow(0.8), times=1)
        with pytest.raises(AnswerLost):
            await bot.send_message(ANN, "hello")
        emulator.fail_chat(BOB, Failure.drop_response(), times=1)
        with pytest.raises(AnswerLost):
            await bot.send_message(BOB, "hello again")
        emulator.fail_chat(2003, Failure.blocked(), times=1)
        with pytest.raises(Forbidden) as blocked:
            await bot.send_message(2003, "and again")
        assert "blocked" in str(blocked.value)
        message = await bot.send_message(2004, "<b>fine</b>", parse_mode="HTML")
        assert message.text == "fine" and message.chat.id == 2004
    finally:
        await bot.shutdown()


async def test_my_chat_member_updates_the_chat_state(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/empty.rss", b"", status=503)
    sources = write_sources(tmp_path / "sources.toml", [("Empty", feeds.url("/empty.rss"))])
    async with running_bot(emulator, feeds, database_url=database_url, sources_file=sources) as bot:
        await bot.command(ANN, "/subscribe ukraine")

        async def active(chat_id: int) -> bool | None:
            async with bot.ctx.sessionmaker() as session:
                chat = await get_chat(session, chat_id)
            return None if chat is None else chat.active

        async def wait_for(chat_id: int, state: bool | None) -> None:
            for _ in range(200):
                if await active(chat_id) == state:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"chat {chat_id} never became active={state}")

        emulator.set_bot_membership(ANN, "kicked")  # the user blocked the bot
        await wait_for(ANN, False)
        emulator.set_bot_membership(ANN, "member")  # and unblocked it
        await wait_for(ANN, True)
        reply = await bot.command(ANN, "/subscriptions")
        assert "Ukraine" in reply.plain_text  # unblocking brings the subscriptions back

        emulator.set_bot_membership(-4001, "member", chat_type="group")  # added to a group
        await wait_for(-4001, True)
        emulator.set_bot_membership(-4001, "left", chat_type="group")  # removed from it
        await wait_for(-4001, False)
