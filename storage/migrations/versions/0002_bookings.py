"""bookings and holds of coordinators' time

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = "'held', 'approved', 'declined', 'expired', 'cancelled', 'done', 'no_show'"


def upgrade() -> None:
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("coordinator_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("meeting_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_uid", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_booking_status")),
        sa.CheckConstraint(
            "starts_at < ends_at AND blocked_from <= starts_at AND ends_at <= blocked_until",
            name=op.f("ck_booking_span"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_booking_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_booking_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "consultation_id IS NOT NULL OR contact_id IS NOT NULL", name=op.f("ck_booking_owner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("external_uid", name=op.f("uq_booking_external_uid")),
    )
    op.create_index(op.f("ix_booking_consultation_id"), "booking", ["consultation_id"])
    op.create_index(op.f("ix_booking_contact_id"), "booking", ["contact_id"])
    op.create_index(op.f("ix_booking_status"), "booking", ["status"])
    op.create_index("ix_booking_coordinator_blocked", "booking", ["coordinator_id", "blocked_from"])
    if op.get_bind().dialect.name == "postgresql":
        # Two active bookings of one coordinator may never share time, whatever the application does.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
            "(coordinator_id WITH =, tstzrange(blocked_from, blocked_until) WITH &&) "
            "WHERE (status IN ('held', 'approved'))"
        )


def downgrade() -> None:
    op.drop_table("booking")
