"""Sole traders and forgetting: an owner's own name stored encrypted, where a conversation's log begins

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        # A sole trader without a trade name is known by their own name: personal data, kept encrypted.
        batch_op.add_column(sa.Column("sole_trader", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("owner_name", sa.Text(), nullable=True))
        batch_op.alter_column("company_name", existing_type=sa.String(length=200), nullable=True)

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=200), nullable=True)

    with op.batch_alter_table("conversation", schema=None) as batch_op:
        # The first interaction of the conversation: what is deleted when the owner declines or cancels.
        batch_op.add_column(sa.Column("log_from_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("log_from_id")

    op.execute("UPDATE company SET name = '' WHERE name IS NULL")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=200), nullable=False)

    op.execute("UPDATE consultation SET company_name = '' WHERE company_name IS NULL")
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.alter_column("company_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("owner_name")
        batch_op.drop_column("sole_trader")
