"""Alembic environment: runs migrations on a connection handed in by `storage.migrate`.

The `alembic` command line also works (`alembic -c storage/alembic.ini upgrade head` with
NEWSBOT_DATABASE_URL set); then this file makes its own async engine.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "NEWSBOT_DATABASE_URL", "sqlite+aiosqlite:///newsbot.db"
    )
    asyncio.run(_run_with_own_engine(url))


if context.is_offline_mode():
    raise SystemExit("newsbot's migrations run online only")
_main()
