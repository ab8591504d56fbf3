"""Operations: source origin, fetch leases, failure notices, tombstones of pruned articles.

Revision ID: 0005_ops
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ops"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="file", nullable=False)
        )
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("failure_notified_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "article_tombstones",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=1024), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_article_tombstones_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "guid", name=op.f("pk_article_tombstones")),
    )
    with op.batch_alter_table("article_tombstones", schema=None) as batch_op:
        batch_op.create_index("ix_article_tombstones_url", ["url"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article_tombstones", schema=None) as batch_op:
        batch_op.drop_index("ix_article_tombstones_url")
    op.drop_table("article_tombstones")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("failure_notified_at")
        batch_op.drop_column("failing_since")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("origin")
