"""Kept for the tests' imports: the feed server now lives in `bot.sandbox.feeds`.

The sandbox replays its bundled feeds through the same server the end-to-end tests use.
"""

from bot.sandbox.feeds import ENTRY, ITEM, FeedServer, Served, withhold_items

__all__ = ["ENTRY", "ITEM", "FeedServer", "Served", "withhold_items"]
