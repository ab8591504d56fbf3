"""The one error handler: log what failed, and tell the user something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import CustomContext

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on our side. Please try again in a moment."


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
        if chat is not None and not isinstance(error, TelegramError):
            try:
                await context.bot.send_message(chat.id, SORRY)
            except TelegramError:
                logger.warning("Could not tell chat %d about the error", chat.id)
    else:
        logger.error("Background job failed", exc_info=error)
