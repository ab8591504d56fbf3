"""my_chat_member updates: the bot was blocked, unblocked, removed from or added to a chat."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import BaseHandler, ChatMemberHandler

from bot.context import CustomContext
from storage import chats as chat_store

logger = logging.getLogger(__name__)

GONE = {ChatMember.BANNED, ChatMember.LEFT}


async def on_my_chat_member(update: Update, context: CustomContext) -> None:
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    status = change.new_chat_member.status
    app = context.app
    now = app.clock.now()
    async with app.sessionmaker() as session, session.begin():
        if status in GONE:
            reason = "blocked by the user" if chat.type == "private" else f"bot {status}"
            await chat_store.upsert_chat(
                session,
                chat.id,
                chat_type=chat.type,
                title=chat.title or chat.full_name,
                language=None,
                now=now,
                reactivate=False,
            )
            await chat_store.deactivate_chat(session, chat.id, reason=reason, now=now)
            logger.info("Chat %d: %s", chat.id, reason)
        else:
            await chat_store.upsert_chat(
                session,
                chat.id,
                chat_type=chat.type,
                title=chat.title or chat.full_name,
                language=None,
                now=now,
            )
            logger.info("Chat %d: bot is %s again", chat.id, status)


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)]
