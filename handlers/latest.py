"""/latest: the newest stored story for the chat's subscriptions, a topic, or a keyword."""

from __future__ import annotations

import html

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import CustomContext
from bot.delivery.format import render_story
from bot.i18n import topic_name
from bot.keywords import KeywordMatcher
from bot.targets import InvalidTarget, KeywordTarget, TopicTarget, parse_targets
from handlers.common import (
    MAX_ARGUMENT_CHARS,
    argument,
    command,
    register_chat,
    reply,
    too_long,
    translator,
)
from storage import articles as article_store
from storage import chats as chat_store
from storage.models import SubscriptionKind
from storage.records import Story


def _newer(a: Story | None, b: Story | None) -> Story | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if (a.published_at, a.id) >= (b.published_at, b.id) else b


async def latest(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    app = context.app
    tr = translator(context, chat)
    _ = tr.gettext
    text = argument(update)
    if len(text) > MAX_ARGUMENT_CHARS:
        await reply(update, too_long(tr))
        return
    topic_names = {topic.slug: topic_name(tr, topic) for topic in app.catalogue.topics}

    async with app.sessionmaker() as session:
        if text:
            targets = parse_targets(text, app.catalogue)
            topics = {t.topic.slug for t in targets if isinstance(t, TopicTarget)}
            keywords = {t.keyword for t in targets if isinstance(t, KeywordTarget)}
            invalid = [t for t in targets if isinstance(t, InvalidTarget)]
            if invalid and not topics and not keywords:
                reason = invalid[0].explain(_).rstrip(".")
                await reply(update, html.escape(reason) + ". " + _("See /topics."))
                return
            described = ", ".join(
                [topic_names[slug] for slug in sorted(topics)]
                + [f"“{k[:40]}”" for k in sorted(keywords)]
            )
            heading = _("Latest on {what}").format(what=described)
        else:
            subs = await chat_store.list_subscriptions(session, chat.id)
            topics = {s.value for s in subs if s.kind is SubscriptionKind.TOPIC}
            keywords = {s.value for s in subs if s.kind is SubscriptionKind.KEYWORD}
            heading = _("Latest for your subscriptions") if subs else _("Latest story")
            described = _("your subscriptions")

        if not topics and not keywords:
            found = await article_store.newest(session, limit=1)
            story = found[0] if found else None
        else:
            by_topic = await article_store.newest_in_topics(session, topics, limit=1)
            story = by_topic[0] if by_topic else None
            if keywords:
                matcher = KeywordMatcher(keywords)
                by_keyword = await article_store.newest_matching(
                    session,
                    lambda s: bool(matcher.matches("\n".join((s.title, s.summary, *s.categories)))),
                )
                story = _newer(story, by_keyword)

    if story is None:
        if text or topics or keywords:
            suggestion = None
            if text and not topics:
                suggestion = app.catalogue.suggest(text)
            hint = (
                _("Did you mean <b>{topic}</b>? /latest {slug}").format(
                    topic=html.escape(topic_name(tr, suggestion)),
                    slug=html.escape(suggestion.slug),
                )
                if suggestion
                else _("See /topics for what you can follow.")
            )
            await reply(
                update,
                _("No stored story matches {what} yet.").format(what=html.escape(described))
                + " "
                + hint,
            )
        else:
            await reply(
                update,
                _("No stories stored yet: the feeds are being fetched. Try again in a minute."),
            )
        return
    rendered = render_story(
        story, topic_names=topic_names, heading=heading, show_time=True, translator=tr
    )
    await reply(update, rendered.text, parse_mode=rendered.parse_mode)


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [command("latest", latest)]
