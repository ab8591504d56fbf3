"""/start and /help: what the bot does and how to use it; and a hint for unknown commands."""

from __future__ import annotations

from telegram import Bot, BotCommand, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.context import CustomContext
from bot.i18n import Locales, Translator
from handlers.common import command, quote, register_chat, reply, translator


def welcome(t: Translator) -> str:
    _ = t.gettext
    return _(
        "👋 <b>newsbot</b> sends you news alerts the moment a story breaks: "
        "a headline, a short summary and a link.\n\n"
        "Pick what you want to follow:\n"
        "• /subscribe ukraine sanctions: follow topics (see /topics)\n"
        '• /subscribe "price cap": watch any word or phrase\n'
        "• /subscribe: choose from a list\n\n"
        "/latest shows the newest story; /settings chooses when alerts come; "
        "/help lists every command."
    )


def help_text(t: Translator) -> str:
    _ = t.gettext
    return _(
        "<b>Commands</b>\n"
        "/subscribe <i>topics or keywords</i>: get alerts (alone: choose from a list)\n"
        "/unsubscribe <i>topic or keyword</i>: stop them (alone: choose from a list; "
        "<code>all</code>: stop everything)\n"
        "/subscriptions: what this chat follows\n"
        "/topics: the topics you can follow\n"
        "/latest [<i>topic</i>]: the newest story, for your subscriptions or one topic\n"
        "/search <i>words</i>: the newest stories that mention them\n"
        "/settings: instant alerts or digests, quiet hours, language\n"
        "/pause, /resume: stop and restart alerts\n"
        "/timezone <i>Europe/Kyiv</i>: your time zone, for digests and quiet hours\n"
        "/language: English or Ukrainian\n"
        "/stop: unsubscribe from everything and delete this chat's data\n"
        "/help: this list\n\n"
        "A word or phrase that is not a topic becomes a keyword watch: /subscribe Tomahawk, "
        '/subscribe "Black Sea". Alerts come once per story. In groups, only admins can '
        "change subscriptions and settings."
    )


def menu_commands(t: Translator) -> list[BotCommand]:
    """The command menu Telegram shows next to the text field, in one language."""
    _ = t.gettext
    return [
        BotCommand("latest", _("The newest story for you, or: /latest ukraine")),
        BotCommand("subscribe", _("Follow topics or keywords")),
        BotCommand("unsubscribe", _("Stop following something")),
        BotCommand("subscriptions", _("What this chat follows")),
        BotCommand("search", _("Find stories: /search drone Odesa")),
        BotCommand("topics", _("Topics you can follow")),
        BotCommand("settings", _("Digests, quiet hours, language")),
        BotCommand("pause", _("Pause alerts")),
        BotCommand("resume", _("Resume alerts")),
        BotCommand("help", _("How to use the bot")),
    ]


async def register_menus(bot: Bot, locales: Locales) -> None:
    """setMyCommands once for everyone (English), then once per language (language_code)."""
    await bot.set_my_commands(menu_commands(locales.get(None)))
    for code in locales.languages:
        await bot.set_my_commands(menu_commands(locales.get(code)), language_code=code)


async def start(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    await reply(update, welcome(translator(context, chat)))


async def help_command(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    await reply(update, help_text(translator(context, chat)))


async def unknown_command(update: Update, context: CustomContext) -> None:
    """A command this bot does not have, in a private chat (groups have other bots' too)."""
    chat = await register_chat(update, context)
    message = update.effective_message
    if message is None or chat is None:
        return
    _ = translator(context, chat).gettext
    name = (message.text or "").split(maxsplit=1)[0] if message.text else "/"
    await reply(
        update,
        _("I don't know the command {command}. /help lists what I can do.").format(
            command=quote(name)
        ),
    )


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [command("start", start), command("help", help_command)]


async def plain_text(update: Update, context: CustomContext) -> None:
    """Text that is not a command, in a private chat: say how to talk to the bot rather than
    stay silent (the throttle counts it like a command, so a flood gets no flood back)."""
    chat = await register_chat(update, context)
    if chat is None:
        return
    _ = translator(context, chat).gettext
    await reply(
        update,
        _(
            "I follow commands: /help lists them. To get alerts on a word or a topic, send "
            "/subscribe and the word, e.g. /subscribe Odesa."
        ),
    )


def build_fallback() -> list[BaseHandler[Update, CustomContext, None]]:
    """Registered after every other command, so it only sees commands nobody handled, and
    text in a private chat."""
    return [
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.COMMAND,
            unknown_command,
        ),
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            plain_text,
        ),
    ]
