"""/start and /help: what the bot does and how to use it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import CustomContext
from handlers.common import register_chat, reply

WELCOME = (
    "👋 <b>newsbot</b> sends you news alerts the moment a story breaks: "
    "a headline, a short summary and a link.\n\n"
    "Pick what you want to follow:\n"
    "• /subscribe ukraine sanctions: follow topics (see /topics)\n"
    '• /subscribe "price cap": watch any word or phrase\n'
    "• /subscribe: choose from a list\n\n"
    "/latest shows the newest story; /help lists every command."
)

HELP = (
    "<b>Commands</b>\n"
    "/subscribe <i>topics or keywords</i>: get alerts (alone: choose from a list)\n"
    "/unsubscribe <i>topic or keyword</i>: stop them (alone: choose from a list; "
    "<code>all</code>: stop everything)\n"
    "/subscriptions: what this chat follows\n"
    "/topics: the topics you can follow\n"
    "/latest [<i>topic</i>]: the newest story, for your subscriptions or one topic\n"
    "/help: this list\n\n"
    "A word or phrase that is not a topic becomes a keyword watch: /subscribe Tomahawk, "
    '/subscribe "Black Sea". Alerts come once per story.'
)


async def start(update: Update, context: CustomContext) -> None:
    await register_chat(update, context)
    await reply(update, WELCOME)


async def help_command(update: Update, context: CustomContext) -> None:
    await register_chat(update, context)
    await reply(update, HELP)


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [CommandHandler("start", start), CommandHandler("help", help_command)]
