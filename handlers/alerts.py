"""The buttons under each alert: "More on <topic>" and "Mute <topic>", or, when a keyword
watch brought the alert, "Stop watching “<watch>”"; and the last resort for any other button.

`alert_keyboard` is what the sender attaches to a single alert (see `bot.app`); its data is
`more:<slug>` (anyone may press it: it only reads), `mute:<slug>` and `unwatch:<subscription
id>` (admins, in groups).
"""

from __future__ import annotations

import gettext
import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import CustomContext
from bot.delivery.format import render_digest
from bot.i18n import Locales, topic_name
from bot.topics import Topic, TopicCatalogue
from handlers.common import admins_only, may_change, register_chat, translator
from storage import articles as article_store
from storage import chats as chat_store
from storage.models import SubscriptionKind
from storage.records import PendingAlert

MORE_STORIES = 5


def primary_topic(topics: frozenset[str], catalogue: TopicCatalogue) -> Topic | None:
    """The story's first topic in catalogue order (the order /topics shows)."""
    return next((topic for topic in catalogue.topics if topic.slug in topics), None)


def alert_keyboard(
    alert: PendingAlert, catalogue: TopicCatalogue, locales: Locales
) -> InlineKeyboardMarkup | None:
    """ "More on Ukraine" and "Mute Ukraine" for an alert on a topic the chat follows; "More on
    Ukraine" and "Stop watching “drone”" for one a watch brought (the chat follows no topic of
    it, so there is none to mute); None when there is nothing to offer."""
    topic = primary_topic(alert.story.topics, catalogue)
    t = locales.get(alert.language)
    _ = t.gettext
    row = []
    if topic is not None:
        name = topic_name(t, topic)
        row.append(
            InlineKeyboardButton(
                _("More on {topic}").format(topic=name), callback_data=f"more:{topic.slug}"
            )
        )
    if alert.watches:
        sub_id, watch = alert.watches[0]
        row.append(
            InlineKeyboardButton(
                _("Stop watching “{keyword}”").format(keyword=_short(watch)),
                callback_data=f"unwatch:{sub_id}",
            )
        )
    elif topic is not None:
        row.append(
            InlineKeyboardButton(
                _("Mute {topic}").format(topic=name), callback_data=f"mute:{topic.slug}"
            )
        )
    return InlineKeyboardMarkup([row]) if row else None


def _short(watch: str, limit: int = 24) -> str:
    """A watch short enough for a button's label."""
    return watch if len(watch) <= limit else watch[: limit - 1].rstrip() + "…"


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    if query is None:
        return
    chat = await register_chat(update, context)
    t = translator(context, chat)
    _ = t.gettext
    app = context.app
    kind, _sep, slug = (query.data or "").partition(":")
    if kind == "unwatch" and chat is not None:
        await _unwatch(update, context, chat.id, slug, t)
        return
    topic = app.catalogue.get(slug)
    if chat is None or topic is None:
        await query.answer(_("That button is out of date."))
        return
    name = topic_name(t, topic)
    if kind == "more":
        async with app.sessionmaker() as session:
            stories = await article_store.newest_in_topics(
                session, {topic.slug}, limit=MORE_STORIES
            )
        await query.answer()
        if not stories:
            text = html.escape(_("No stored story on {topic} yet.").format(topic=name))
            await context.bot.send_message(chat.id, text, message_thread_id=_thread(update))
            return
        rendered = render_digest(
            stories, heading=_("Latest on {what}").format(what=name), translator=t
        )
        await context.bot.send_message(
            chat.id,
            rendered.text,
            parse_mode=rendered.parse_mode,
            message_thread_id=_thread(update),
        )
        return
    if not await may_change(update, context):
        await query.answer(admins_only(t), show_alert=True)
        return
    async with app.sessionmaker() as session, session.begin():
        removed = await chat_store.remove_subscription(
            session, chat.id, SubscriptionKind.TOPIC, topic.slug
        )
    if removed:
        await query.answer(
            _("Muted {topic}: no more alerts on it. /subscribe {slug} to undo.").format(
                topic=name, slug=topic.slug
            ),
            show_alert=True,
        )
    else:
        await query.answer(_("This chat does not follow {topic}.").format(topic=name))


async def _unwatch(
    update: Update,
    context: CustomContext,
    chat_id: int,
    sub_id: str,
    t: gettext.NullTranslations,
) -> None:
    """Stop the keyword watch that brought an alert (only this chat's own watch)."""
    query = update.callback_query
    assert query is not None
    _ = t.gettext
    if not await may_change(update, context):
        await query.answer(admins_only(t), show_alert=True)
        return
    removed = None
    if sub_id.isdigit():
        async with context.app.sessionmaker() as session, session.begin():
            removed = await chat_store.remove_subscription_by_id(
                session, chat_id, int(sub_id), SubscriptionKind.KEYWORD
            )
    if removed is None:
        await query.answer(_("This chat no longer watches that keyword."))
        return
    await query.answer(
        _("Stopped watching “{keyword}”. /subscribe {keyword} to undo.").format(keyword=removed),
        show_alert=True,
    )


def _thread(update: Update) -> int | None:
    message = update.effective_message
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def on_stale_button(update: Update, context: CustomContext) -> None:
    """Any button no other handler knows: forged, or from an older version of the bot."""
    query = update.callback_query
    if query is None:
        return
    chat = await register_chat(update, context)
    _ = translator(context, chat).gettext
    await query.answer(_("That button is out of date."))


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [CallbackQueryHandler(on_button, pattern=r"^(more|mute|unwatch):")]


def build_fallback() -> list[BaseHandler[Update, CustomContext, None]]:
    return [CallbackQueryHandler(on_stale_button)]
