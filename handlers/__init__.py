"""Every chat handler of the bot, in the order PTB tries them.

The throttle comes first (it claims only the updates of a chat over its limit); the
fallbacks for unknown commands and unknown buttons come last.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import CustomContext
from handlers import (
    admin,
    alerts,
    latest,
    membership,
    search,
    settings,
    start,
    stop,
    subscriptions,
    throttle,
)


def all_handlers() -> list[BaseHandler[Update, CustomContext, None]]:
    return [
        *throttle.build(),
        *start.build(),
        *subscriptions.build(),
        *latest.build(),
        *search.build(),
        *settings.build(),
        *stop.build(),
        *alerts.build(),
        *membership.build(),
        *admin.build(),
        *start.build_fallback(),
        *alerts.build_fallback(),
    ]
