"""The desk's own posts (digest, quota warning, monthly summary) once per key, LINE quota readings, and
parked outbox rows reported once

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_desk_post_outbox_message_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_post")),
        sa.UniqueConstraint("job", "key", name="uq_desk_post_job_key"),
    )
    op.create_table(
        "line_quota_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_quota_reading")),
    )
    op.create_index(op.f("ix_line_quota_reading_month"), "line_quota_reading", ["month"], unique=False)
    op.create_table(
        "parked_report",
        sa.Column("outbox_message_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_parked_report_outbox_message_id_outbox_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbox_message_id", name=op.f("pk_parked_report")),
    )


def downgrade() -> None:
    op.drop_table("parked_report")
    op.drop_index(op.f("ix_line_quota_reading_month"), table_name="line_quota_reading")
    op.drop_table("line_quota_reading")
    op.drop_table("desk_post")
