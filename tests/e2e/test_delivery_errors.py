"""Every Telegram answer the sender can get, produced by the Bot API emulator over HTTP.

Each test queues alerts in a real database, lets the real sender (PTB bot, aiohttp transport,
flood limiter) deliver them, and checks both sides: what the emulator received and what the
outbox and the chats table say afterwards.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.emulator import BotAPIEmulator, Failure
from storage.models import OutboxStatus, Subscription
from tests.e2e.delivery_rig import seed, sender_rig

ANN, BOB = 2001, 2002
GROUP, SUPERGROUP = -3001, -1003001


async def test_ok_marks_sent_with_telegrams_message_id(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN, BOB], stories=2)
        rig.sender.start()
        await rig.wait_until_idle()
        for chat in (ANN, BOB):
            sent = emulator.messages_to(chat)
            assert len(sent) == 2 and all(m.parse_mode == "HTML" for m in sent)
            rows = await rig.rows(chat)
            assert [r.status for r in rows] == [OutboxStatus.SENT] * 2
            assert [r.message_id for r in rows] == [m.message_id for m in sent]
        assert emulator.limit_violations == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Failure.blocked(), "Forbidden: bot was blocked by the user"),
        (Failure.deactivated(), "Forbidden: user is deactivated"),
        (Failure.chat_not_found(), "Chat not found"),
    ],
    ids=["blocked", "deactivated", "chat-not-found"],
)
async def test_gone_chat_is_deactivated_and_its_alerts_dropped(
    emulator: BotAPIEmulator, database_url: str, failure: Failure, reason: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN, BOB], stories=3)
        emulator.fail_chat(ANN, failure)
        rig.sender.start()
        await rig.wait_until_idle()
        chat = await rig.chat(ANN)
        assert chat is not None and not chat.active
        assert chat.inactive_reason is not None and reason.lower() in chat.inactive_reason.lower()
        assert await rig.statuses(ANN) == [OutboxStatus.DROPPED] * 3
        # One attempt, then nothing more for the gone chat; the other chat is unaffected.
        assert [
            r.method for r in emulator.requests if r.params.get("chat_id") in (ANN, str(ANN))
        ] == ["sendmessage"]
        assert await rig.statuses(BOB) == [OutboxStatus.SENT] * 3
        assert len(emulator.messages_to(BOB)) == 3


async def test_kicked_from_group_is_deactivated(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [GROUP], stories=1)
        emulator.fail_chat(GROUP, Failure.kicked())
        rig.sender.start()
        await rig.wait_until_idle()
        chat = await rig.chat(GROUP)
        assert chat is not None and not chat.active
        assert chat.inactive_reason == "Forbidden: bot was kicked from the group chat"
        assert await rig.statuses(GROUP) == [OutboxStatus.DROPPED]


async def test_migrated_group_moves_subscriptions_and_alerts_and_sends_there(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [GROUP], stories=2, subscribe=True)
        emulator.fail_chat(GROUP, Failure.migrated(SUPERGROUP), times=1)
        rig.sender.start()
        await rig.wait_until_idle()
        assert emulator.messages_to(GROUP) == []
        assert len(emulator.messages_to(SUPERGROUP)) == 2
        assert await rig.chat(GROUP) is None
        new = await rig.chat(SUPERGROUP)
        assert new is not None and new.active and new.type == "supergroup"
        assert await rig.statuses(SUPERGROUP) == [OutboxStatus.SENT] * 2
        async with rig.sessionmaker() as session:
            subs = list(await session.scalars(select(Subscription.chat_id)))
        assert subs == [SUPERGROUP]


async def test_cant_parse_entities_resends_as_plain_text_and_logs_the_defect(
    emulator: BotAPIEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bad_html = Failure(
        "cant_parse", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "x"'
    )
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN], stories=1)
        emulator.fail_chat(ANN, bad_html, times=1)
        with caplog.at_level(logging.ERROR, logger="bot.delivery.sender"):
            rig.sender.start()
            await rig.wait_until_idle()
        (message,) = emulator.messages_to(ANN)
        assert message.parse_mode is None
        assert message.text.startswith("Story number 0 from the front")
        assert "https://example.org/news/0" in message.text
        (row,) = await rig.rows(ANN)
        assert row.status == OutboxStatus.SENT and row.message_id == message.message_id
        defects = [r for r in caplog.records if "DEFECT" in r.getMessage()]
        assert len(defects) == 1 and defects[0].levelno == logging.ERROR


async def test_server_errors_are_retried_with_backoff_until_they_pass(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url, base_backoff=1.2) as rig:
        await seed(rig.sessionmaker, [ANN], stories=1)
        emulator.fail_chat(ANN, Failure.server_error(500), times=2)
        rig.sender.start()
        await emulator.wait_for_messages(ANN, 1, timeout=10)
        await rig.wait_until_idle()
        attempts = [r for r in emulator.requests if r.method == "sendmessage"]
        assert [r.status for r in attempts] == [500, 500, 200]
        # Backoff doubles: 1.2 s, then 2.4 s, each plus up to half again of jitter.
        first, second = attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at
        assert 1.2 <= first < 1.8 + 0.5 and 2.4 <= second < 3.6 + 0.5
        (row,) = await rig.rows(ANN)
        assert row.status == OutboxStatus.SENT and row.attempts == 3


async def test_persistent_server_errors_end_as_failed_never_dropped(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url, max_attempts=3) as rig:
        await seed(rig.sessionmaker, [ANN], stories=1)
        emulator.fail_chat(ANN, Failure.server_error(502))
        rig.sender.start()
        await rig.wait_until_idle()
        (row,) = await rig.rows(ANN)
        assert row.status == OutboxStatus.FAILED
        assert row.last_error is not None and "gave up after 3 attempts" in row.last_error
        assert "Bad Gateway" in row.last_error
        assert len([r for r in emulator.requests if r.method == "sendmessage"]) == 3
        chat = await rig.chat(ANN)
        assert chat is not None and chat.active  # a server problem says nothing about the chat


async def test_lost_answer_is_unconfirmed_and_never_resent(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN, BOB], stories=1)
        emulator.fail_chat(ANN, Failure.drop_response(), times=1)
        rig.sender.start()
        await rig.wait_until_idle()
        assert len(emulator.messages_to(ANN)) == 1  # Telegram got it once; we did not resend
        (row,) = await rig.rows(ANN)
        assert row.status == OutboxStatus.UNCONFIRMED and row.message_id is None
        assert await rig.statuses(BOB) == [OutboxStatus.SENT]


async def test_unreadable_answer_is_unconfirmed(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN], stories=1)
        emulator.fail_chat(ANN, Failure.garbled(), times=1)
        rig.sender.start()
        await rig.wait_until_idle()
        (row,) = await rig.rows(ANN)
        assert row.status == OutboxStatus.UNCONFIRMED
        assert len(emulator.messages_to(ANN)) == 1
        assert len([r for r in emulator.requests if r.method == "sendmessage"]) == 1


async def test_retry_after_pauses_every_send_for_exactly_the_time_asked(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        await seed(rig.sessionmaker, [ANN], stories=1)
        emulator.fail_chat(ANN, Failure.retry_after(2), times=1)
        rig.sender.start()
        await emulator.wait_for_messages(ANN, 1, timeout=10)
        # While the bot waits, alerts for other chats arrive: they must wait too.
        await seed(rig.sessionmaker, [BOB], stories=1)
        rig.sender.wake()
        await rig.wait_until_idle()
        sends = [r for r in emulator.requests if r.method == "sendmessage"]
        flood = next(r for r in sends if r.status == 429)
        after = [r for r in sends if r.at > flood.at]
        assert after and all(r.status == 200 for r in after)
        assert min(r.at for r in after) - flood.at >= 2.0 - 0.05
        assert rig.limiter.retry_after_pauses == 1
        assert await rig.statuses() == [OutboxStatus.SENT, OutboxStatus.SENT]


async def test_retry_after_beyond_the_limiters_retries_reschedules_the_alert(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    async with sender_rig(emulator, database_url) as rig:
        rig.limiter._max_retries = 0  # give up on the first 429: the outbox reschedules
        await seed(rig.sessionmaker, [ANN], stories=1)
        emulator.fail_chat(ANN, Failure.retry_after(1), times=1)
        rig.sender.start()
        await emulator.wait_for_messages(ANN, 1, timeout=10)
        await rig.wait_until_idle()
        (row,) = await rig.rows(ANN)
        assert row.status == OutboxStatus.SENT
        assert row.attempts == 1  # a 429 is not counted as a failed try
        sends = [r for r in emulator.requests if r.method == "sendmessage"]
        assert [r.status for r in sends] == [429, 200]
        assert sends[1].at - sends[0].at >= 1.0 - 0.05
