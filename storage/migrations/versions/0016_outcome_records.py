"""Outcome records (対応記録, append-only revisions), the owner's consent to their referrals, and which
bookings were offered one

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

RESULTS = "'resolved', 'continuing', 'referred', 'information', 'on_hold'"


def upgrade() -> None:
    op.create_table(
        "outcome_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("programmes", sa.JSON(), nullable=False),
        sa.Column("next_action", sa.Text(), nullable=True),
        sa.Column("next_action_on", sa.Date(), nullable=True),
        sa.Column("onsite", sa.Boolean(), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("vendors", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"result IN ({RESULTS})", name=op.f("ck_outcome_record_result")),
        sa.CheckConstraint("minutes >= 0", name=op.f("ck_outcome_record_minutes")),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_outcome_record_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_outcome_record_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_record")),
        sa.UniqueConstraint("booking_id", "revision", name="uq_outcome_record_booking_revision"),
    )
    op.create_index(op.f("ix_outcome_record_consultation_id"), "outcome_record", ["consultation_id"])
    op.create_table(
        "referral_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("answer IN ('agree', 'disagree')", name=op.f("ck_referral_consent_answer")),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["outcome_record.id"],
            name=op.f("fk_referral_consent_outcome_id_outcome_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_referral_consent_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_referral_consent_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_consent")),
        sa.UniqueConstraint("outcome_id", name=op.f("uq_referral_consent_outcome_id")),
    )
    op.create_index(op.f("ix_referral_consent_consultation_id"), "referral_consent", ["consultation_id"])
    op.create_index(op.f("ix_referral_consent_contact_id"), "referral_consent", ["contact_id"])
    op.create_table(
        "outcome_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_outcome_offer_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_offer")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_outcome_offer_booking_id")),
    )


def downgrade() -> None:
    op.drop_table("outcome_offer")
    op.drop_index(op.f("ix_referral_consent_contact_id"), table_name="referral_consent")
    op.drop_index(op.f("ix_referral_consent_consultation_id"), table_name="referral_consent")
    op.drop_table("referral_consent")
    op.drop_index(op.f("ix_outcome_record_consultation_id"), table_name="outcome_record")
    op.drop_table("outcome_record")
