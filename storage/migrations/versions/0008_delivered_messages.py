"""The interaction log knows when an outbound message was delivered: the outbox row that carries it and its
delivery time; the outbox row says why it is sent

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outbox_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_interaction_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interaction_delivered_at"), ["delivered_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_interaction_outbox_id_outbox_message"),
            "outbox_message",
            ["outbox_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))
    # Before this revision the log could not tell: what it holds was counted as sent, and still is.
    op.execute("UPDATE interaction SET delivered_at = at WHERE direction = 'out'")


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_interaction_outbox_id_outbox_message"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_interaction_delivered_at"))
        batch_op.drop_index(batch_op.f("ix_interaction_outbox_id"))
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("outbox_id")
