"""/topics, /subscribe, /unsubscribe, /subscriptions and their toggle keyboards.

Callback data is short and versioned by prefix: `sub:<slug>` toggles a topic, `uns:t:<slug>`
and `uns:k:<id>` remove a topic or keyword. Anything else, or a button for a topic that no
longer exists, gets a polite answer instead of an error. In groups only admins may change
anything; in a forum supergroup a subscription remembers the topic thread it was made in.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import CustomContext
from bot.i18n import Translator, topic_name
from bot.keywords import Watch, parse_watch
from bot.targets import (
    InvalidTarget,
    KeywordTarget,
    TopicTarget,
    new_watch_problem,
    parse_targets,
)
from handlers.common import (
    admins_only,
    command,
    edit_button_message,
    fit_reply,
    listing,
    may_change,
    quote,
    register_chat,
    reply,
    start_change,
    thread_of,
    translator,
)
from storage import chats as chat_store
from storage.models import SubscriptionKind
from storage.records import SubscriptionRecord

MAX_KEYWORDS_PER_CHAT = 25
UNSUBSCRIBE_ALL = {"all", "everything", "*", "все", "усе", "всі"}


def _was_quoted(text: str, word: str) -> bool:
    """Whether the user put `word` in quotes: then it is a keyword even if close to a topic."""
    return any(f"{left}{word}{right}" in text for left, right in ('""', "''", "“”", "«»", "„“"))


def _describe(t: Translator, stored: str, watch: Watch) -> str:
    """What a watch with operators looks for, so `sanctions -iran` is not mistaken for a topic."""
    _ = t.gettext
    required = ", ".join(quote(term) for term in watch.required)
    if watch.vetoed:
        return _(
            "🔎 Watching {watch} (a keyword watch: stories with {required} and without {vetoed})."
        ).format(
            watch=quote(stored),
            required=required,
            vetoed=", ".join(quote(term) for term in watch.vetoed),
        )
    return _("🔎 Watching {watch} (a keyword watch: stories with all of {required}).").format(
        watch=quote(stored), required=required
    )


def _stale(t: Translator) -> str:
    return t.gettext("That button is out of date. Send /subscribe to see the current list.")


async def topics_command(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    t = translator(context, chat)
    _ = t.gettext
    lines = ["<b>" + html.escape(_("Topics you can follow")) + "</b>"]
    for topic in context.app.catalogue.topics:
        examples = ", ".join(topic.aliases[:4])
        line = (
            f"• <b>{html.escape(topic_name(t, topic))}</b> (<code>{html.escape(topic.slug)}</code>)"
        )
        if examples:
            line += f": {html.escape(examples)}"
        lines.append(line)
    lines.append(
        "\n" + _("Follow one with /subscribe <i>topic</i>, e.g. /subscribe ukraine sanctions.")
    )
    await reply(update, "\n".join(lines))


async def _subscriptions(context: CustomContext, chat_id: int) -> list[SubscriptionRecord]:
    async with context.app.sessionmaker() as session:
        return await chat_store.list_subscriptions(session, chat_id)


def topic_keyboard(
    context: CustomContext, t: Translator, followed: set[str]
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            ("✓ " if topic.slug in followed else "") + topic_name(t, topic),
            callback_data=f"sub:{topic.slug}",
        )
        for topic in context.app.catalogue.topics
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows[:50])


def _followed_topics(subscriptions: list[SubscriptionRecord]) -> set[str]:
    return {s.value for s in subscriptions if s.kind is SubscriptionKind.TOPIC}


async def subscribe(update: Update, context: CustomContext) -> None:
    request = await start_change(update, context)
    if request is None:
        return
    chat, t, text = request.chat, request.t, request.text
    _ = t.gettext
    app = context.app
    if not text:
        subs = await _subscriptions(context, chat.id)
        await reply(
            update,
            _(
                "Tap a topic to follow it (✓ = following). For any other word or phrase, "
                'send /subscribe <i>word</i>, e.g. /subscribe "price cap".'
            ),
            reply_markup=topic_keyboard(context, t, _followed_topics(subs)),
        )
        return

    added: list[str] = []
    already: list[str] = []
    keywords: list[str] = []
    expressions: list[str] = []  # watches with "+" or "-" words, one line each
    hints: list[str] = []
    # Refusals grouped by reason, so a long list of bad words gives one line per reason.
    problems: dict[str, list[str]] = {}
    over_limit = 0
    now = app.clock.now()
    thread = thread_of(update)
    async with app.sessionmaker() as session, session.begin():
        keyword_count = await chat_store.count_subscriptions(
            session, chat.id, SubscriptionKind.KEYWORD
        )
        for target in parse_targets(text, app.catalogue):
            if isinstance(target, TopicTarget):
                created = await chat_store.add_subscription(
                    session,
                    chat.id,
                    SubscriptionKind.TOPIC,
                    target.topic.slug,
                    now=now,
                    message_thread_id=thread,
                )
                name = f"<b>{html.escape(topic_name(t, target.topic))}</b>"
                (added if created else already).append(name)
            elif isinstance(target, KeywordTarget):
                if target.suggestion is not None and not _was_quoted(text, target.typed):
                    # A near-miss of a topic name is a typo far more often than a keyword.
                    hints.append(
                        _("Did you mean <b>{topic}</b>? Send /subscribe {slug}").format(
                            topic=html.escape(topic_name(t, target.suggestion)),
                            slug=html.escape(target.suggestion.slug),
                        )
                        + " "
                        + _('(or /subscribe "{word}" in quotes to watch the word itself).').format(
                            word=html.escape(target.keyword)
                        )
                    )
                    continue
                problem = new_watch_problem(target)
                if problem is not None:
                    problems.setdefault(problem.explain(_), []).append(quote(problem.typed))
                    continue
                if keyword_count >= MAX_KEYWORDS_PER_CHAT:
                    over_limit += 1
                    continue
                created = await chat_store.add_subscription(
                    session,
                    chat.id,
                    SubscriptionKind.KEYWORD,
                    target.keyword,
                    now=now,
                    message_thread_id=thread,
                )
                if created:
                    keyword_count += 1
                    watch = parse_watch(target.keyword)
                    if len(watch.required) == 1 and not watch.vetoed:
                        keywords.append(quote(target.keyword))
                    else:
                        expressions.append(_describe(t, target.keyword, watch))
                else:
                    already.append(quote(target.keyword))
            elif isinstance(target, InvalidTarget):
                problems.setdefault(target.explain(_), []).append(quote(target.typed))

    lines: list[str] = []
    if added:
        lines.append(_("✅ Subscribed to {names}.").format(names=listing(t, added)))
    if keywords:
        lines.append(
            t.ngettext(
                "🔎 Watching the keyword {words}: not a topic, so you'll get stories that "
                "mention it.",
                "🔎 Watching the keywords {words}: not topics, so you'll get stories that "
                "mention them.",
                len(keywords),
            ).format(words=listing(t, keywords))
        )
    lines.extend(expressions)
    if already:
        lines.append(_("Already following {names}.").format(names=listing(t, already)))
    if over_limit:
        lines.append(
            t.ngettext(
                "Not added: {count} keyword — this chat watches {limit}, the most allowed. "
                "Remove some with /unsubscribe to make room.",
                "Not added: {count} keywords — this chat watches {limit}, the most allowed. "
                "Remove some with /unsubscribe to make room.",
                over_limit,
            ).format(count=over_limit, limit=MAX_KEYWORDS_PER_CHAT)
        )
    lines.extend(
        listing(t, words) + ": " + html.escape(reason) for reason, words in problems.items()
    )
    lines.extend(hints)
    footer = []
    if added or keywords or expressions:
        footer.append(
            _("New stories will arrive here as they break. /latest shows the newest now.")
        )
    await reply(update, fit_reply(t, lines, footer) or _("Nothing to subscribe to. See /topics."))


async def unsubscribe(update: Update, context: CustomContext) -> None:
    request = await start_change(update, context)
    if request is None:
        return
    chat, t, text = request.chat, request.t, request.text
    _ = t.gettext
    app = context.app
    subs = await _subscriptions(context, chat.id)
    if not text:
        if not subs:
            await reply(update, _("This chat follows nothing yet. Start with /subscribe."))
            return
        await reply(
            update,
            _("Tap what you want to stop following:"),
            reply_markup=unsubscribe_keyboard(context, t, subs),
        )
        return
    if text.lower() in UNSUBSCRIBE_ALL:
        async with app.sessionmaker() as session, session.begin():
            for sub in subs:
                await chat_store.remove_subscription(session, chat.id, sub.kind, sub.value)
        await reply(update, _("🔕 Unsubscribed from everything. /subscribe to start again."))
        return

    removed: list[str] = []
    missing: list[str] = []
    async with app.sessionmaker() as session, session.begin():
        for target in parse_targets(text, app.catalogue):
            if isinstance(target, TopicTarget):
                gone = await chat_store.remove_subscription(
                    session, chat.id, SubscriptionKind.TOPIC, target.topic.slug
                )
                name = f"<b>{html.escape(topic_name(t, target.topic))}</b>"
            elif isinstance(target, KeywordTarget):
                gone = await chat_store.remove_subscription(
                    session, chat.id, SubscriptionKind.KEYWORD, target.keyword
                )
                name = quote(target.keyword)
            else:
                gone, name = False, quote(target.typed)
            (removed if gone else missing).append(name)
    lines = []
    if removed:
        lines.append(_("🔕 Unsubscribed from {names}.").format(names=", ".join(removed)))
    if missing:
        lines.append(
            _("This chat wasn't following {names}. See /subscriptions.").format(
                names=", ".join(missing)
            )
        )
    await reply(update, "\n".join(lines) or _("Nothing to unsubscribe from. See /subscriptions."))


def unsubscribe_keyboard(
    context: CustomContext, t: Translator, subs: list[SubscriptionRecord]
) -> InlineKeyboardMarkup:
    catalogue = context.app.catalogue
    rows = []
    for sub in subs[:90]:
        if sub.kind is SubscriptionKind.TOPIC:
            topic = catalogue.get(sub.value)
            label = topic_name(t, topic) if topic else sub.value
            data = f"uns:t:{sub.value}"
        else:
            label, data = f"“{sub.value}”", f"uns:k:{sub.id}"
        rows.append([InlineKeyboardButton("✕ " + label, callback_data=data)])
    return InlineKeyboardMarkup(rows)


async def subscriptions_command(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    t = translator(context, chat)
    _ = t.gettext
    subs = await _subscriptions(context, chat.id)
    if not subs:
        await reply(
            update,
            _(
                "This chat follows nothing yet. Try /subscribe ukraine, or /subscribe alone "
                "to pick from a list."
            ),
        )
        return
    catalogue = context.app.catalogue
    topics = []
    for sub in subs:
        if sub.kind is SubscriptionKind.TOPIC:
            topic = catalogue.get(sub.value)
            topics.append(topic_name(t, topic) if topic else sub.value)
    keywords = [s.value for s in subs if s.kind is SubscriptionKind.KEYWORD]
    lines = ["<b>" + html.escape(_("This chat follows")) + "</b>"]
    if topics:
        lines.append(_("Topics: {names}").format(names=html.escape(", ".join(topics))))
    if keywords:
        lines.append(
            _("Keywords: {words}").format(words=", ".join(quote(word) for word in keywords))
        )
    lines.append("\n" + _("/unsubscribe to stop any of them; /settings for when alerts come."))
    await reply(update, "\n".join(lines))


async def on_button(update: Update, context: CustomContext) -> None:
    """Toggle a topic from the /subscribe keyboard, or remove one from /unsubscribe's."""
    query = update.callback_query
    if query is None:
        return
    chat = await register_chat(update, context)
    t = translator(context, chat)
    _ = t.gettext
    if chat is None:
        await query.answer(_stale(t))
        return
    if not await may_change(update, context):
        await query.answer(admins_only(t), show_alert=True)
        return
    app = context.app
    now = app.clock.now()
    parts = (query.data or "").split(":", 2)
    if parts[0] == "sub" and len(parts) == 2:
        topic = app.catalogue.get(parts[1])
        if topic is None:
            await query.answer(_stale(t))
            return
        async with app.sessionmaker() as session, session.begin():
            removed = await chat_store.remove_subscription(
                session, chat.id, SubscriptionKind.TOPIC, topic.slug
            )
            if not removed:
                await chat_store.add_subscription(
                    session,
                    chat.id,
                    SubscriptionKind.TOPIC,
                    topic.slug,
                    now=now,
                    message_thread_id=thread_of(update),
                )
            subs = await chat_store.list_subscriptions(session, chat.id)
        name = topic_name(t, topic)
        await query.answer(
            (_("Stopped following {topic}") if removed else _("Following {topic}")).format(
                topic=name
            )
        )
        await edit_button_message(
            query, reply_markup=topic_keyboard(context, t, _followed_topics(subs))
        )
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
            await query.answer(_stale(t))
            return
        if match is None:
            await query.answer(_("Already removed."))
            return
        async with app.sessionmaker() as session, session.begin():
            await chat_store.remove_subscription(session, chat.id, match.kind, match.value)
            subs = await chat_store.list_subscriptions(session, chat.id)
        await query.answer(_("Unsubscribed."))
        if subs:
            await edit_button_message(query, reply_markup=unsubscribe_keyboard(context, t, subs))
        else:
            await edit_button_message(
                query, html.escape(_("This chat follows nothing now. /subscribe to start."))
            )
        return
    await query.answer(_stale(t))


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [
        command("topics", topics_command),
        command("subscribe", subscribe),
        command("unsubscribe", unsubscribe),
        command("subscriptions", subscriptions_command),
        CallbackQueryHandler(on_button, pattern=r"^(sub|uns):"),
    ]
