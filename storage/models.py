"""SQLAlchemy table definitions: the schema that Alembic migrations create.

Once-only delivery is enforced here, not in Python: an article is unique per (source, guid)
and per canonical URL, and the outbox has one row per (chat, article).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SubscriptionKind(enum.StrEnum):
    TOPIC = "topic"
    KEYWORD = "keyword"


class DeliveryMode(enum.StrEnum):
    """How a chat's alerts go out: each at once, or collected into a digest."""

    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"


class QuietBehaviour(enum.StrEnum):
    """What an alert does during the chat's quiet hours."""

    HOLD = "hold"  # kept, and sent as one digest when the quiet hours end
    SILENT = "silent"  # sent at once without a notification sound


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # taken by a sender until lease_until; a crash returns it to the pool
    UNCONFIRMED = "unconfirmed"  # sent, but the answer was lost: counted as delivered
    SENT = "sent"
    FAILED = "failed"  # retries exhausted: kept, never dropped silently
    DROPPED = "dropped"  # the chat went away (blocked, not found)


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    interval: Mapped[float | None] = mapped_column(nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_fetch_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    etag: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: datetime.now(UTC))
    # Who added it: the sources "file" (synced at start), the "cli" or a "chat" admin. Only
    # file rows are synced; chat rows are fetched behind the SSRF guard (bot.ssrf).
    origin: Mapped[str] = mapped_column(String(16), default="file", server_default="file")
    # A fetch lease: the instance that claimed the source fetches it until then (multi-instance).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failure_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ArticleTombstone(Base):
    """The dedupe keys of an article pruned by retention, so a feed that still carries it
    does not make it "new" again and alert a second time. `seen_at` is the last fetch that
    carried it; once none has for the retention period, the tombstone goes too."""

    __tablename__ = "article_tombstones"
    __table_args__ = (
        Index("ix_article_tombstones_url", "url"),
        Index("ix_article_tombstones_seen_at", "seen_at"),
    )

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    guid: Mapped[str] = mapped_column(String(1024), primary_key=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "guid"),
        Index("ix_articles_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(1024))
    url: Mapped[str | None] = mapped_column(String(2048), unique=True, nullable=True)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # One story told by several sources (bot.stories): the id of its first article; NULL for
    # rows stored before clustering. `signature` is the word-token set of headline and lead
    # (bot.dedupe), kept so later articles from other sources can be compared with it.
    story_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)


class PageLead(Base):
    """The lead text of an article page (bot.feeds.page), fetched once for title-only items."""

    __tablename__ = "page_leads"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    lead: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ArticleTopic(Base):
    """Which catalogue topics an article was classified under, for `/latest <topic>`."""

    __tablename__ = "article_topics"
    __table_args__ = (Index("ix_article_topics_topic", "topic", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(256), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Delivery settings (bot.delivery.policy): local times are minutes after midnight in
    # `timezone` (an IANA name); quiet hours are off while either end is NULL.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    delivery_mode: Mapped[DeliveryMode] = mapped_column(
        _enum(DeliveryMode, "delivery_mode"), default=DeliveryMode.INSTANT, server_default="instant"
    )
    digest_minute: Mapped[int] = mapped_column(Integer, default=480, server_default="480")
    quiet_start_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quiet_end_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quiet_behaviour: Mapped[QuietBehaviour] = mapped_column(
        _enum(QuietBehaviour, "quiet_behaviour"), default=QuietBehaviour.HOLD, server_default="hold"
    )
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("chat_id", "kind", "value"),
        Index("ix_subscriptions_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE", onupdate="CASCADE")
    )
    kind: Mapped[SubscriptionKind] = mapped_column(_enum(SubscriptionKind, "subscription_kind"))
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The forum topic where /subscribe was sent: alerts it matches go to that thread.
    message_thread_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


# Outbox rows still to send (pending or claimed), as SQL: the partial index's condition.
# On SQLite it carries a unary plus, which makes the term unusable as an index lookup, so
# the planner cannot answer it from (status, next_attempt_at) and sort; storage.outbox
# repeats it verbatim, which is how SQLite recognises the partial index as usable.
OUTBOX_LIVE = "status IN ('pending', 'claimed')"
OUTBOX_LIVE_SQLITE = "+" + OUTBOX_LIVE
OUTBOX_EDIT_WAITING = "edit_due_at IS NOT NULL"


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("chat_id", "article_id"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # The live rows in id order, for claim_due: claims never read the sent rows.
        Index(
            "ix_outbox_live_id",
            "id",
            sqlite_where=text(OUTBOX_LIVE_SQLITE),
            postgresql_where=text(OUTBOX_LIVE),
        ),
        # The sent alerts waiting to be edited with a story's later sources (bot.delivery.editor).
        Index(
            "ix_outbox_edit_due_at",
            "edit_due_at",
            sqlite_where=text(OUTBOX_EDIT_WAITING),
            postgresql_where=text(OUTBOX_EDIT_WAITING),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE", onupdate="CASCADE")
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set at enqueue by the chat's delivery policy: `digest` rows wait for the digest job
    # (held until next_attempt_at, then sent as one message per chat), `silent` ones go out
    # with disable_notification, `message_thread_id` is the forum topic to post in.
    digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    message_thread_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # A sent alert whose story gained another source (bot.stories): when to edit it to name
    # that source ("Also: …"); NULL when no edit is waiting.
    edit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
