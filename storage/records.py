"""Plain, immutable records that storage hands to the rest of the bot instead of live ORM rows.

Code outside `storage/` never touches a session-bound object, so nothing can lazy-load
behind an `await` or change a row by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time

from storage.models import DeliveryMode, QuietBehaviour, SubscriptionKind


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
    origin: str = "file"
    failing_since: datetime | None = None

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
class StoryMember:
    """A stored article as story clustering sees it: its story, source, time and signature."""

    story_id: int
    source_id: int
    published_at: datetime
    signature: str


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
    # The other sources that carried the same story (bot.stories), earliest first.
    also: tuple[str, ...] = ()
    # The chat's keyword watches that brought it, when no topic it follows did (an alert's
    # view: bot.keywords.with_matched_watches).
    watched: tuple[str, ...] = ()

    def seen_by(self, followed: frozenset[str]) -> Story:
        """The story as a chat that follows the topics `followed` is shown it: with only the
        topics it follows, when it follows any of them (its tag line, "Mute" button and
        digest heading then name why the alert came); else, a keyword match, with all."""
        shown = self.topics & followed
        if not shown or shown == self.topics:
            return self
        return replace(self, topics=shown)


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """How and when a chat wants its alerts (see bot.delivery.policy); defaults = instant."""

    timezone: str = "UTC"
    mode: DeliveryMode = DeliveryMode.INSTANT
    digest_time: time = time(8, 0)
    quiet_start: time | None = None
    quiet_end: time | None = None
    quiet_behaviour: QuietBehaviour = QuietBehaviour.HOLD
    paused: bool = False

    @property
    def quiet_hours(self) -> tuple[time, time] | None:
        if self.quiet_start is None or self.quiet_end is None:
            return None
        if self.quiet_start == self.quiet_end:
            return None
        return self.quiet_start, self.quiet_end


@dataclass(frozen=True, slots=True)
class ChatRecord:
    id: int
    type: str
    title: str | None
    language: str | None
    active: bool
    inactive_reason: str | None
    settings: ChatSettings = ChatSettings()

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
    digest: bool = False  # held by the chat's policy: sent with its other due alerts as one
    silent: bool = False  # disable_notification
    message_thread_id: int | None = None  # the forum topic to post in
    language: str | None = None  # the chat's, for the alert's buttons
    # The chat's keyword watches (subscription id, watch) when it follows none of the story's
    # topics: a watch brought the alert, and the bot names it (bot.keywords decides which).
    watches: tuple[tuple[int, str], ...] = ()
