"""The Bot API emulator, driven by the real python-telegram-bot over HTTP.

Every check goes through PTB's own request -> exception mapping, so a wrong
status code or description in the emulator shows up here as the wrong PTB
exception, exactly as it would against Telegram.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    ChatMemberBanned,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

from bot.emulator import BotAPIEmulator, Failure, FloodLimits

TOKEN = "123456:TEST-TOKEN"
ALICE = 42
BOB = 43
GROUP = -100123


class FakeClock:
    """A monotonic clock the flood-limit tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_request() -> HTTPXRequest:
    """No proxies from the environment: the emulator is on 127.0.0.1."""
    return HTTPXRequest(httpx_kwargs={"trust_env": False})


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(enforce_limits=False) as emu:
        yield emu


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{emulator.api_url}/bot", request=make_request()) as bot:
        yield bot


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB warns on every RetryAfter unless this is set, and warnings are errors here."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def raw_call(
    emulator: BotAPIEmulator,
    method: str,
    *,
    token: str = TOKEN,
    http_method: str = "POST",
    timeout: float = 10.0,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Call the emulator without PTB, to see the exact status and body."""
    async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
        response = await client.request(
            http_method, f"{emulator.api_url}/bot{token}/{method}", **kwargs
        )
    return response.status_code, response.json()


# protocol


async def test_get_me_returns_the_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "newsbot_test_bot", True)
    assert me.can_join_groups is True


async def test_wrong_token_is_unauthorized(emulator: BotAPIEmulator) -> None:
    status, body = await raw_call(emulator, "getMe", token="999:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})

    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=f"{emulator.api_url}/bot", request=make_request()):
            pass


async def test_unknown_method_is_not_found(emulator: BotAPIEmulator) -> None:
    status, body = await raw_call(emulator, "sendHologram", data={"chat_id": "1"})

    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_method_names_are_case_insensitive_and_get_works(emulator: BotAPIEmulator) -> None:
    status, body = await raw_call(emulator, "GETME", http_method="GET")

    assert status == 200
    assert body["ok"] is True
    assert body["result"]["username"] == "newsbot_test_bot"
    assert emulator.requests[-1].method == "getme"


async def test_json_body_and_query_string_are_accepted(emulator: BotAPIEmulator) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, body = await raw_call(
        emulator, "sendMessage", json={"chat_id": ALICE, "text": "hi", "reply_markup": markup}
    )
    assert status == 200
    assert body["result"]["reply_markup"] == markup

    status, body = await raw_call(
        emulator, "sendMessage", http_method="GET", params={"chat_id": BOB, "text": "yo"}
    )
    assert status == 200
    assert body["result"]["chat"] == {"id": BOB, "type": "private"}
    assert [m.chat_id for m in emulator.sent] == [ALICE, BOB]


async def test_requests_are_recorded_with_decoded_params(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ukraine", callback_data="sub:ua")]])
    await bot.send_message(ALICE, "x", reply_markup=keyboard, disable_notification=True)

    request = await emulator.wait_for_request("sendMessage")
    assert request.status == 200
    assert request.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Ukraine", "callback_data": "sub:ua"}]]
    }
    assert request.params["chat_id"] == str(ALICE)


# sendMessage


async def test_send_message_returns_a_full_message(emulator: BotAPIEmulator, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])

    message = await bot.send_message(
        ALICE,
        '<b>Breaking</b>: <a href="https://example.com/a?b=1&amp;c=2">story</a> &amp; more',
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    second = await bot.send_message(ALICE, "again")

    assert message.text == "Breaking: story & more"
    assert message.chat.id == ALICE
    assert message.from_user is not None and message.from_user.is_bot
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 8),
        ("text_link", 10, 5),
    ]
    assert message.entities[1].url == "https://example.com/a?b=1&c=2"
    assert message.reply_markup == keyboard
    assert second.message_id == message.message_id + 1

    sent = emulator.messages_to(ALICE)[0]
    assert sent.plain_text == "Breaking: story & more"
    assert sent.text.startswith("<b>Breaking</b>")
    assert sent.parse_mode == "HTML"
    assert sent.link_preview_disabled is True
    assert sent.method == "sendmessage"


async def test_send_message_to_a_username(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.register_chat(-1001, "channel", title="News", username="newsroom")

    message = await bot.send_message("@NewsRoom", "hello")

    assert message.chat.id == -1001
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message("@nobody_here", "hello")


async def test_html_errors_are_bad_requests_with_tdlib_wording(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    status, body = await raw_call(
        emulator, "sendMessage", data={"chat_id": "1", "text": "a<br>b", "parse_mode": "HTML"}
    )
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte '
        "offset 1",
    }

    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(ALICE, "<b>unclosed", parse_mode=ParseMode.HTML)
    assert str(excinfo.value) == (
        "Can't parse entities: can't find end tag corresponding to start tag \"b\""
    )
    assert emulator.sent == []


async def test_length_is_counted_after_parsing(bot: Bot) -> None:
    fits = await bot.send_message(ALICE, f"<b>{'я' * 4096}</b>\n\n  ", parse_mode=ParseMode.HTML)
    assert len(fits.text) == 4096

    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(ALICE, "я" * 4097)
    with pytest.raises(BadRequest, match=r"^Text is too long$"):
        await bot.send_message(ALICE, "<i></i>" * 4700, parse_mode=ParseMode.HTML)


async def test_empty_texts_are_rejected(emulator: BotAPIEmulator, bot: Bot) -> None:
    status, body = await raw_call(emulator, "sendMessage", data={"chat_id": "1"})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")

    with pytest.raises(BadRequest, match=r"^Text must be non-empty$"):
        await bot.send_message(ALICE, " \n <b> </b>\n", parse_mode=ParseMode.HTML)

    status, body = await raw_call(emulator, "sendMessage", data={"text": "hi"})
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="я" * 32)]])
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="я" * 32 + "x")]])

    await bot.send_message(ALICE, "fits", reply_markup=ok)
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(ALICE, "too long", reply_markup=too_long)


async def test_unsupported_parse_mode_is_rejected(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Unsupported parse_mode$"):
        await bot.send_message(ALICE, "x", parse_mode="BBCode")


async def test_markdown_is_accepted_verbatim(bot: Bot) -> None:
    message = await bot.send_message(ALICE, "*bold* _it_", parse_mode=ParseMode.MARKDOWN_V2)

    assert message.text == "*bold* _it_"


# editing, deleting, callbacks


async def test_edit_message_text(emulator: BotAPIEmulator, bot: Bot) -> None:
    original = await bot.send_message(ALICE, "draft")

    edited = await bot.edit_message_text(
        "<i>final</i>", ALICE, original.message_id, parse_mode="HTML"
    )

    assert isinstance(edited, type(original))
    assert edited.text == "final"
    assert edited.edit_date is not None
    assert [m.method for m in emulator.messages_to(ALICE)] == ["sendmessage", "editmessagetext"]
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text("<i>final</i>", ALICE, original.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", ALICE, 999)


async def test_reply_markup_edit_and_delete(emulator: BotAPIEmulator, bot: Bot) -> None:
    message = await bot.send_message(ALICE, "pick")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])

    edited = await bot.edit_message_reply_markup(ALICE, message.message_id, reply_markup=keyboard)

    assert not isinstance(edited, bool) and edited.reply_markup == keyboard
    assert await bot.delete_message(ALICE, message.message_id) is True
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(ALICE, message.message_id)


async def test_callback_answers_are_recorded_once(emulator: BotAPIEmulator, bot: Bot) -> None:
    message = await bot.send_message(ALICE, "pick")
    update = emulator.press_button(ALICE, message.message_id, "sub:ua")
    query_id = update["callback_query"]["id"]

    assert await bot.answer_callback_query(query_id, text="Subscribed") is True
    assert emulator.callback_answers[0].text == "Subscribed"
    assert emulator.callback_answers[0].message_id == message.message_id
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query(query_id)


async def test_press_button_needs_a_message_the_bot_sent(emulator: BotAPIEmulator) -> None:
    with pytest.raises(KeyError):
        emulator.press_button(ALICE, 1, "x")


# chats and members


async def test_chat_and_member_lookups(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.send_text(GROUP, "hello", user_id=ALICE, chat_type="supergroup", chat_title="Team")
    emulator.set_chat_member_status(GROUP, ALICE, "creator")

    chat = await bot.get_chat(GROUP)
    owner = await bot.get_chat_member(GROUP, ALICE)
    other = await bot.get_chat_member(GROUP, BOB)
    admins = await bot.get_chat_administrators(GROUP)

    assert (chat.id, chat.type, chat.title) == (GROUP, "supergroup", "Team")
    assert (owner.status, other.status) == ("creator", "member")
    assert [a.user.id for a in admins] == [ALICE]
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat(777)


async def test_blocking_the_bot_makes_sends_forbidden(emulator: BotAPIEmulator, bot: Bot) -> None:
    update = emulator.set_bot_membership(ALICE, "kicked")

    parsed = Update.de_json(update, bot)
    assert parsed.my_chat_member is not None
    assert isinstance(parsed.my_chat_member.new_chat_member, ChatMemberBanned)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(ALICE, "hello?")

    emulator.set_bot_membership(ALICE, "member")
    await bot.send_message(ALICE, "welcome back")


async def test_bot_commands_round_trip(bot: Bot) -> None:
    await bot.set_my_commands([("subscribe", "Follow a topic"), ("stop", "Stop alerts")])

    commands = await bot.get_my_commands()

    assert [(c.command, c.description) for c in commands] == [
        ("subscribe", "Follow a topic"),
        ("stop", "Stop alerts"),
    ]
    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([("Subscribe", "capital letters are not allowed")])


# fault injection


@pytest.mark.parametrize(
    ("failure", "error", "message"),
    [
        (Failure.blocked(), Forbidden, "Forbidden: bot was blocked by the user"),
        (Failure.deactivated(), Forbidden, "Forbidden: user is deactivated"),
        (Failure.kicked(), Forbidden, "Forbidden: bot was kicked from the group chat"),
        (Failure.chat_not_found(), BadRequest, "Chat not found"),
        (Failure.server_error(), NetworkError, "Internal Server Error"),
        (Failure.server_error(502), NetworkError, "502"),
    ],
)
async def test_injected_failures_raise_the_right_ptb_errors(
    emulator: BotAPIEmulator, bot: Bot, failure: Failure, error: type[Exception], message: str
) -> None:
    emulator.fail_chat(ALICE, failure)

    with pytest.raises(error) as excinfo:
        await bot.send_message(ALICE, "hi")

    assert message in str(excinfo.value)
    assert type(excinfo.value) is error
    assert emulator.sent == []


async def test_migration_carries_the_new_chat_id(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.fail_chat(-555, Failure.migrated(-100555))

    with pytest.raises(ChatMigrated) as excinfo:
        await bot.send_message(-555, "hi")

    assert excinfo.value.new_chat_id == -100555
    assert (await bot.send_message(-100555, "hi")).chat.type == "supergroup"


async def test_injected_retry_after(
    emulator: BotAPIEmulator, bot: Bot, timedelta_retry_after: None
) -> None:
    emulator.fail_chat(ALICE, Failure.retry_after(7), times=1)

    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(ALICE, "hi")
    await bot.send_message(ALICE, "hi again")

    assert excinfo.value.retry_after == dtm.timedelta(seconds=7)
    assert [m.plain_text for m in emulator.sent] == ["hi again"]
    assert emulator.limit_violations == []


async def test_failures_can_be_limited_and_cleared(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.fail_chat(ALICE, Failure.chat_not_found(), times=2)
    emulator.fail_chat(BOB, Failure.blocked())
    for _ in range(2):
        with pytest.raises(BadRequest):
            await bot.send_message(ALICE, "x")
    await bot.send_message(ALICE, "third time lucky")

    emulator.clear_failures(BOB)
    await bot.send_message(BOB, "unblocked")

    assert [m.chat_id for m in emulator.sent] == [ALICE, BOB]


async def test_dropped_response_is_a_network_error_but_delivered(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    emulator.fail_chat(ALICE, Failure.drop_response(), times=1)

    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "did it arrive?")

    assert [m.plain_text for m in emulator.sent] == ["did it arrive?"]
    assert emulator.requests[-1].status == 0


async def test_slow_answers_are_late_but_delivered(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.fail_chat(ALICE, Failure.slow(0.3), times=1)
    loop = asyncio.get_running_loop()

    started = loop.time()
    await bot.send_message(ALICE, "slow")

    assert loop.time() - started >= 0.3
    assert len(emulator.sent) == 1


# flood limits


async def test_private_chat_limit_refuses_a_second_send_within_a_second(
    timedelta_retry_after: None,
) -> None:
    clock = FakeClock()
    async with (
        BotAPIEmulator(clock=clock) as emulator,
        Bot(TOKEN, base_url=f"{emulator.api_url}/bot", request=make_request()) as bot,
    ):
        await bot.send_message(ALICE, "one")
        await bot.send_message(BOB, "other chat is fine")
        clock.advance(0.5)
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(ALICE, "two")
        clock.advance(0.46)  # 0.96 s after the first: inside the 0.05 s tolerance
        await bot.send_message(ALICE, "three")

    assert excinfo.value.retry_after == dtm.timedelta(seconds=1)
    assert [m.plain_text for m in emulator.sent] == ["one", "other chat is fine", "three"]
    assert [v.params["text"] for v in emulator.limit_violations] == ["two"]
    assert emulator.limit_violations[0].status == 429


async def test_group_limit_counts_a_sliding_minute(timedelta_retry_after: None) -> None:
    clock = FakeClock()
    limits = FloodLimits(group_per_minute=3)
    async with (
        BotAPIEmulator(clock=clock, limits=limits) as emulator,
        Bot(TOKEN, base_url=f"{emulator.api_url}/bot", request=make_request()) as bot,
    ):
        for n in range(3):
            await bot.send_message(GROUP, f"m{n}")
            clock.advance(10)
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(GROUP, "too many")
        clock.advance(30)  # the first send is now more than a minute old
        await bot.send_message(GROUP, "fits again")

    # The first send was at t=0 and it is now t=30: the window frees in 30 s (minus tolerance).
    assert excinfo.value.retry_after == dtm.timedelta(seconds=30)
    assert len(emulator.limit_violations) == 1


async def test_overall_limit_and_paid_broadcasts(timedelta_retry_after: None) -> None:
    clock = FakeClock()
    limits = FloodLimits(overall_per_second=3, paid_per_second=5)
    async with (
        BotAPIEmulator(clock=clock, limits=limits) as emulator,
        Bot(TOKEN, base_url=f"{emulator.api_url}/bot", request=make_request()) as bot,
    ):
        for chat_id in (1, 2, 3):
            await bot.send_message(chat_id, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(4, "x")
        await bot.send_message(4, "x", allow_paid_broadcast=True)
        await bot.send_message(5, "x", allow_paid_broadcast=True)
        with pytest.raises(RetryAfter):
            await bot.send_message(6, "x", allow_paid_broadcast=True)
        clock.advance(1)
        await bot.send_message(6, "x")

    assert [m.chat_id for m in emulator.sent] == [1, 2, 3, 4, 5, 6]
    assert len(emulator.limit_violations) == 2


async def test_limits_can_be_switched_off(emulator: BotAPIEmulator, bot: Bot) -> None:
    for n in range(5):
        await bot.send_message(ALICE, f"burst {n}")

    assert len(emulator.sent) == 5


# getUpdates


async def test_get_updates_confirms_by_offset(emulator: BotAPIEmulator, bot: Bot) -> None:
    first = emulator.send_text(ALICE, "/start")
    second = emulator.send_text(ALICE, "hello")

    updates = await bot.get_updates()
    again = await bot.get_updates(offset=first["update_id"] + 1)
    after_all = await bot.get_updates(offset=second["update_id"] + 1)

    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert [u.update_id for u in again] == [second["update_id"]]
    assert after_all == ()
    assert emulator.pending_updates == []


async def test_get_updates_limit_and_negative_offset(emulator: BotAPIEmulator, bot: Bot) -> None:
    ids = [emulator.send_text(ALICE, str(n))["update_id"] for n in range(5)]

    limited = await bot.get_updates(limit=2)
    last_two = await bot.get_updates(offset=-2)

    assert [u.update_id for u in limited] == ids[:2]
    assert [u.update_id for u in last_two] == ids[3:]
    assert [u["update_id"] for u in emulator.pending_updates] == ids[3:]


async def test_long_poll_wakes_when_an_update_arrives(emulator: BotAPIEmulator, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=30))
    await asyncio.sleep(0.3)  # lets the poll reach the emulator; checked below

    queued_at = time.monotonic()
    emulator.send_text(ALICE, "wake up")
    updates = await poll
    answered_at = time.monotonic()

    assert [u.message.text for u in updates if u.message] == ["wake up"]
    request = await emulator.wait_for_request("getUpdates")
    assert request.at < queued_at  # the poll was already waiting when the update came
    assert answered_at - queued_at < 5


async def test_long_poll_times_out_empty(emulator: BotAPIEmulator) -> None:
    status, body = await raw_call(emulator, "getUpdates", data={"timeout": "1"})

    assert (status, body) == (200, {"ok": True, "result": []})
    assert emulator.requests[-1].method == "getupdates"


async def test_allowed_updates_filter_types(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.send_text(ALICE, "text")
    emulator.queue_update({"message_reaction": {"chat": {"id": ALICE, "type": "private"}}})
    emulator.set_bot_membership(ALICE, "kicked")

    default = await bot.get_updates()
    only_members = await bot.get_updates(allowed_updates=["my_chat_member"])

    assert [u.message is not None for u in default] == [True, False]
    assert [u.my_chat_member is not None for u in only_members] == [True]


async def test_a_second_poller_terminates_the_first(emulator: BotAPIEmulator) -> None:
    first = asyncio.create_task(raw_call(emulator, "getUpdates", data={"timeout": "20"}))
    await asyncio.sleep(0.2)

    second = await raw_call(emulator, "getUpdates", data={"timeout": "0"})
    status, body = await first

    assert second == (200, {"ok": True, "result": []})
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_get_updates_conflicts_with_a_webhook(emulator: BotAPIEmulator, bot: Bot) -> None:
    await bot.set_webhook("https://example.com/hook")

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_stop_answers_pending_long_polls_quickly() -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(raw_call(emulator, "getUpdates", data={"timeout": "40"}))
    await asyncio.sleep(0.2)

    started = loop.time()
    await emulator.stop()
    status, body = await poll

    assert loop.time() - started < 2
    assert (status, body) == (200, {"ok": True, "result": []})


# a real Application


async def test_application_answers_commands_buttons_and_blocks(emulator: BotAPIEmulator) -> None:
    blocked: list[int] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ukraine", callback_data="ua")]])
        await context.bot.send_message(
            update.effective_chat.id, "<b>Welcome</b>", parse_mode="HTML", reply_markup=keyboard
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Subscribed to Ukraine")

    async def member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        if update.my_chat_member.new_chat_member.status == "kicked":
            blocked.append(update.my_chat_member.chat.id)

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{emulator.api_url}/bot")
        .request(make_request())
        .get_updates_request(make_request())
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(ChatMemberHandler(member))
    events = emulator.subscribe_events()

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, allowed_updates=Update.ALL_TYPES)

        emulator.send_text(ALICE, "/start@newsbot_test_bot")
        [welcome] = await emulator.wait_for_messages(ALICE)
        emulator.press_button(ALICE, welcome.message_id, "ua")
        await emulator.wait_for_request("answerCallbackQuery")
        emulator.set_bot_membership(ALICE, "kicked")
        for _ in range(50):
            if blocked:
                break
            await asyncio.sleep(0.05)

        await app.updater.stop()
        await app.stop()

    assert welcome.plain_text == "Welcome"
    assert welcome.reply_markup == {
        "inline_keyboard": [[{"text": "Ukraine", "callback_data": "ua"}]]
    }
    assert [a.text for a in emulator.callback_answers] == ["Subscribed to Ukraine"]
    assert blocked == [ALICE]
    assert emulator.pending_updates == []
    seen = []
    while not events.empty():
        event = events.get_nowait()
        seen.append((event["direction"], event["method"]))
    assert seen == [
        ("incoming", "message"),
        ("outgoing", "sendmessage"),
        ("incoming", "callback_query"),
        ("outgoing", "answercallbackquery"),
        ("incoming", "my_chat_member"),
    ]


async def test_wait_for_messages_times_out_with_a_helpful_message(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    await bot.send_message(BOB, "not for alice")

    with pytest.raises(AssertionError, match="not for alice"):
        await emulator.wait_for_messages(ALICE, timeout=0.2)


async def test_html_validation_can_be_switched_off() -> None:
    async with (
        BotAPIEmulator(validate_html=False) as emulator,
        Bot(TOKEN, base_url=f"{emulator.api_url}/bot", request=make_request()) as bot,
    ):
        message = await bot.send_message(ALICE, "a<br>b", parse_mode=ParseMode.HTML)

    assert message.text == "a<br>b"
    assert emulator.sent[0].plain_text == "a<br>b"
