"""Small helpers shared by the command handlers: the chat, its language, who may change it,
replying safely, and reading a command's argument.

Every reply is HTML, so any text a user typed goes through `html.escape` (`quote`) before it
is echoed; `command` registers a handler for new messages only, so an edited command, a
channel post, a sticker or a photo never runs a command twice or at all.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, ChatMember, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import CustomContext
from bot.delivery.format import MAX_MESSAGE_CHARS  # Telegram's limit, in UTF-16 code units
from bot.i18n import Translator
from storage import chats as chat_store
from storage.records import ChatRecord

logger = logging.getLogger(__name__)

MAX_ARGUMENT_CHARS = 1000  # longer arguments are refused before anything parses them
MAX_ECHO_CHARS = 40  # how much of a user's word a reply may quote back
MAX_LISTED = 20  # names a reply lists before "and N more"
_TAG = re.compile(r"<[^>]*>")
ADMIN_STATUSES = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})

Callback = Callable[[Update, CustomContext], Coroutine[Any, Any, None]]


def command(name: str, callback: Callback) -> BaseHandler[Update, CustomContext, None]:
    """A command for new messages in private chats and groups (not edits, not channels)."""
    return CommandHandler(
        name, callback, filters=filters.UpdateType.MESSAGE & ~filters.ChatType.CHANNEL
    )


async def register_chat(update: Update, context: CustomContext) -> ChatRecord | None:
    """Create or refresh the chat's row; every command does this so no chat is unknown."""
    chat = update.effective_chat
    if chat is None or chat.type == "channel":
        return None
    user = update.effective_user
    app = context.app
    async with app.sessionmaker() as session, session.begin():
        return await chat_store.upsert_chat(
            session,
            chat.id,
            chat_type=chat.type,
            title=chat.title or chat.full_name,
            language=user.language_code if user else None,
            now=app.clock.now(),
        )


def translator(context: CustomContext, chat: ChatRecord | None) -> Translator:
    return context.app.locales.get(chat.language if chat else None)


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat (and forum topic) the update came from; text is HTML."""
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(text, do_quote=False, **kwargs)  # type: ignore[arg-type]


async def edit_button_message(
    query: CallbackQuery, text: str | None = None, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message a pressed button belongs to: its HTML text, or only its keyboard.

    Telegram refuses an edit that changes nothing ("message is not modified"): a double tap,
    or two presses racing, ask for the message it already shows, so that answer means done.
    """
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup)
        else:
            await query.edit_message_text(text, reply_markup=reply_markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


def argument(update: Update) -> str:
    """The text after the command, with quotes and spacing as the user typed them."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def quote(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """A user's text, shortened and escaped, in quotation marks: safe to put in HTML."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"“{html.escape(text)}”"


def listing(t: Translator, names: list[str], limit: int = MAX_LISTED) -> str:
    """Names (already HTML) joined with commas; past `limit`, the rest as "and N more"."""
    shown = ", ".join(names[:limit])
    if len(names) <= limit:
        return shown
    more = len(names) - limit
    return shown + " " + t.ngettext("and {count} more", "and {count} more", more).format(count=more)


def message_length(text: str) -> int:
    """How long Telegram counts an HTML message: its visible text, in UTF-16 code units.

    Our replies escape every "<" that is not one of our tags (`quote`), so removing tags and
    unescaping leaves what the user sees."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def fit_reply(t: Translator, lines: list[str], footer: list[str]) -> str:
    """`lines` then `footer`, one per line, cut so the message stays within Telegram's limit.

    Lines that do not fit are left off whole (so no HTML tag is cut) and counted in a last
    line instead; the footer is always kept."""
    tail = "\n".join(footer)
    # Room for the note about lines left off, whatever the count and language.
    budget = MAX_MESSAGE_CHARS - message_length(tail) - 200
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        length = message_length(line) + 1
        if used + length > budget:
            left_off = len(lines) - index
            kept.append(
                t.ngettext(
                    "…and {count} more line, left off to keep this message short.",
                    "…and {count} more lines, left off to keep this message short.",
                    left_off,
                ).format(count=left_off)
            )
            break
        kept.append(line)
        used += length
    return "\n".join(kept + footer)


def thread_of(update: Update) -> int | None:
    """The forum topic a message was sent in, if any (reply chains are not topics)."""
    message = update.effective_message
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def may_change(update: Update, context: CustomContext) -> bool:
    """Whether the sender may change this chat's subscriptions and settings.

    Anyone in a private chat; in a group, its administrators (an anonymous admin posts as
    the group itself). Telegram is asked each time: admin lists change, and a stale cache
    would let a demoted member keep control.
    """
    chat = update.effective_chat
    user = update.effective_user
    if chat is None:
        return False
    if chat.type == "private":
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        logger.warning(
            "Could not check the rights of user %d in chat %d: %s", user.id, chat.id, error
        )
        return False
    return member.status in ADMIN_STATUSES


def admins_only(t: Translator) -> str:
    _ = t.gettext
    return _("Only the group's admins can change what this group follows and its settings.")


def too_long(t: Translator) -> str:
    _ = t.gettext
    return _("That is too long. Please keep it under {limit} characters.").format(
        limit=MAX_ARGUMENT_CHARS
    )


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A command that may change the chat, past the checks every such command makes."""

    chat: ChatRecord
    t: Translator
    text: str


async def start_change(update: Update, context: CustomContext) -> ChangeRequest | None:
    """Register the chat, refuse an over-long argument or a non-admin in a group.

    Replies itself and returns None when a check fails, so /subscribe and /unsubscribe
    share one order of checks instead of each spelling it out.
    """
    chat = await register_chat(update, context)
    if chat is None:
        return None
    t = translator(context, chat)
    text = argument(update)
    if len(text) > MAX_ARGUMENT_CHARS:
        await reply(update, too_long(t))
        return None
    if not await may_change(update, context):
        await reply(update, admins_only(t))
        return None
    return ChangeRequest(chat=chat, t=t, text=text)
