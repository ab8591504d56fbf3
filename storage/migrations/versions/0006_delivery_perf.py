"""Delivery performance: a partial index over the live outbox rows; joins the two heads.

`claim_due` takes the oldest due live rows (pending or claimed) by id. Without this index
SQLite found them through (status, next_attempt_at) and sorted every due row by id for each
claim (100,000 rows per claim of a big fan-out); with it, a claim walks the live rows in id
order and stops at its batch, never reading the sent rows.

Revision ID: 0006_delivery_perf
Revises: 0004_chat, 0005_ops
Create Date: 2026-12-02 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_delivery_perf"
down_revision: str | Sequence[str] | None = ("0004_chat", "0005_ops")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('pending', 'claimed')"
# SQLite: the unary plus keeps the planner from answering the term from the (status,
# next_attempt_at) index; storage.outbox.claim_due repeats the term verbatim.
LIVE_SQLITE = "+" + LIVE


def upgrade() -> None:
    op.create_index(
        "ix_outbox_live_id",
        "outbox",
        ["id"],
        unique=False,
        sqlite_where=sa.text(LIVE_SQLITE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_live_id", table_name="outbox")
