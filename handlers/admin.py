"""Operator commands, only for NEWSBOT_ADMIN_IDS: /stats, /sources, /addsource, /removesource.

Everyone else gets a polite refusal. Sources added here are untrusted input from a chat:
`bot.ssrf.check_url` refuses non-public addresses at once, and the ingest fetches them
through the guarded session, which checks every connection (redirects included).
"""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import CustomContext
from bot.ssrf import UnsafeURLError, check_url
from handlers.common import reply
from storage import sources as source_store
from storage import stats as stats_store
from storage.records import SourceRecord

REFUSAL = "Sorry, this command is only for the operators of this bot."
MAX_LISTED = 40


def _is_admin(update: Update, context: CustomContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.app.settings.admin_ids


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _source_line(source: SourceRecord) -> str:
    state = "✅" if source.enabled and not source.consecutive_errors else "⚠️"
    if not source.enabled:
        state = "⏸"
    line = (
        f"{state} <code>{source.id}</code> {html.escape(source.name)} ({source.origin}), "
        f"last fetch {_when(source.last_fetch_at)}"
    )
    if source.consecutive_errors:
        error = html.escape((source.last_error or "")[:120])
        line += f", {source.consecutive_errors} errors: {error}"
    return line


def _lines(sources: list[SourceRecord]) -> list[str]:
    lines = [_source_line(source) for source in sources[:MAX_LISTED]]
    if len(sources) > MAX_LISTED:
        lines.append(f"… and {len(sources) - MAX_LISTED} more (see `newsbot sources list`)")
    return lines


async def stats(update: Update, context: CustomContext) -> None:
    if not _is_admin(update, context):
        await reply(update, REFUSAL)
        return
    app = context.app
    async with app.sessionmaker() as session:
        figures = await stats_store.collect(session, now=app.clock.now())
    enabled = [s for s in figures.sources if s.enabled]
    failing = figures.failing_sources
    text = "\n".join(
        [
            "<b>newsbot stats</b>",
            f"Chats: {figures.chats} ({figures.active_chats} active)",
            f"Subscriptions: {figures.subscriptions}",
            f"Articles stored: {figures.articles}",
            f"Outbox depth: {figures.outbox_depth}",
            f"Sent in the last hour: {figures.sent_last_hour}",
            f"Sources: {len(enabled)} enabled, {len(failing)} failing",
            *_lines(failing),
        ]
    )
    await reply(update, text)


async def sources(update: Update, context: CustomContext) -> None:
    if not _is_admin(update, context):
        await reply(update, REFUSAL)
        return
    async with context.app.sessionmaker() as session:
        rows = await source_store.list_sources(session)
    if not rows:
        await reply(update, "No sources yet: /addsource URL")
        return
    await reply(update, "\n".join(["<b>Sources</b>", *_lines(rows)]))


async def add_source(update: Update, context: CustomContext) -> None:
    if not _is_admin(update, context):
        await reply(update, REFUSAL)
        return
    if len(context.args or []) != 1:
        await reply(update, "Usage: /addsource https://example.com/feed.xml")
        return
    try:
        url = await check_url((context.args or [""])[0])
    except UnsafeURLError as error:
        await reply(update, f"Not added: {html.escape(str(error))}.")
        return
    app = context.app
    async with app.sessionmaker() as session, session.begin():
        source, changed = await source_store.add_source(
            session,
            url,
            name=_name_for(url),
            interval=None,
            origin=source_store.SourceOrigin.CHAT,
            now=app.clock.now(),
        )
    if changed:
        await reply(
            update,
            f"Added source <code>{source.id}</code>: {html.escape(url)}. "
            "Its current items are stored, not pushed; new ones will be.",
        )
    else:
        await reply(update, f"Already a source (<code>{source.id}</code>): {html.escape(url)}")


def _name_for(url: str) -> str:
    return urlsplit(url).hostname or url


async def remove_source(update: Update, context: CustomContext) -> None:
    if not _is_admin(update, context):
        await reply(update, REFUSAL)
        return
    if len(context.args or []) != 1:
        await reply(update, "Usage: /removesource URL or id (see /sources)")
        return
    target = (context.args or [""])[0]
    async with context.app.sessionmaker() as session, session.begin():
        result, source = await source_store.remove_source(session, target)
    if result is source_store.RemoveResult.REMOVED and source is not None:
        await reply(update, f"Removed source <code>{source.id}</code>: {html.escape(source.url)}")
    elif result is source_store.RemoveResult.FROM_FILE:
        await reply(
            update,
            "That source comes from the sources file (NEWSBOT_SOURCES_FILE); "
            "remove it there and restart.",
        )
    else:
        await reply(update, f"No such source: {html.escape(target)} (see /sources)")


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [
        CommandHandler("stats", stats),
        CommandHandler("sources", sources),
        CommandHandler("addsource", add_source),
        CommandHandler("removesource", remove_source),
    ]
