"""Engine and session factory: the one place that knows how to connect to each database.

SQLite gets WAL mode (readers don't block the writer), enforced foreign keys, a busy timeout,
and `BEGIN IMMEDIATE` transactions. The last matters: with SQLite's default deferred
transactions, two connections that both read and then write deadlock on the lock upgrade and
one fails at once with "database is locked", which the busy timeout cannot help with
(https://sqlite.org/lang_transaction.html, SQLAlchemy's "pysqlite serializable" recipe).
"""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN instead of the driver's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the application's engine; the caller disposes of it."""
    if is_sqlite(url):
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


class DatabaseUnreachable(Exception):
    """No connection to the database could be opened; the message is one line for an
    operator and shows the URL without its password."""


def network_reason(error: BaseException) -> str | None:
    """Why a connection failed, in an operator's words, from the first exception in `error`'s
    chain that says it plainly (refused, unknown host, timed out); None if none does. Used for
    the database here and for the Bot API by `newsbot run`."""
    seen: BaseException | None = error
    for _ in range(32):  # a chain is short; never loop on a cycle
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "unknown host"
        if isinstance(seen, TimeoutError):
            return "timed out"
        seen = seen.__cause__ or seen.__context__
    return None


def _reason(error: BaseException) -> str:
    plain = network_reason(error)
    if plain is not None:
        return plain
    if isinstance(error, DBAPIError):
        return _reason(error.orig) if isinstance(error.orig, BaseException) else str(error)
    text = (getattr(error, "strerror", None) or str(error) or type(error).__name__).strip()
    return text.splitlines()[0] if text else type(error).__name__


async def ensure_reachable(engine: AsyncEngine) -> None:
    """Open and close one connection, or raise `DatabaseUnreachable` saying why."""
    try:
        async with engine.connect():
            pass
    except (OSError, TimeoutError, DBAPIError) as error:
        url = engine.url.render_as_string(hide_password=True)
        reason = _reason(error)
        raise DatabaseUnreachable(f"cannot reach the database at {url}: {reason}") from error


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep their objects usable after commit (no lazy loads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
