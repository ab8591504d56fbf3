"""Plain, immutable records that storage hands to the rest of the bot instead of live ORM rows.

Code outside `storage/` never touches a session-bound object, so nothing can lazy-load
behind an `await` or change a row by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.models import SubscriptionKind


@dataclass(frozen=True, slots=True)
class SourceRecord:
    id: int
    url: str
    name: str
    interval: float | None
    enabled: bool
    next_fetch_at: datetime
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    etag: str | None
    last_modified: str | None
    consecutive_errors: int
    last_error: str | None

    @property
    def never_fetched(self) -> bool:
        """True until the first successful fetch: its items are stored but never pushed."""
        return self.last_success_at is None


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article about to be stored: the output of normalisation plus its summary."""

    guid: str
    url: str | None
    title: str
    summary: str
    categories: tuple[str, ...]
    published_at: datetime


@dataclass(frozen=True, slots=True)
class Story:
    """A stored article with what an alert or `/latest` shows about it."""

    id: int
    source_id: int
    source_name: str
    url: str | None
    title: str
    summary: str
    categories: tuple[str, ...]
    published_at: datetime
    first_seen_at: datetime
    topics: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ChatRecord:
    id: int
    type: str
    title: str | None
    language: str | None
    active: bool
    inactive_reason: str | None

    @property
    def is_group(self) -> bool:
        return self.type in {"group", "supergroup"}


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: int
    kind: SubscriptionKind
    value: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One outbox row claimed for sending, with everything needed to render it."""

    outbox_id: int
    chat_id: int
    chat_type: str
    attempts: int
    story: Story
