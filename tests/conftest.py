"""Fixtures shared by every test layer: paths to real fixtures, and databases.

`database_url` gives each test its own database, on SQLite (a real file in tmp_path) and on the
PostgreSQL server at 127.0.0.1:5432 (a fresh database per test, dropped afterwards). Where
PostgreSQL is unreachable the PostgreSQL half is skipped locally; under CI=true it fails,
because CI must test both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"
PG_DSN = os.environ.get("NEWSBOT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_configure(config: pytest.Config) -> None:
    # PTB 22 warns on every RetryAfter unless this opts in to its coming timedelta type;
    # `newsbot run` sets it too (bot/cli.py), and tests run with warnings as errors.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    # Fixture feeds link to real publishers' pages, which no test may request: article-page
    # leads (on by default) are off for every bot a test starts, subprocesses included,
    # unless a test turns them on against its own local page server.
    os.environ["NEWSBOT_ARTICLE_PAGES"] = "false"


def feed_bytes(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


async def _pg_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_DSN} is unreachable under CI: {error}")
        pytest.skip(f"PostgreSQL at {PG_DSN} is unreachable: {error}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"
        return
    admin = await _pg_admin()
    name = f"newsbot_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"
