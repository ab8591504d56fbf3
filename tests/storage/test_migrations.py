"""Alembic migrations: up to head, down to base, up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from storage import migrate
from storage.db import create_engine
from storage.models import Base


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        assert set(Base.metadata.tables) <= await _tables(engine)

        await migrate.downgrade(engine, "base")
        assert await migrate.current_revision(engine) is None
        assert not (set(Base.metadata.tables) & await _tables(engine))

        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        # Running it again at start-up is a no-op.
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_models_match_migrations(database_url: str) -> None:
    """What autogenerate would add is empty: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()
