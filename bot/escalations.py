"""Requests nobody acted on: after a while in the desk's working time (config.escalations), a reply in the
card's thread mentioning the assignee, then a post mentioning the approvers; each exactly once.

A request waits while its consultation is still `submitted` (a coordinator's 承認 takes it up, お断り closes
it, the owner's cancellation withdraws it). The sweep catches up by what is due in the database: a run
after downtime in which the approvers' post is already due sends that one only, which names the assignee
too (the assignee's reply is recorded as covered). Each escalation's row and the outbox row of its message
are written in one transaction, under a unique key per (consultation, kind): a second run or a second
scheduler writes nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.sending import TO_THREAD, Notice, Outbound
from config import DeskConfig
from scheduling.working_time import add_working_hours, same_time_business_days_later
from storage.bookings import get_active_booking
from storage.clock import Clock
from storage.database import Database
from storage.escalations import (
    APPROVERS,
    ASSIGNEE,
    COVERED,
    NOBODY,
    SENT,
    escalations_of,
    record_escalation,
    waiting_consultations,
)
from storage.models import Consultation

log = logging.getLogger(__name__)
WAITING = ("submitted",)  # the consultation statuses of a request no coordinator has acted on
REMIND_KIND = "escalation_assignee"  # the Notice kinds (handlers/slack/notices.py renders them)
ESCALATE_KIND = "escalation_approvers"
BATCH = 500


@dataclass
class EscalationRun:
    """What one sweep did."""

    reminded: int = 0
    escalated: int = 0
    covered: int = 0
    nobody: int = 0
    failed: int = 0

    def summary(self) -> str:
        return (
            f"{self.reminded} assignee reminder(s), {self.escalated} escalation(s) to the approvers, "
            f"{self.covered} covered, {self.nobody} without approvers, {self.failed} failed"
        )


def due_times(desk: DeskConfig, submitted_at: datetime) -> tuple[datetime, datetime]:
    """When the assignee is reminded and when the approvers are told, for a request sent at that moment."""
    config = desk.escalations
    closures = desk.scheduling.closures
    remind = add_working_hours(
        submitted_at, config.remind_after_working_hours, weekly=config.hours, closures=closures
    )
    return remind, same_time_business_days_later(
        remind, config.escalate_after_working_days, closures=closures
    )


class Escalator:
    """Sweeps the waiting requests; `recorded` is the wall clock the rows are stamped with."""

    def __init__(self, *, db: Database, outbound: Outbound, desk: DeskConfig, recorded: Clock) -> None:
        self.db, self.outbound, self.desk, self.recorded = db, outbound, desk, recorded

    def run(self, now: datetime) -> EscalationRun:
        """Does what is due at `now`, once."""
        run = EscalationRun()
        if not self.desk.escalations.enabled or self.outbound.coordinators is None:
            return run
        with self.db.session() as session:
            waiting = waiting_consultations(session=session, statuses=WAITING, limit=BATCH)
        for consultation_id in waiting:
            try:
                with self.db.session() as session:
                    self._one(session, consultation_id, now, run)
            except IntegrityError:  # another run wrote it first: it is done
                log.info("escalation of consultation %s done elsewhere", consultation_id)
            except Exception as exc:  # noqa: BLE001 - one request failing never stops the others
                run.failed += 1
                log.error("escalation of consultation %s failed: %s", consultation_id, type(exc).__name__)
        return run

    def _one(self, session: Session, consultation_id: int, now: datetime, run: EscalationRun) -> None:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None or consultation.status not in WAITING:
            return
        remind_at, escalate_at = due_times(self.desk, consultation.submitted_at)
        done = escalations_of(session=session, consultation_id=consultation_id)
        booking = get_active_booking(session=session, consultation_id=consultation_id)
        detail: dict[str, Any] = {"coordinator_id": booking.coordinator_id if booking else None}
        booking_id = booking.id if booking else None
        stamp = self.recorded.now()
        if now >= escalate_at and APPROVERS not in done:
            if ASSIGNEE not in done:
                record_escalation(
                    session=session,
                    consultation_id=consultation_id,
                    kind=ASSIGNEE,
                    status=COVERED,
                    due_at=remind_at,
                    done_at=stamp,
                )
                run.covered += 1
            if not self.desk.slack.approvers:
                record_escalation(
                    session=session,
                    consultation_id=consultation_id,
                    kind=APPROVERS,
                    status=NOBODY,
                    due_at=escalate_at,
                    done_at=stamp,
                )
                run.nobody += 1
                return
            self._send(session, consultation, ESCALATE_KIND, APPROVERS, escalate_at, detail, booking_id)
            run.escalated += 1
        elif now >= remind_at and ASSIGNEE not in done:
            self._send(session, consultation, REMIND_KIND, ASSIGNEE, remind_at, detail, booking_id)
            run.reminded += 1

    def _send(
        self,
        session: Session,
        consultation: Consultation,
        notice_kind: str,
        kind: str,
        due_at: datetime,
        detail: dict[str, Any],
        booking_id: int | None,
    ) -> None:
        notice = Notice(notice_kind, consultation.id, booking_id=booking_id, detail=detail, to=TO_THREAD)
        [row] = self.outbound.to_coordinators(session=session, notice=notice)
        record_escalation(
            session=session,
            consultation_id=consultation.id,
            kind=kind,
            status=SENT,
            due_at=due_at,
            done_at=self.recorded.now(),
            outbox_message_id=row.id,
        )
