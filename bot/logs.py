"""Logging set-up: one line per event, and the bot token never written anywhere.

The token is part of every Bot API URL, and httpx logs URLs at INFO; its logger is raised to
WARNING, and a filter on the root handler replaces the token in any record that still has it
(a traceback, a third-party message) with a placeholder.
"""

from __future__ import annotations

import logging
import sys

REDACTED = "[REDACTED-TOKEN]"
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiohttp.access", "alembic")


class RedactTokenFilter(logging.Filter):
    """Rewrites records so that neither the token nor its secret half is emitted."""

    def __init__(self, token: str, *others: str) -> None:
        """`others`: more secrets to hide (the webhook secret token, which PTB logs at DEBUG)."""
        super().__init__()
        secrets = {token, *others}
        # "123456:AAE…": the part after the colon is the secret; the bot id alone is not.
        if ":" in token:
            secrets.add(token.split(":", 1)[1])
        self._secrets = sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def setup_logging(level: str, token: str | None, *secrets: str) -> None:
    """Configure the root logger once, for the process that runs the bot or a CLI command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    if token:
        handler.addFilter(RedactTokenFilter(token, *secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
