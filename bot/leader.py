"""Leader election for long polling: with several instances on one PostgreSQL, one polls.

Telegram hands each update to one `getUpdates` caller and answers a second concurrent poller
with 409 Conflict, so instances must not all poll. The one holding a PostgreSQL
session-level advisory lock polls; the others retry the lock every few seconds. The lock
lives as long as the leader's database connection: when the leader dies (even SIGKILL), the
server ends its session, the lock is free, and the next instance to try takes over.

The lock is held on a connection of a private engine without a pool, so closing that
connection really ends the session (a pooled connection would keep the lock alive).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)


def lock_key(bot_id: str) -> int:
    """A stable signed 64-bit advisory lock key per bot (several bots may share a server)."""
    digest = hashlib.sha256(f"newsbot-polling:{bot_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PollingLeader:
    """Runs `on_elected` while this process holds the lock and `on_deposed` when it stops."""

    def __init__(
        self,
        database_url: str,
        *,
        key: int,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        retry: float = 2.0,
    ) -> None:
        self._url = database_url
        self._key = key
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._retry = retry
        self.leading = False

    async def run(self) -> None:
        """Until cancelled: wait for the lock, lead while the connection lives, repeat."""
        engine = create_async_engine(self._url, poolclass=NullPool)
        try:
            while True:
                try:
                    await self._term(engine)
                except (SQLAlchemyError, OSError) as error:
                    logger.warning("Leader election: database problem: %s", error)
                await asyncio.sleep(self._retry)
        finally:
            await engine.dispose()

    async def _term(self, engine: AsyncEngine) -> None:
        async with engine.connect() as connection:
            while True:
                got = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                )
                await connection.commit()
                if got:
                    break
                await asyncio.sleep(self._retry)
            logger.info("Elected to poll Telegram for updates (advisory lock %d)", self._key)
            self.leading = True
            await self._on_elected()
            try:
                while True:  # a dead connection ends the term: another instance may lead now
                    await asyncio.sleep(self._retry)
                    await connection.scalar(text("SELECT 1"))
                    await connection.commit()
            finally:
                self.leading = False
                logger.info("No longer polling for updates")
                await self._on_deposed()


MIGRATION_LOCK_KEY = 0x6E657773626F74  # "newsbot": one schema per database, whatever the bot


async def upgrade_schema(
    engine: AsyncEngine, upgrade: Callable[[AsyncEngine], Awaitable[None]]
) -> None:
    """Run `upgrade(engine)` while holding an advisory lock on PostgreSQL, so instances that
    start together do not race to create the same tables; the others wait, then find the
    schema current."""
    if engine.dialect.name != "postgresql":
        await upgrade(engine)
        return
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.commit()
        try:
            await upgrade(engine)
        finally:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            await connection.commit()
