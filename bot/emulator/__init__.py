"""A Telegram Bot API emulator: the real PTB Application runs against it through ``base_url``.

See ``bot.emulator.server`` for the server, ``bot.emulator.html`` for Telegram's
HTML rules and ``bot.emulator.limits`` for the flood limits it enforces.
"""

from bot.emulator.html import FormattedText, HtmlParseError, MessageEntity, format_text, parse_html
from bot.emulator.limits import FloodGate, FloodLimits
from bot.emulator.server import (
    BotAPIEmulator,
    CallbackAnswer,
    Failure,
    RecordedRequest,
    SentMessage,
)

__all__ = [
    "BotAPIEmulator",
    "CallbackAnswer",
    "Failure",
    "FloodGate",
    "FloodLimits",
    "FormattedText",
    "HtmlParseError",
    "MessageEntity",
    "RecordedRequest",
    "SentMessage",
    "format_text",
    "parse_html",
]
