"""Escalations of requests nobody acted on: one row per (consultation, kind), written with the outbox row
of its Slack message in one transaction, so each is sent, or recorded as not sent, exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow
from storage.models import Consultation

ASSIGNEE = "assignee"  # a reply in the card's thread mentioning the assigned coordinator
APPROVERS = "approvers"  # then a post mentioning the approvers
KINDS = (ASSIGNEE, APPROVERS)
SENT = "sent"
COVERED = "covered"  # the approvers' post was due in the same run: it names the assignee too
NOBODY = "nobody"  # no approver is configured: nothing to post


class Escalation(Base):
    """One escalation of a consultation's request, done (sent or set aside) once."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("consultation_id", "kind", name="uq_escalation_consultation_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=SENT)
    due_at: Mapped[datetime]
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    done_at: Mapped[datetime] = mapped_column(default=utcnow)  # by the wall clock, never back-dated


def waiting_consultations(*, session: Session, statuses: tuple[str, ...], limit: int = 500) -> list[int]:
    """The consultations in these statuses whose approvers' escalation is not done yet, oldest first."""
    done = select(Escalation.consultation_id).where(Escalation.kind == APPROVERS)
    query = (
        select(Consultation.id)
        .where(Consultation.status.in_(statuses), Consultation.id.not_in(done))
        .order_by(Consultation.submitted_at, Consultation.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def escalations_of(*, session: Session, consultation_id: int) -> dict[str, Escalation]:
    query = select(Escalation).where(Escalation.consultation_id == consultation_id)
    return {row.kind: row for row in session.scalars(query)}


def record_escalation(
    *,
    session: Session,
    consultation_id: int,
    kind: str,
    status: str,
    due_at: datetime,
    done_at: datetime,
    outbox_message_id: int | None = None,
) -> Escalation:
    """Writes the row (a second writer of the same (consultation, kind) fails on the unique key)."""
    row = Escalation(
        consultation_id=consultation_id,
        kind=kind,
        status=status,
        due_at=due_at,
        outbox_message_id=outbox_message_id,
        done_at=done_at,
    )
    session.add(row)
    session.flush()
    return row
