"""/latest: the newest stored story for the chat's subscriptions, a topic, or a keyword."""

from __future__ import annotations

import html

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import CustomContext
from bot.delivery.format import render_story
from bot.keywords import KeywordMatcher
from bot.targets import InvalidTarget, KeywordTarget, TopicTarget, parse_targets
from handlers.common import register_chat, reply
from storage import articles as article_store
from storage import chats as chat_store
from storage.models import SubscriptionKind
from storage.records import Story

NOTHING_YET = "No stories stored yet: the feeds are being fetched. Try again in a minute."


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
    message = update.effective_message
    text = (message.text or "").split(maxsplit=1) if message else []
    argument = text[1] if len(text) > 1 else ""
    topic_names = {topic.slug: topic.name for topic in app.catalogue.topics}

    async with app.sessionmaker() as session:
        if argument.strip():
            targets = parse_targets(argument, app.catalogue)
            topics = {t.topic.slug for t in targets if isinstance(t, TopicTarget)}
            keywords = {t.keyword for t in targets if isinstance(t, KeywordTarget)}
            invalid = [t for t in targets if isinstance(t, InvalidTarget)]
            if invalid and not topics and not keywords:
                await reply(update, f"{html.escape(invalid[0].reason)}. See /topics.")
                return
            described = ", ".join(
                [topic_names[slug] for slug in sorted(topics)]
                + [f"“{k}”" for k in sorted(keywords)]
            )
            heading = "Latest on " + described
        else:
            subs = await chat_store.list_subscriptions(session, chat.id)
            topics = {s.value for s in subs if s.kind is SubscriptionKind.TOPIC}
            keywords = {s.value for s in subs if s.kind is SubscriptionKind.KEYWORD}
            heading = "Latest for your subscriptions" if subs else "Latest story"
            described = "your subscriptions"

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
        if argument.strip() or topics or keywords:
            suggestion = None
            if argument.strip() and not topics:
                suggestion = app.catalogue.suggest(argument.strip())
            hint = (
                f" Did you mean <b>{html.escape(suggestion.name)}</b>? "
                f"/latest {html.escape(suggestion.slug)}"
                if suggestion
                else " See /topics for what you can follow."
            )
            await reply(update, f"No stored story matches {html.escape(described)} yet.{hint}")
        else:
            await reply(update, NOTHING_YET)
        return
    rendered = render_story(story, topic_names=topic_names, heading=heading, show_time=True)
    await reply(update, rendered.text, parse_mode=rendered.parse_mode)


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [CommandHandler("latest", latest)]
