"""The one error handler: log what failed, and tell the user something went wrong."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import BadRequest, TelegramError

from bot.context import CustomContext
from bot.i18n import Translator
from bot.i18n.data import N_
from storage import chats as chat_store

logger = logging.getLogger(__name__)

SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment.")


async def _translator(update: Update, context: CustomContext, chat_id: int) -> Translator:
    """The chat's chosen language, else the user's; the database may be what failed."""
    user = update.effective_user
    language = user.language_code if user else None
    with contextlib.suppress(Exception):
        async with context.app.sessionmaker() as session:
            chat = await chat_store.get_chat(session, chat_id)
        if chat is not None and chat.language:
            language = chat.language
    return context.app.locales.get(language)


def _should_apologise(update: Update, error: BaseException | None) -> bool:
    """Whether telling the chat is worth a message.

    A bug of ours, yes. A Telegram error usually means a message cannot reach the chat at all
    (blocked, flood wait, network), so no. But Telegram refusing a command's reply (too long,
    bad markup) leaves the user with silence unless a short apology follows. A refused button
    answer or edit ("query is too old", "message is not modified") is not worth a message.
    """
    if not isinstance(error, TelegramError):
        return True
    return isinstance(error, BadRequest) and update.message is not None


async def on_error(update: object | None, context: CustomContext) -> None:
    error = context.error
    if isinstance(update, Update):
        chat = update.effective_chat
        logger.error(
            "Update %d in chat %s failed",
            update.update_id,
            chat.id if chat else "?",
            exc_info=error,
        )
        if chat is not None and _should_apologise(update, error):
            try:
                t = await _translator(update, context, chat.id)
                await context.bot.send_message(chat.id, t.gettext(SORRY))
            except TelegramError:
                logger.warning("Could not tell chat %d about the error", chat.id)
    else:
        logger.error("Background job failed", exc_info=error)
