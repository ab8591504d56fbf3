"""When a fetch last carried a pruned article, so its tombstone can go once no feed does.

A tombstone keeps a pruned article's dedupe keys so a feed that still carries the item does
not make it new again. Kept forever they grow with every article ever stored; `seen_at` is
refreshed whenever a fetch carries the item (by guid in its source, or by URL), and the
retention job drops tombstones no fetch has carried for the retention period
(storage.retention.prune_tombstones). Existing tombstones start from their `pruned_at`.

Revision ID: 0008_tombstone_seen
Revises: 0007_story_edits
Create Date: 2026-12-06 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_tombstone_seen"
down_revision: str | Sequence[str] | None = "0007_story_edits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article_tombstones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE article_tombstones SET seen_at = pruned_at")
    with op.batch_alter_table("article_tombstones", schema=None) as batch_op:
        batch_op.alter_column("seen_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index("ix_article_tombstones_seen_at", "article_tombstones", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_article_tombstones_seen_at", table_name="article_tombstones")
    with op.batch_alter_table("article_tombstones", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
