"""The `newsbot` command: `run`, `db upgrade|downgrade|current`.

Configuration problems end the command with one line on stderr and exit code 2, before
anything starts: an operator should see "NEWSBOT_TELEGRAM_TOKEN is required", not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from bot.config import TOKEN_MISSING, ConfigError, Settings, load_settings
from bot.logs import setup_logging
from bot.sources import SourcesError, load_sources
from bot.topics import CatalogueError, load_catalogue

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="A Telegram bot that delivers news alerts as stories break."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling) until SIGINT or SIGTERM")
    db = commands.add_parser("db", help="database schema migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="upgrade the schema to the newest version")
    down = db_commands.add_parser("downgrade", help="downgrade the schema to a revision")
    down.add_argument("revision", help='a revision id, or "base" for an empty database')
    db_commands.add_parser("current", help="print the schema revision of the database")
    return parser


def _fail(message: str) -> int:
    print(f"newsbot: {message}", file=sys.stderr)
    return EXIT_CONFIG


async def _db(database_url: str, action: str, revision: str | None) -> str | None:
    from storage import migrate
    from storage.db import create_engine

    engine = create_engine(database_url)
    try:
        if action == "upgrade":
            await migrate.upgrade(engine)
        elif action == "downgrade" and revision is not None:
            await migrate.downgrade(engine, revision)
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def _run(settings: Settings) -> int:
    if settings.telegram_token is None:
        return _fail(TOKEN_MISSING)
    from bot.app import build_application, run

    try:
        sources = load_sources(settings.sources_file)
        catalogue = load_catalogue(settings.topics_file)
    except (SourcesError, CatalogueError) as error:
        return _fail(str(error))
    # RetryAfter.retry_after as a timedelta, PTB's coming default, without its warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    run(build_application(settings, sources=sources, catalogue=catalogue))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail(str(error))
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else None
    setup_logging(settings.log_level, token)
    if args.command == "db":
        revision = asyncio.run(
            _db(settings.database_url, args.db_command, getattr(args, "revision", None))
        )
        print(f"database at revision {revision or 'base (empty)'}")
        return 0
    return _run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
