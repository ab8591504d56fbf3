"""Small helpers shared by the command handlers: registering the chat, replying safely."""

from __future__ import annotations

from telegram import Update

from bot.context import CustomContext
from storage import chats as chat_store
from storage.records import ChatRecord


async def register_chat(update: Update, context: CustomContext) -> ChatRecord | None:
    """Create or refresh the chat's row; every command does this so no chat is unknown."""
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    app = context.app
    async with app.sessionmaker() as session, session.begin():
        return await chat_store.upsert_chat(
            session,
            chat.id,
            chat_type=chat.type,
            title=chat.title or chat.full_name,
            language=user.language_code if user else None,
            now=app.clock.now(),
        )


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat (and topic thread) the update came from; text is HTML."""
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(text, do_quote=False, **kwargs)  # type: ignore[arg-type]
