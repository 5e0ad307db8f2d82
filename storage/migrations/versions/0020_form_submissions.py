"""The web form's tokens already sent (their SHA-256), each with the consultation it stored, so one form
stores one consultation however often it is posted

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_submission",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_form_submission_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_form_submission")),
    )
    op.create_index(
        op.f("ix_form_submission_consultation_id"), "form_submission", ["consultation_id"], unique=False
    )
    op.create_index(
        op.f("ix_form_submission_submitted_at"), "form_submission", ["submitted_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_form_submission_submitted_at"), table_name="form_submission")
    op.drop_index(op.f("ix_form_submission_consultation_id"), table_name="form_submission")
    op.drop_table("form_submission")
