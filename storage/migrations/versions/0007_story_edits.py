"""Sent alerts that should be edited to name a story's later sources; joins the two heads.

When another source carries a story a chat was already alerted to (bot.stories), that chat's
alert is edited to add "Also: <source>" rather than sent again. `outbox.edit_due_at` marks
such a sent row until the edit is made (bot.delivery.editor); the partial index keeps the
editor's scan to the few rows that are waiting.

Revision ID: 0007_story_edits
Revises: 0003_quality, 0006_delivery_perf
Create Date: 2026-12-06 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_story_edits"
down_revision: str | Sequence[str] | None = ("0003_quality", "0006_delivery_perf")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "edit_due_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edit_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_outbox_edit_due_at",
        "outbox",
        ["edit_due_at"],
        unique=False,
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_edit_due_at", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("edit_due_at")
