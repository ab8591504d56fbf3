"""/stop: unsubscribe from everything and delete the chat's data, after a confirmation.

The command only asks; the "Yes, delete" button (`stop:yes`) does it, so a stray /stop
(or one typed by a non-admin in a group) loses nothing. `stop:no` keeps everything.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import CustomContext
from handlers.common import (
    admins_only,
    command,
    edit_button_message,
    may_change,
    register_chat,
    reply,
    translator,
)
from storage import chats as chat_store


async def stop(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    t = translator(context, chat)
    _ = t.gettext
    if not await may_change(update, context):
        await reply(update, admins_only(t))
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Yes, delete everything"), callback_data="stop:yes"),
                InlineKeyboardButton(_("No, keep it"), callback_data="stop:no"),
            ]
        ]
    )
    await reply(
        update,
        _("This unsubscribes this chat from everything and deletes its settings. Are you sure?"),
        reply_markup=keyboard,
    )


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    if query is None:
        return
    chat = await register_chat(update, context)
    t = translator(context, chat)
    _ = t.gettext
    if chat is None or query.data not in {"stop:yes", "stop:no"}:
        await query.answer(_("That button is out of date."))
        return
    if not await may_change(update, context):
        await query.answer(admins_only(t), show_alert=True)
        return
    if query.data == "stop:no":
        await query.answer(_("Nothing was changed."))
        await edit_button_message(query, html.escape(_("Nothing was changed.")))
        return
    app = context.app
    async with app.sessionmaker() as session, session.begin():
        await chat_store.delete_chat(session, chat.id)
    await query.answer(_("Deleted."))
    await edit_button_message(
        query,
        html.escape(
            _(
                "Done: this chat follows nothing and its data is deleted. "
                "Send /start if you want alerts again."
            )
        ),
    )


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [command("stop", stop), CallbackQueryHandler(on_button, pattern=r"^stop:")]
