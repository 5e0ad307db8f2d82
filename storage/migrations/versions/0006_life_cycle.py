"""One life cycle: bookings are requested once submitted and confirmed (not approved); consultations
have the states of bot.lifecycle.ConsultationStatus, both checked by the database

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_BOOKING = "'held', 'approved', 'declined', 'expired', 'cancelled', 'done', 'no_show'"
NEW_BOOKING = "'held', 'requested', 'confirmed', 'declined', 'expired', 'cancelled', 'done', 'no_show'"
CONSULTATION = "'submitted', 'in_progress', 'closed', 'withdrawn'"
EXCLUDE = (
    "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
    "(coordinator_id WITH =, tstzrange(blocked_from, blocked_until) WITH &&) WHERE (status IN ({}))"
)


def _booking_statuses(new: str, renames: list[str], active: str) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE booking DROP CONSTRAINT ex_booking_no_overlap")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_booking_status"), type_="check")
    for statement in renames:
        op.execute(statement)
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_booking_status"), f"status IN ({new})")
    if postgresql:
        op.execute(EXCLUDE.format(active))


def upgrade() -> None:
    _booking_statuses(
        NEW_BOOKING,
        [
            "UPDATE booking SET status = 'confirmed' WHERE status = 'approved'",
            # A hold a submitted consultation owns waits for the coordinator: requested.
            "UPDATE booking SET status = 'requested' WHERE status = 'held' AND consultation_id IS NOT NULL",
        ],
        "'held', 'requested', 'confirmed'",
    )
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_consultation_status"), f"status IN ({CONSULTATION})")


def downgrade() -> None:
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_consultation_status"), type_="check")
    op.execute("UPDATE consultation SET status = 'submitted'")
    _booking_statuses(
        OLD_BOOKING,
        [
            "UPDATE booking SET status = 'approved' WHERE status = 'confirmed'",
            "UPDATE booking SET status = 'held' WHERE status = 'requested'",
        ],
        "'held', 'approved'",
    )
