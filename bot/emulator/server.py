"""An in-process Telegram Bot API server for end-to-end tests and the sandbox chat.

The real python-telegram-bot ``Application`` talks to ``BotAPIEmulator`` over
HTTP through PTB's ``base_url``, so httpx, form encoding, long polling, the
Updater, the JobQueue and the rate limiter all run exactly as in production.
The emulator answers the way ``tdlib/telegram-bot-api`` does: the same JSON
envelope, HTTP status equal to ``error_code``, verbatim descriptions,
``parameters.retry_after``/``migrate_to_chat_id``, tdlib's HTML rules
(``bot.emulator.html``) and Telegram's flood limits (``bot.emulator.limits``).

Tests act as users (``send_text``, ``press_button``, ``set_bot_membership``),
inspect what the bot did (``sent``, ``requests``, ``wait_for_messages``), and
inject faults per chat (``fail_chat`` with a ``Failure``).  ``subscribe_events``
streams every user update and every accepted bot message, for a web chat UI.

Everything runs on the caller's event loop; the user-side methods are plain
functions because they only queue updates and wake waiting long polls.

Deliberate gaps, so nobody relies on them: webhooks are stored (and make
getUpdates answer 409) but never called; Markdown parse modes are accepted
without validation and their text is kept verbatim; media, inline mode and
payments are not emulated (unknown methods answer 404 like the real server).
Fault injection and chat membership apply to ``sendMessage`` only.

Exceptions::

    AssertionError     wait_for_messages / wait_for_request timed out (lists what happened)
    RuntimeError       api_url read before start()
    KeyError           press_button on a message the bot never sent
    ValueError         set_bot_membership with a status the emulator cannot express
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from bot.emulator.html import FormattedText, HtmlParseError, MessageEntity, format_text
from bot.emulator.limits import FloodGate, FloodLimits

LOGGER = logging.getLogger(__name__)

LONG_POLL_MAX_TIMEOUT = 50
MAX_TEXT_LENGTH = 4096
MAX_RAW_TEXT_BYTES = 32768
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
DEFAULT_GROUP_USER_ID = 1_000_001
# allowed_updates=[] (or never set) means every type except these.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Parameters whose values PTB (and any client using form encoding) sends as JSON strings.
JSON_PARAMETERS = frozenset(
    {"reply_markup", "entities", "caption_entities", "link_preview_options", "allowed_updates"}
    | {"commands", "scope", "reply_parameters", "media", "results", "permissions"}
)
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
BOT_COMMAND_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
HTTPS_WEBHOOK_REQUIRED = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
BAD_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object"
BAD_BUTTON_TEXT = (
    'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String'
)
TEXT_BUTTON_IN_INLINE_KEYBOARD = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
NGINX_BAD_GATEWAY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

Params = dict[str, Any]


@dataclass(frozen=True)
class SentMessage:
    """One message the bot sent or edited, as the emulator accepted it.

    ``text`` is the raw parameter; ``plain_text``/``entities`` are what Telegram
    would store after parsing (entity offsets in UTF-16 code units).
    """

    chat_id: int
    message_id: int
    text: str
    plain_text: str
    entities: tuple[MessageEntity, ...]
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    disable_notification: bool
    message_thread_id: int | None
    link_preview_disabled: bool
    at: float
    method: str


@dataclass(frozen=True)
class RecordedRequest:
    """One API call: lower-cased method, decoded parameters, arrival time, HTTP status.

    Calls are listed in the order they were answered (a long poll is listed when
    it returns); ``status`` is 0 when the emulator closed the connection unanswered.
    """

    method: str
    params: Mapping[str, Any]
    at: float
    status: int


@dataclass(frozen=True)
class CallbackAnswer:
    """One successful answerCallbackQuery call."""

    callback_query_id: str
    chat_id: int | None
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass(frozen=True)
class Failure:
    """A fault to inject into a chat's next sendMessage calls; build one with a classmethod.

    ``status``/``description``/``parameters`` are the error answer; ``delay``
    postpones the answer (``slow``); ``drop`` accepts the message and then closes
    the connection without an answer, like a response lost on the way back.
    """

    name: str
    status: int = 200
    description: str = ""
    parameters: Mapping[str, int] | None = None
    delay: float = 0.0
    drop: bool = False
    body: str | None = None

    @classmethod
    def blocked(cls) -> Failure:
        return cls("blocked", 403, "Forbidden: bot was blocked by the user")

    @classmethod
    def deactivated(cls) -> Failure:
        return cls("deactivated", 403, "Forbidden: user is deactivated")

    @classmethod
    def kicked(cls, chat_kind: str = "group") -> Failure:
        """``chat_kind`` is "group", "supergroup" or "channel", as in the real wording."""
        return cls("kicked", 403, f"Forbidden: bot was kicked from the {chat_kind} chat")

    @classmethod
    def chat_not_found(cls) -> Failure:
        return cls("chat_not_found", 400, "Bad Request: chat not found")

    @classmethod
    def migrated(cls, new_chat_id: int) -> Failure:
        return cls(
            "migrated",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @classmethod
    def retry_after(cls, seconds: int) -> Failure:
        return cls(
            "retry_after",
            429,
            f"Too Many Requests: retry after {seconds}",
            {"retry_after": seconds},
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Failure:
        """500 answers Telegram's JSON; 502 answers nginx's HTML page, as the real front does."""
        if status == 502:
            return cls("server_error", 502, "Bad Gateway", body=NGINX_BAD_GATEWAY)
        return cls("server_error", status, "Internal Server Error")

    @classmethod
    def drop_response(cls) -> Failure:
        return cls("drop_response", drop=True)

    @classmethod
    def slow(cls, seconds: float) -> Failure:
        return cls("slow", delay=seconds)

    @classmethod
    def garbled(cls) -> Failure:
        """The message is accepted, but the 200 answer's body is not JSON."""
        return cls("garbled", 200, "OK", body="<html><body>OK</body></html>")


class ApiError(Exception):
    """An error answer: HTTP status == error_code, Telegram's description and parameters."""

    def __init__(
        self,
        status: int,
        description: str,
        parameters: Mapping[str, int] | None = None,
        *,
        body: str | None = None,
        flood: bool = False,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.body = body
        self.flood = flood

    def response(self) -> web.Response:
        if self.body is not None:
            return web.Response(status=self.status, text=self.body, content_type="text/html")
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            payload["parameters"] = dict(self.parameters)
        return web.json_response(payload, status=self.status)


class _DropConnection(Exception):
    """Raised by a method to close the connection after its side effects happened."""


class _Pulse:
    """Wakes every coroutine currently waiting; plain functions can fire it.

    An ``asyncio.Condition`` needs its lock held to notify, which the
    synchronous user-side methods cannot do; swapping a fresh Event is enough
    because everything runs on one loop.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next ``fire``; False when ``seconds`` passed first."""
        event = self._event
        try:
            async with asyncio.timeout(max(seconds, 0.0)):
                await event.wait()
        except TimeoutError:
            return False
        return True


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    bot_status: str = "member"
    members: dict[int, str] = field(default_factory=dict)
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def to_api(self) -> dict[str, Any]:
        result: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title is not None:
            result["title"] = self.title
        if self.first_name is not None:
            result["first_name"] = self.first_name
        if self.username is not None:
            result["username"] = self.username
        return result


@dataclass
class _StoredMessage:
    """A bot message the emulator keeps so it can be edited, deleted or pressed."""

    api: dict[str, Any]
    formatted: FormattedText
    reply_markup: dict[str, Any] | None


@dataclass
class _ChatFailures:
    failure: Failure
    remaining: int | None


class BotAPIEmulator:
    """A fake Bot API server for one bot; see the module docstring for the contract."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        bot_username: str = "newsbot_test_bot",
        bot_first_name: str = "Newsbot Test",
        enforce_limits: bool = True,
        limits: FloodLimits | None = None,
        validate_html: bool = True,
        require_known_chats: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``validate_html=False`` keeps HTML text verbatim (no parse errors; the length
        limit then applies to the raw markup).  ``require_known_chats`` makes sends to
        chats never seen answer "chat not found", as Telegram does; by default a send
        introduces the chat.  ``clock`` drives the flood limits and the ``at`` timestamps
        (monotonic seconds); waits always use real time."""
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.enforce_limits = enforce_limits
        self.validate_html = validate_html
        self.require_known_chats = require_known_chats
        self._clock = clock
        self._gate = FloodGate(limits or FloodLimits())

        self.sent: list[SentMessage] = []
        self.requests: list[RecordedRequest] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.limit_violations: list[RecordedRequest] = []

        self._chats: dict[int, _Chat] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: dict[str, tuple[int, int]] = {}
        self._failures: dict[int, _ChatFailures] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: dict[str, Any] | None = None
        self._poll_generation = 0
        self._subscribers: list[asyncio.Queue[dict[str, Any]]] = []

        self._updates_pulse = _Pulse()
        self._activity_pulse = _Pulse()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._api_url: str | None = None
        self._methods: dict[str, Callable[[Params], Awaitable[Any]]] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "sendchataction": self._send_chat_action,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
        }

    # lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 = any free port) on the running loop."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._closing = False
        self._api_url = f"http://{bound_host}:{bound_port}"
        LOGGER.info("Bot API emulator listening on %s", self._api_url)

    async def stop(self) -> None:
        """Answer pending long polls at once, then close the server."""
        self._closing = True
        self._updates_pulse.fire()
        self._activity_pulse.fire()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._api_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT``; the bot calls ``f"{api_url}/bot{token}/{method}"``."""
        if self._api_url is None:
            raise RuntimeError("the emulator is not running; await start() first")
        return self._api_url

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # acting as users

    def register_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> None:
        """Make a chat known (for getChat, "@username" ids and ``require_known_chats``)."""
        chat = self._chat(chat_id, chat_type)
        chat.type = chat_type
        if title is not None:
            chat.title = title
        if first_name is not None:
            chat.first_name = first_name
        if username is not None:
            chat.username = username

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ann",
        chat_title: str | None = None,
        language_code: str | None = "en",
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text``; a leading "/word" becomes a ``bot_command`` entity."""
        sender = self._user(chat_id, user_id, chat_type, first_name, language_code)
        chat = self._chat(chat_id, chat_type)
        if chat_type == "private":
            chat.first_name = chat.first_name or first_name
        else:
            chat.title = chat_title or chat.title or "Test group"
        message: dict[str, Any] = {
            "message_id": next(chat.message_ids),
            "date": int(time.time()),
            "chat": chat.to_api(),
            "from": sender,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_length(command)}
            ]
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
        return self.queue_update({"message": message})

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A user presses an inline button carrying ``data`` under a message the bot sent."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"the bot sent no message {message_id} to chat {chat_id}")
        chat = self._chats[chat_id]
        sender = self._user(chat_id, user_id, chat.type, chat.first_name or "Ann", "en")
        query_id = str(next(self._callback_ids))
        self._open_callbacks[query_id] = (chat_id, message_id)
        return self.queue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "chat_instance": f"ci{chat_id}",
                    "message": stored.api,
                    "data": data,
                }
            }
        )

    def set_bot_membership(
        self,
        chat_id: int,
        status: str,
        *,
        chat_type: str = "private",
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """The bot is blocked ("kicked"), unblocked ("member"), removed ("left") or promoted.

        The new status sticks: later sends to a blocked or kicked chat answer 403.
        """
        if status not in ("kicked", "member", "left", "administrator"):
            raise ValueError(f"unsupported bot status {status!r}")
        chat = self._chat(chat_id, chat_type)
        old_status = chat.bot_status
        chat.bot_status = status
        actor = self._user(chat_id, user_id, chat.type, chat.first_name or "Ann", "en")
        return self.queue_update(
            {
                "my_chat_member": {
                    "chat": chat.to_api(),
                    "from": actor,
                    "date": int(time.time()),
                    "old_chat_member": _member(old_status, self.bot_user),
                    "new_chat_member": _member(status, self.bot_user),
                }
            }
        )

    def set_chat_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember/getChatAdministrators answer for ``user_id`` (default "member")."""
        self._chat(chat_id, _type_for_id(chat_id)).members[user_id] = status

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any raw update for getUpdates; assigns ``update_id`` and returns the update."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        kind = _update_kind(update)
        self._publish("incoming", kind, _update_chat_id(update), update)
        self._updates_pulse.fire()
        return update

    # inspection

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Accepted sendMessage and editMessageText calls for ``chat_id``, in order."""
        return [message for message in self.sent if message.chat_id == chat_id]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued but not yet confirmed by the bot."""
        return list(self._updates)

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is this method's whole job
    ) -> list[SentMessage]:
        """Wait until ``chat_id`` got at least ``count`` messages; return all of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = self.messages_to(chat_id)
            if len(messages) >= count:
                return messages
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise AssertionError(
                    f"expected {count} message(s) to chat {chat_id} within {timeout} s, "
                    f"got {len(messages)}; everything sent: {self._describe_sent()}; "
                    f"last requests: {self._describe_requests()}"
                )
            await self._activity_pulse.wait(remaining)

    async def wait_for_request(
        self,
        method: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is this method's whole job
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> RecordedRequest:
        """The first recorded call of ``method`` (case-insensitive) matching ``predicate``."""
        wanted = method.lower()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for request in self.requests:
                if request.method == wanted and (predicate is None or predicate(request)):
                    return request
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise AssertionError(
                    f"no {method} request within {timeout} s; requests: {self._describe_requests()}"
                )
            await self._activity_pulse.wait(remaining)

    def subscribe_events(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving every incoming update and every outgoing bot action.

        Each event is ``{"direction": "incoming"|"outgoing", "method": ...,
        "chat_id": ..., "payload": ...}``: for incoming events ``method`` is the
        update type and ``payload`` the update; for outgoing ones ``method`` is the
        lower-cased API method and ``payload`` its result (the Message for sends
        and edits, the parameters for deletions and callback answers).
        """
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe_events(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    # fault injection

    def fail_chat(self, chat_id: int, failure: Failure, times: int | None = None) -> None:
        """Apply ``failure`` to the next ``times`` sendMessage calls to ``chat_id`` (None = until
        cleared).  A migration also introduces the new supergroup so sends to it succeed."""
        self._failures[chat_id] = _ChatFailures(failure, times)
        if failure.parameters and "migrate_to_chat_id" in failure.parameters:
            self._chat(failure.parameters["migrate_to_chat_id"], "supergroup")

    def clear_failures(self, chat_id: int | None = None) -> None:
        if chat_id is None:
            self._failures.clear()
        else:
            self._failures.pop(chat_id, None)

    # HTTP plumbing

    async def _not_found(self, request: web.Request) -> web.Response:
        return ApiError(404, "Not Found").response()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = self._clock()
        method = request.match_info["method"].lower()
        params: Params = {}
        status = 200
        try:
            self._check_token(request.match_info["token"])
            params = await _read_params(request)
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
            response: web.StreamResponse = web.json_response({"ok": True, "result": result})
        except ApiError as error:
            status = error.status
            response = error.response()
            if error.flood:
                self.limit_violations.append(RecordedRequest(method, params, arrived, status))
        except _DropConnection:
            status = 0
            if request.transport is not None:
                request.transport.close()
            response = web.Response(status=204)
        self.requests.append(RecordedRequest(method, params, arrived, status))
        self._activity_pulse.fire()
        LOGGER.debug("%s -> %s", method, status)
        return response

    def _check_token(self, token: str) -> None:
        if token == self.token:
            return
        if not TOKEN_PATTERN.match(token):
            raise ApiError(401, "Unauthorized: invalid token specified")
        raise ApiError(401, "Unauthorized")

    # methods

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = min(max(_int_param(params, "timeout", 0), 0), LONG_POLL_MAX_TIMEOUT)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None

        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_pulse.fire()  # an older poll still waiting now loses with 409
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            ready = self._deliverable(limit)
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing:
                return ready
            await self._updates_pulse.wait(remaining)
            if self._poll_generation != generation:
                raise ApiError(409, POLL_CONFLICT)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` updates; types the bot did not ask for are dropped, as on Telegram."""
        self._updates = [u for u in self._updates if self._is_allowed(_update_kind(u))]
        return self._updates[:limit]

    def _is_allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    async def _set_webhook(self, params: Params) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self._webhook = None
            return True
        if not url.lower().startswith("https://"):
            raise ApiError(400, HTTPS_WEBHOOK_REQUIRED)
        self._webhook = {"url": url, "max_connections": _int_param(params, "max_connections", 40)}
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        self._updates_pulse.fire()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self._webhook = None
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
        return info

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        formatted = self._formatted_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        chat = self._chat_for_send(chat_id)
        _check_bot_can_write(chat)
        failure = self._take_failure(chat_id)
        if failure is not None and failure.delay:
            await self._sleep(failure.delay)
        if failure is not None and failure.status >= 400:
            raise ApiError(
                failure.status, failure.description, failure.parameters, body=failure.body
            )
        self._admit(chat_id, paid=_bool_param(params, "allow_paid_broadcast"))

        message: dict[str, Any] = {
            "message_id": next(chat.message_ids),
            "from": self.bot_user,
            "chat": chat.to_api(),
            "date": int(time.time()),
            "text": formatted.text,
        }
        thread_id = _optional_int(params.get("message_thread_id"))
        if thread_id is not None:
            message["message_thread_id"] = thread_id
        self._decorate(message, formatted, markup, params)
        self._store(chat_id, message, formatted, markup)
        self._record_sent("sendmessage", chat_id, message, formatted, markup, params)
        if failure is not None and failure.drop:
            raise _DropConnection
        if failure is not None and failure.body is not None:
            # Accepted, but the answer is not JSON (``garbled``): a proxy mangled it.
            raise ApiError(failure.status, failure.description, body=failure.body)
        return message

    async def _edit_message_text(self, params: Params) -> dict[str, Any] | bool:
        stored, chat_id = self._message_to_edit(params)
        formatted = self._formatted_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        if formatted == stored.formatted and markup == stored.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        self._admit(chat_id, paid=False)
        message = {
            key: value
            for key, value in stored.api.items()
            if key not in ("entities", "reply_markup", "link_preview_options")
        }
        message["text"] = formatted.text
        message["edit_date"] = int(time.time())
        self._decorate(message, formatted, markup, params)
        self._store(chat_id, message, formatted, markup)
        self._record_sent("editmessagetext", chat_id, message, formatted, markup, params)
        return message

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any] | bool:
        stored, chat_id = self._message_to_edit(params)
        markup = _checked_markup(params.get("reply_markup"))
        if markup == stored.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message = {key: value for key, value in stored.api.items() if key != "reply_markup"}
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        self._store(chat_id, message, stored.formatted, markup)
        self._publish("outgoing", "editmessagereplymarkup", chat_id, message)
        return message

    def _message_to_edit(self, params: Params) -> tuple[_StoredMessage, int]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message_id = _optional_int(params.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return stored, chat_id

    async def _delete_message(self, params: Params) -> bool:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message_id = _optional_int(params.get("message_id"))
        if message_id is None or self._messages.pop((chat_id, message_id), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self._publish("outgoing", "deletemessage", chat_id, {"message_id": message_id})
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if not params.get("action"):
            raise ApiError(400, "Bad Request: action is empty")
        self._publish("outgoing", "sendchataction", chat_id, {"action": params["action"]})
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        origin = self._open_callbacks.pop(query_id, None)
        if origin is None:
            raise ApiError(400, QUERY_TOO_OLD)
        answer = CallbackAnswer(
            callback_query_id=query_id,
            chat_id=origin[0],
            message_id=origin[1],
            text=None if text is None else str(text),
            show_alert=_bool_param(params, "show_alert"),
            url=params.get("url"),
            at=self._clock(),
        )
        self.callback_answers.append(answer)
        self._publish("outgoing", "answercallbackquery", origin[0], dict(params))
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not BOT_COMMAND_PATTERN.match(
                str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[_commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        return list(self._commands.get(_commands_key(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(self._resolve_chat_id(params.get("chat_id")))
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(self._resolve_chat_id(params.get("chat_id")))
        user_id = _optional_int(params.get("user_id"))
        if user_id is None:
            raise ApiError(400, "Bad Request: user not found")
        if user_id == self.bot_id:
            return _member(chat.bot_status, self.bot_user)
        user = {"id": user_id, "is_bot": False, "first_name": chat.first_name or "User"}
        return _member(chat.members.get(user_id, "member"), user)

    async def _get_chat_administrators(self, params: Params) -> list[dict[str, Any]]:
        chat = self._known_chat(self._resolve_chat_id(params.get("chat_id")))
        if chat.type == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = [
            _member(status, {"id": user_id, "is_bot": False, "first_name": "User"})
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(_member("administrator", self.bot_user))
        return admins

    # helpers

    def _formatted_text(self, params: Params) -> FormattedText:
        """Validate ``text``/``parse_mode``/``entities`` as the server does, in its order."""
        raw = params.get("text")
        text = "" if raw is None else str(raw)
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-8", "surrogatepass")) > MAX_RAW_TEXT_BYTES:
            raise ApiError(400, "Bad Request: text is too long")
        raw_mode = params.get("parse_mode")
        mode = str(raw_mode).lower() if raw_mode else None
        if mode not in (None, "html", "markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        entities = params.get("entities")
        try:
            if mode == "html" and not self.validate_html:
                formatted = format_text(text)
            else:
                formatted = format_text(
                    text, mode, entities if isinstance(entities, list) else None
                )
        except HtmlParseError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error.message}") from None
        if not formatted.text:
            raise ApiError(400, "Bad Request: text must be non-empty")
        if len(formatted.text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return formatted

    def _decorate(
        self,
        message: dict[str, Any],
        formatted: FormattedText,
        markup: dict[str, Any] | None,
        params: Params,
    ) -> None:
        if formatted.entities:
            message["entities"] = [entity.to_api() for entity in formatted.entities]
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if _link_preview_disabled(params):
            message["link_preview_options"] = {"is_disabled": True}

    def _store(
        self,
        chat_id: int,
        message: dict[str, Any],
        formatted: FormattedText,
        markup: dict[str, Any] | None,
    ) -> None:
        self._messages[(chat_id, message["message_id"])] = _StoredMessage(
            message, formatted, markup
        )

    def _record_sent(
        self,
        method: str,
        chat_id: int,
        message: dict[str, Any],
        formatted: FormattedText,
        markup: dict[str, Any] | None,
        params: Params,
    ) -> None:
        parse_mode = params.get("parse_mode")
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                text=str(params.get("text")),
                plain_text=formatted.text,
                entities=formatted.entities,
                parse_mode=None if parse_mode in (None, "") else str(parse_mode),
                reply_markup=markup,
                disable_notification=_bool_param(params, "disable_notification"),
                message_thread_id=_optional_int(params.get("message_thread_id")),
                link_preview_disabled=_link_preview_disabled(params),
                at=self._clock(),
                method=method,
            )
        )
        self._publish("outgoing", method, chat_id, message)
        self._activity_pulse.fire()

    def _admit(self, chat_id: int, *, paid: bool) -> None:
        if not self.enforce_limits:
            return
        retry_after = self._gate.admit(chat_id, self._clock(), paid=paid)
        if retry_after is not None:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
                flood=True,
            )

    def _take_failure(self, chat_id: int) -> Failure | None:
        entry = self._failures.get(chat_id)
        if entry is None:
            return None
        if entry.remaining is not None:
            entry.remaining -= 1
            if entry.remaining <= 0:
                del self._failures[chat_id]
        return entry.failure

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up at once when the emulator stops, so shutdown stays quick."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._closing and (remaining := deadline - loop.time()) > 0:
            await self._updates_pulse.wait(remaining)

    def _resolve_chat_id(self, raw: object) -> int:
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        value = str(raw).strip()
        if value.startswith("@"):
            wanted = value[1:].lower()
            for chat in self._chats.values():
                if chat.username is not None and chat.username.lower() == wanted:
                    return chat.id
            raise ApiError(400, "Bad Request: chat not found")
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None

    def _chat(self, chat_id: int, chat_type: str) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(chat_id, chat_type)
            self._chats[chat_id] = chat
        return chat

    def _known_chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _chat_for_send(self, chat_id: int) -> _Chat:
        if self.require_known_chats:
            return self._known_chat(chat_id)
        return self._chat(chat_id, _type_for_id(chat_id))

    def _user(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str,
        first_name: str,
        language_code: str | None,
    ) -> dict[str, Any]:
        if user_id is None:
            user_id = chat_id if chat_type == "private" else DEFAULT_GROUP_USER_ID
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _publish(self, direction: str, method: str, chat_id: int | None, payload: Any) -> None:
        event = {"direction": direction, "method": method, "chat_id": chat_id, "payload": payload}
        for queue in self._subscribers:
            queue.put_nowait(event)

    def _describe_sent(self) -> str:
        return repr([(m.method, m.chat_id, m.plain_text[:80]) for m in self.sent]) or "nothing"

    def _describe_requests(self) -> str:
        return repr([(r.method, r.status) for r in self.requests[-20:]])


async def _read_params(request: web.Request) -> Params:
    """Query string plus a form, multipart or JSON body; JSON-valued fields decoded."""
    params: Params = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: can't parse JSON object")
            params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
                elif isinstance(value, web.FileField):
                    params[key] = f"<file {value.filename}>"
                else:
                    params[key] = bytes(value).decode("utf-8", "replace")
    for key in JSON_PARAMETERS & params.keys():
        value = params[key]
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return params


def _int_param(params: Params, name: str, default: int) -> int:
    value = _optional_int(params.get(name))
    return default if value is None else value


def _optional_int(value: object) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _bool_param(params: Params, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _link_preview_disabled(params: Params) -> bool:
    options = params.get("link_preview_options")
    if isinstance(options, dict) and options.get("is_disabled"):
        return True
    return _bool_param(params, "disable_web_page_preview")


def _checked_markup(markup: object) -> dict[str, Any] | None:
    """Validate an inline keyboard as the server does; other keyboards are kept unchecked.

    Only inline keyboards are echoed in the returned Message, as on Telegram.
    """
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, BAD_MARKUP)
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, BAD_MARKUP)
    buttons = [button for row in rows for button in row]
    if len(buttons) > MAX_INLINE_BUTTONS:
        raise ApiError(400, "Bad Request: reply markup is too long")
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(400, BAD_BUTTON_TEXT)
        data = button.get("callback_data")
        if data is not None and len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if len(button) == 1:
            raise ApiError(400, TEXT_BUTTON_IN_INLINE_KEYBOARD)
    return markup


def _check_bot_can_write(chat: _Chat) -> None:
    """403 for a chat that blocked or removed the bot, in Telegram's per-type wording."""
    if chat.type == "private":
        if chat.bot_status == "kicked":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return
    kind = "group" if chat.type == "group" else chat.type
    if chat.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
    if chat.bot_status == "left":
        raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember object with every field PTB requires for ``status``."""
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        )
        member: dict[str, Any] = {"status": "administrator", "user": user}
        member.update({"can_be_edited": False, "is_anonymous": False})
        member.update(dict.fromkeys(rights, True))
        return member
    return {"status": status, "user": user}


def _type_for_id(chat_id: int) -> str:
    """Telegram's id ranges: users positive, supergroups/channels -100…, basic groups negative."""
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _update_kind(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "unknown")


def _update_chat_id(update: Mapping[str, Any]) -> int | None:
    body = update.get(_update_kind(update))
    if not isinstance(body, dict):
        return None
    chat = body.get("chat") or (body.get("message") or {}).get("chat")
    return chat.get("id") if isinstance(chat, dict) else None


def _commands_key(params: Params) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
