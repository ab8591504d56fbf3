"""The application context: every long-lived dependency, built once in `post_init`.

Handlers and jobs reach it as `context.app` (a typed property of `CustomContext`) instead of
string keys scattered through `bot_data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Locales, load_locales
from bot.topics import TopicCatalogue

if TYPE_CHECKING:
    from bot.delivery.editor import Editor
    from bot.delivery.sender import Sender
    from bot.ingest import Ingestor

APP_KEY = "newsbot"


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: aiohttp.ClientSession
    catalogue: TopicCatalogue
    clock: Clock
    sender: Sender
    ingestor: Ingestor
    locales: Locales = field(default_factory=load_locales)  # the chats' languages (bot.i18n)
    editor: Editor | None = None  # adds "Also: <source>" to sent alerts (bot.delivery.editor)


class CustomContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context with a typed `app` property."""

    @property
    def app(self) -> AppContext:
        ctx = self.bot_data.get(APP_KEY)
        if not isinstance(ctx, AppContext):
            raise RuntimeError("newsbot's application context is not set up (post_init)")
        return ctx


NewsbotApplication = Application[
    ExtBot[None], CustomContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
