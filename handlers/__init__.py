"""Every chat handler of the bot, in the order PTB tries them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import CustomContext
from handlers import latest, membership, start, subscriptions


def all_handlers() -> list[BaseHandler[Update, CustomContext, None]]:
    return [
        *start.build(),
        *subscriptions.build(),
        *latest.build(),
        *membership.build(),
    ]
