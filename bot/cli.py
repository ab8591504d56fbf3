"""The `newsbot` command: `run`, `sandbox`, `db upgrade|downgrade|current`.

Configuration problems end the command with one line on stderr and exit code 2, before
anything starts: an operator should see "NEWSBOT_POLL_INTERVAL must be …", not a traceback.
`run` without a token starts the sandbox (`bot.sandbox`) and says so in one line, so the
README's run command shows a newcomer the bot working; a token that is set but malformed
is still a configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from bot import opscli
from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging
from bot.sources import SourcesError, load_sources
from bot.topics import CatalogueError, load_catalogue

EXIT_CONFIG = 2
EXIT_FAILED = 1  # the command could not do it (a database or Bot API that cannot be reached)
SANDBOX_INSTEAD = (
    "newsbot: no NEWSBOT_TELEGRAM_TOKEN, so this is the sandbox "
    "(the real bot, a simulated Telegram, replayed feeds)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="A Telegram bot that delivers news alerts as stories break."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot (long polling) until SIGINT or SIGTERM; "
        "without NEWSBOT_TELEGRAM_TOKEN, the sandbox",
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot without Telegram: a web chat with the real bot and replayed feeds",
    )
    sandbox.add_argument(
        "--publish-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between two replayed stories (default: 5)",
    )
    db = commands.add_parser("db", help="database schema migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="upgrade the schema to the newest version")
    down = db_commands.add_parser("downgrade", help="downgrade the schema to a revision")
    down.add_argument("revision", help='a revision id, or "base" for an empty database')
    db_commands.add_parser("current", help="print the schema revision of the database")
    check = commands.add_parser(
        "check-feed",
        help="show how the bot reads a feed (titles, summaries, topics, stories) before adding it",
    )
    check.add_argument("target", metavar="URL_OR_FILE", help="a feed URL or a local feed file")
    check.add_argument("--json", action="store_true", help="print a JSON list instead of text")
    opscli.add_parsers(commands)
    return parser


def _fail(message: str, code: int = EXIT_CONFIG) -> int:
    print(f"newsbot: {message}", file=sys.stderr)
    return code


async def _db(database_url: str, action: str, revision: str | None) -> str | None:
    from storage import migrate
    from storage.db import create_engine, ensure_reachable

    engine = create_engine(database_url)
    try:
        await ensure_reachable(engine)
        if action == "upgrade":
            await migrate.upgrade(engine)
        elif action == "downgrade" and revision is not None:
            await migrate.downgrade(engine, revision)
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def _sandbox(settings: Settings, intro: str, publish_every: float = 5.0) -> int:
    """Run the sandbox; `intro` opens the one line that tells where the web chat is."""
    from bot.sandbox import SandboxError, run_sandbox

    if publish_every <= 0:
        return _fail("--publish-every must be more than 0 seconds")
    try:
        catalogue = load_catalogue(settings.topics_file)
    except CatalogueError as error:
        return _fail(str(error))
    if "log_level" not in settings.model_fields_set:
        setup_logging("WARNING", None)  # the one line below is all a newcomer needs to read
    os.environ.setdefault("PTB_TIMEDELTA", "true")

    def announce(url: str) -> None:
        print(f"{intro}: open {url} to chat with the bot (Ctrl+C stops it)", flush=True)

    try:
        run_sandbox(settings, announce, publish_every=publish_every, catalogue=catalogue)
    except SandboxError as error:
        return _fail(str(error))
    return 0


def _run(settings: Settings) -> int:
    if settings.telegram_token is None:
        return _sandbox(settings, SANDBOX_INSTEAD)
    from bot.app import build_application, run
    from storage.db import DatabaseUnreachable

    try:
        sources = load_sources(settings.sources_file)
        catalogue = load_catalogue(settings.topics_file)
    except (SourcesError, CatalogueError) as error:
        return _fail(str(error))
    # RetryAfter.retry_after as a timedelta, PTB's coming default, without its warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from telegram.error import InvalidToken, NetworkError

    api = settings.telegram_api_url
    try:
        run(build_application(settings, sources=sources, catalogue=catalogue), settings)
    except DatabaseUnreachable as error:
        return _fail(str(error), EXIT_FAILED)
    except InvalidToken:  # PTB's message repeats the token: never print it
        return _fail(f"the Bot API at {api} rejected NEWSBOT_TELEGRAM_TOKEN")
    except NetworkError as error:  # TimedOut too
        return _fail(f"cannot reach the Bot API at {api}: {_network_reason(error)}", EXIT_FAILED)
    return 0


def _network_reason(error: BaseException) -> str:
    """Why a Bot API request failed (storage.db.network_reason reads the chain)."""
    from telegram.error import TimedOut

    from storage.db import network_reason

    reason = network_reason(error)
    if reason is None:
        reason = "timed out" if isinstance(error, TimedOut) else "network error"
    return reason


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail(str(error))
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else None
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    setup_logging(settings.log_level, token, webhook_secret)
    if args.command == "db":
        from alembic.util import CommandError

        from storage.db import DatabaseUnreachable

        target = getattr(args, "revision", None)
        try:
            revision = asyncio.run(_db(settings.database_url, args.db_command, target))
        except DatabaseUnreachable as error:
            return _fail(str(error), EXIT_FAILED)
        except CommandError as error:  # an unknown revision: like an unknown source, exit 1
            reason = (str(error).strip().splitlines() or ["unknown revision"])[0]
            return _fail(f"cannot {args.db_command} to {target}: {reason}", EXIT_FAILED)
        print(f"database at revision {revision or 'base (empty)'}")
        return 0
    if args.command in opscli.COMMANDS:
        return opscli.main(args, settings.database_url)
    if args.command == "sandbox":
        return _sandbox(settings, "newsbot sandbox", args.publish_every)
    if args.command == "check-feed":
        from bot.checkfeed import run_check_feed

        return run_check_feed(args.target, as_json=args.json, topics_file=settings.topics_file)
    return _run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
