"""Chat experience: delivery settings per chat, forum threads, digest and silent alerts.

Revision ID: 0004_chat
Revises: 0001
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_chat"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "delivery_mode", sa.String(length=16), server_default="instant", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("digest_minute", sa.Integer(), server_default="480", nullable=False)
        )
        batch_op.add_column(sa.Column("quiet_start_minute", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quiet_end_minute", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "quiet_behaviour", sa.String(length=16), server_default="hold", nullable=False
            )
        )
        batch_op.add_column(sa.Column("paused", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_thread_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("silent", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("message_thread_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("message_thread_id")
        batch_op.drop_column("silent")
        batch_op.drop_column("digest")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("message_thread_id")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("paused")
        batch_op.drop_column("quiet_behaviour")
        batch_op.drop_column("quiet_end_minute")
        batch_op.drop_column("quiet_start_minute")
        batch_op.drop_column("digest_minute")
        batch_op.drop_column("delivery_mode")
        batch_op.drop_column("timezone")
