"""/topics, /subscribe, /unsubscribe, /subscriptions and their toggle keyboards.

Callback data is short and versioned by prefix: `sub:<slug>` toggles a topic, `uns:t:<slug>`
and `uns:k:<id>` remove a topic or keyword. Anything else, or a button for a topic that no
longer exists, gets a polite answer instead of an error.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import CustomContext
from bot.targets import InvalidTarget, KeywordTarget, TopicTarget, parse_targets
from handlers.common import register_chat, reply
from storage import chats as chat_store
from storage.models import SubscriptionKind
from storage.records import SubscriptionRecord

MAX_KEYWORDS_PER_CHAT = 25
STALE_BUTTON = "That button is out of date. Send /subscribe to see the current list."


def _command_text(update: Update) -> str:
    """The text after the command, with quotes and spacing as the user typed them."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _quote(text: str) -> str:
    return f"“{html.escape(text)}”"


async def topics_command(update: Update, context: CustomContext) -> None:
    await register_chat(update, context)
    lines = ["<b>Topics you can follow</b>"]
    for topic in context.app.catalogue.topics:
        examples = ", ".join(topic.aliases[:4])
        line = f"• <b>{html.escape(topic.name)}</b> (<code>{html.escape(topic.slug)}</code>)"
        if examples:
            line += f": {html.escape(examples)}"
        lines.append(line)
    lines.append("\nFollow one with /subscribe <i>topic</i>, e.g. /subscribe ukraine sanctions.")
    await reply(update, "\n".join(lines))


async def _subscriptions(context: CustomContext, chat_id: int) -> list[SubscriptionRecord]:
    async with context.app.sessionmaker() as session:
        return await chat_store.list_subscriptions(session, chat_id)


def _topic_keyboard(context: CustomContext, followed: set[str]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            ("✓ " if topic.slug in followed else "") + topic.name, callback_data=f"sub:{topic.slug}"
        )
        for topic in context.app.catalogue.topics
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows[:50])


def _followed_topics(subscriptions: list[SubscriptionRecord]) -> set[str]:
    return {s.value for s in subscriptions if s.kind is SubscriptionKind.TOPIC}


async def subscribe(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    app = context.app
    text = _command_text(update)
    if not text.strip():
        subs = await _subscriptions(context, chat.id)
        await reply(
            update,
            "Tap a topic to follow it (✓ = following). For any other word or phrase, send "
            '/subscribe <i>word</i>, e.g. /subscribe "price cap".',
            reply_markup=_topic_keyboard(context, _followed_topics(subs)),
        )
        return

    added: list[str] = []
    already: list[str] = []
    keywords: list[str] = []
    hints: list[str] = []
    problems: list[str] = []
    now = app.clock.now()
    async with app.sessionmaker() as session, session.begin():
        keyword_count = await chat_store.count_subscriptions(
            session, chat.id, SubscriptionKind.KEYWORD
        )
        for target in parse_targets(text, app.catalogue):
            if isinstance(target, TopicTarget):
                created = await chat_store.add_subscription(
                    session, chat.id, SubscriptionKind.TOPIC, target.topic.slug, now=now
                )
                (added if created else already).append(f"<b>{html.escape(target.topic.name)}</b>")
            elif isinstance(target, KeywordTarget):
                if keyword_count >= MAX_KEYWORDS_PER_CHAT:
                    problems.append(
                        f"{_quote(target.typed)}: this chat already watches "
                        f"{MAX_KEYWORDS_PER_CHAT} keywords, the most it can. "
                        "Remove one with /unsubscribe first."
                    )
                    continue
                created = await chat_store.add_subscription(
                    session, chat.id, SubscriptionKind.KEYWORD, target.keyword, now=now
                )
                if created:
                    keyword_count += 1
                    keywords.append(_quote(target.keyword))
                else:
                    already.append(_quote(target.keyword))
                if target.suggestion is not None:
                    hints.append(
                        f"Did you mean the topic <b>{html.escape(target.suggestion.name)}</b>? "
                        f"Send /subscribe {html.escape(target.suggestion.slug)}"
                        f" (and /unsubscribe {html.escape(target.keyword)} to drop the keyword)."
                    )
            elif isinstance(target, InvalidTarget):
                problems.append(f"{_quote(target.typed)}: {html.escape(target.reason)}")

    lines: list[str] = []
    if added:
        lines.append("✅ Subscribed to " + ", ".join(added) + ".")
    if keywords:
        lines.append(
            "🔎 Watching the keyword"
            + ("s " if len(keywords) > 1 else " ")
            + ", ".join(keywords)
            + ": not a topic, so you'll get stories that mention it."
        )
    if already:
        lines.append("Already following " + ", ".join(already) + ".")
    lines.extend(hints)
    lines.extend(problems)
    if added or keywords:
        lines.append("New stories will arrive here as they break. /latest shows the newest now.")
    await reply(update, "\n".join(lines) or "Nothing to subscribe to. See /topics.")


async def unsubscribe(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    app = context.app
    text = _command_text(update)
    subs = await _subscriptions(context, chat.id)
    if not text.strip():
        if not subs:
            await reply(update, "This chat follows nothing yet. Start with /subscribe.")
            return
        await reply(
            update,
            "Tap what you want to stop following:",
            reply_markup=_unsubscribe_keyboard(context, subs),
        )
        return
    if text.strip().lower() in {"all", "everything", "*"}:
        async with app.sessionmaker() as session, session.begin():
            for sub in subs:
                await chat_store.remove_subscription(session, chat.id, sub.kind, sub.value)
        await reply(update, "🔕 Unsubscribed from everything. /subscribe to start again.")
        return

    removed: list[str] = []
    missing: list[str] = []
    async with app.sessionmaker() as session, session.begin():
        for target in parse_targets(text, app.catalogue):
            if isinstance(target, TopicTarget):
                gone = await chat_store.remove_subscription(
                    session, chat.id, SubscriptionKind.TOPIC, target.topic.slug
                )
                name = f"<b>{html.escape(target.topic.name)}</b>"
            elif isinstance(target, KeywordTarget):
                gone = await chat_store.remove_subscription(
                    session, chat.id, SubscriptionKind.KEYWORD, target.keyword
                )
                name = _quote(target.keyword)
            else:
                gone, name = False, _quote(target.typed)
            (removed if gone else missing).append(name)
    lines = []
    if removed:
        lines.append("🔕 Unsubscribed from " + ", ".join(removed) + ".")
    if missing:
        lines.append("This chat wasn't following " + ", ".join(missing) + ". See /subscriptions.")
    await reply(update, "\n".join(lines))


def _unsubscribe_keyboard(
    context: CustomContext, subs: list[SubscriptionRecord]
) -> InlineKeyboardMarkup:
    names = {topic.slug: topic.name for topic in context.app.catalogue.topics}
    rows = []
    for sub in subs[:90]:
        if sub.kind is SubscriptionKind.TOPIC:
            label, data = names.get(sub.value, sub.value), f"uns:t:{sub.value}"
        else:
            label, data = f"“{sub.value}”", f"uns:k:{sub.id}"
        rows.append([InlineKeyboardButton("✕ " + label, callback_data=data)])
    return InlineKeyboardMarkup(rows)


async def subscriptions_command(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    subs = await _subscriptions(context, chat.id)
    if not subs:
        await reply(
            update,
            "This chat follows nothing yet. Try /subscribe ukraine, or /subscribe alone "
            "to pick from a list.",
        )
        return
    names = {topic.slug: topic.name for topic in context.app.catalogue.topics}
    topics = [names.get(s.value, s.value) for s in subs if s.kind is SubscriptionKind.TOPIC]
    keywords = [s.value for s in subs if s.kind is SubscriptionKind.KEYWORD]
    lines = ["<b>This chat follows</b>"]
    if topics:
        lines.append("Topics: " + ", ".join(html.escape(name) for name in topics))
    if keywords:
        lines.append("Keywords: " + ", ".join(_quote(word) for word in keywords))
    lines.append("\n/unsubscribe to stop any of them.")
    await reply(update, "\n".join(lines))


async def on_button(update: Update, context: CustomContext) -> None:
    """Toggle a topic from the /subscribe keyboard, or remove one from /unsubscribe's."""
    query = update.callback_query
    if query is None:
        return
    chat = await register_chat(update, context)
    data = query.data or ""
    if chat is None:
        await query.answer(STALE_BUTTON)
        return
    app = context.app
    now = app.clock.now()
    parts = data.split(":", 2)
    if parts[0] == "sub" and len(parts) == 2:
        topic = app.catalogue.get(parts[1])
        if topic is None:
            await query.answer(STALE_BUTTON)
            return
        async with app.sessionmaker() as session, session.begin():
            removed = await chat_store.remove_subscription(
                session, chat.id, SubscriptionKind.TOPIC, topic.slug
            )
            if not removed:
                await chat_store.add_subscription(
                    session, chat.id, SubscriptionKind.TOPIC, topic.slug, now=now
                )
            subs = await chat_store.list_subscriptions(session, chat.id)
        await query.answer(("Stopped following " if removed else "Following ") + topic.name)
        await query.edit_message_reply_markup(_topic_keyboard(context, _followed_topics(subs)))
        return
    if parts[0] == "uns" and len(parts) == 3:
        kind, value = parts[1], parts[2]
        subs = await _subscriptions(context, chat.id)
        if kind == "t":
            match = next(
                (s for s in subs if s.kind is SubscriptionKind.TOPIC and s.value == value), None
            )
        elif kind == "k" and value.isdigit():
            match = next(
                (s for s in subs if s.kind is SubscriptionKind.KEYWORD and s.id == int(value)),
                None,
            )
        else:
            match = None
        if match is None:
            await query.answer("Already removed.")
            return
        async with app.sessionmaker() as session, session.begin():
            await chat_store.remove_subscription(session, chat.id, match.kind, match.value)
            subs = await chat_store.list_subscriptions(session, chat.id)
        await query.answer("Unsubscribed.")
        if subs:
            await query.edit_message_reply_markup(_unsubscribe_keyboard(context, subs))
        else:
            await query.edit_message_text("This chat follows nothing now. /subscribe to start.")
        return
    await query.answer(STALE_BUTTON)


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [
        CommandHandler("topics", topics_command),
        CommandHandler("subscribe", subscribe),
        CommandHandler("unsubscribe", unsubscribe),
        CommandHandler("subscriptions", subscriptions_command),
        CallbackQueryHandler(on_button),
    ]
