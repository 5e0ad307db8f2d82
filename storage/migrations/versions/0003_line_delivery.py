"""LINE delivery: millisecond event timestamps, raw-body purge, LINE message ids, reply bookkeeping

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_event", schema=None) as batch_op:
        # LINE timestamps are milliseconds since the epoch: they overflow a 32-bit integer.
        batch_op.alter_column(
            "event_ts", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_inbox_event_due", ["status", "event_ts"], unique=False)

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_attempted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("delivered_via", sa.String(length=16), nullable=True))
        # Each contact's pending rows in order: what the claim asks of every candidate.
        batch_op.create_index(
            "ix_outbox_message_contact_pending", ["contact_id", "status", "id"], unique=False
        )

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_message_id", sa.String(length=64), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        # Queue tables change fast: fresh statistics keep the claim queries on their indexes.
        for table in ("inbox_event", "outbox_message"):
            op.execute(
                f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.02, "
                "autovacuum_vacuum_scale_factor = 0.05)"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("inbox_event", "outbox_message"):
            op.execute(
                f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor, autovacuum_vacuum_scale_factor)"
            )

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_column("external_message_id")

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_contact_pending")
        batch_op.drop_column("delivered_via")
        batch_op.drop_column("reply_attempted_at")

    with op.batch_alter_table("inbox_event", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_event_due")
        batch_op.drop_column("purged_at")
        batch_op.alter_column(
            "event_ts", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
