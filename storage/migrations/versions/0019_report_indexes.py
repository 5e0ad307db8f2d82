"""Covering indexes for the monthly report's aggregation: LINE messages by channel, direction and time,
a contact's earlier consultations, the consultations' breakdowns by month, a consultation's first coordinator action, outcome records by month

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_interaction_channel_direction_at", "interaction", ["channel", "direction", "at"]),
    (
        "ix_interaction_channel_direction_delivered",
        "interaction",
        ["channel", "direction", "delivered_at", "outbox_id"],
    ),
    ("ix_consultation_contact_submitted", "consultation", ["contact_id", "submitted_at", "id"]),
    (
        "ix_consultation_report",
        "consultation",
        [
            "submitted_at",
            "status",
            "method",
            "category",
            "industry",
            "region",
            "municipality_code",
            "employee_band",
            "dx_stage",
            "contact_id",
            "id",
        ],
    ),
    ("ix_consultation_event_first_action", "consultation_event", ["consultation_id", "at", "actor", "kind"]),
    ("ix_outcome_record_recorded", "outcome_record", ["recorded_at", "booking_id", "revision"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
