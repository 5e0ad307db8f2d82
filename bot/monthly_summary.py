"""The monthly summary posted to the intake channel on the 1st at 09:00 JST: the previous Japan-time
month's consultations by status, method, category and region, the appointments held, the on-site visits
against the target, the survey average and the median response time. Once per month: a row with a unique
(job, key) is written with the outbox row, so a re-run posts a missed month and never doubles a posted one.

A small aggregation of its own (SQL GROUP BY); the monthly report's aggregation (reporting/) replaces it
when that lands.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.lifecycle import SYSTEM, BookingStatus
from bot.sending import TO_DESK, Notice, Outbound
from config import DeskConfig
from storage import desk_posts
from storage.bookings import Booking
from storage.clock import JST, Clock, month_bounds
from storage.database import Database
from storage.follow_ups import SatisfactionSurvey
from storage.models import Consultation, ConsultationEvent

log = logging.getLogger(__name__)

KIND = "monthly_summary"
# What a coordinator does first with a request (the life cycle's history): answering it one way or another
COORDINATOR_ACTIONS = (
    "booking_confirmed",
    "booking_declined",
    "booking_moved",
    "booking_cancelled",
    "in_progress",
    "closed",
)
NOT_COORDINATORS = ("owner", SYSTEM)


def previous_month(now: datetime) -> str:
    """The Japan-time month before the one `now` is in, YYYY-MM."""
    local = now.astimezone(JST)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _counts(
    session: Session, column: InstrumentedAttribute[str], start: datetime, end: datetime
) -> dict[str, int]:
    query = (
        select(column, func.count())
        .where(Consultation.submitted_at >= start, Consultation.submitted_at < end)
        .group_by(column)
    )
    return {str(key): int(count) for key, count in session.execute(query).all()}


def survey_average(session: Session, start: datetime, end: datetime) -> float | None:
    """The average score (1 to 5) of the satisfaction surveys answered in the month (None: no answer; the
    summary shows 「—」), as the monthly report counts it."""
    query = select(func.avg(SatisfactionSurvey.score)).where(
        SatisfactionSurvey.answered_at >= start,
        SatisfactionSurvey.answered_at < end,
        SatisfactionSurvey.score.is_not(None),
    )
    average = session.scalar(query)
    return None if average is None else round(float(average), 1)


def response_minutes(session: Session, start: datetime, end: datetime) -> float | None:
    """The median time from submission to a coordinator's first action, in minutes, of the consultations
    submitted in the month that had one."""
    first = (
        select(ConsultationEvent.consultation_id, func.min(ConsultationEvent.at).label("first_at"))
        .where(
            ConsultationEvent.kind.in_(COORDINATOR_ACTIONS),
            ConsultationEvent.actor.not_in(NOT_COORDINATORS),
        )
        .group_by(ConsultationEvent.consultation_id)
        .subquery()
    )
    rows = session.execute(
        select(Consultation.submitted_at, first.c.first_at)
        .join(first, first.c.consultation_id == Consultation.id)
        .where(Consultation.submitted_at >= start, Consultation.submitted_at < end)
    ).all()
    waits = [
        (first_at - submitted).total_seconds() / 60 for submitted, first_at in rows if first_at >= submitted
    ]
    return round(statistics.median(waits), 1) if waits else None


def summarise(session: Session, desk: DeskConfig, month: str) -> dict[str, Any]:
    """The month's figures, as codes and counts."""
    start, end = month_bounds(month)
    held = (
        select(Booking.method, func.count())
        .where(Booking.status == BookingStatus.DONE, Booking.starts_at >= start, Booking.starts_at < end)
        .group_by(Booking.method)
    )
    held_by_method = {str(method): int(count) for method, count in session.execute(held).all()}
    by_status = _counts(session, Consultation.status, start, end)
    return {
        "month": month,
        "received": sum(by_status.values()),
        "by_status": by_status,
        "by_method": _counts(session, Consultation.method, start, end),
        "by_category": _counts(session, Consultation.category, start, end),
        "by_region": _counts(session, Consultation.region, start, end),
        "appointments_held": sum(held_by_method.values()),
        "onsite_visits": held_by_method.get("onsite", 0),
        "onsite_target": desk.reporting.visit_target_per_month,
        "survey_average": survey_average(session, start, end),
        "response_minutes_median": response_minutes(session, start, end),
    }


@dataclass(frozen=True)
class MonthlySummarySender:
    db: Database
    outbound: Outbound
    desk: DeskConfig
    recorded: Clock

    def run(self, now: datetime) -> str:
        """Posts the summary of the month before `now`'s, unless it was posted already."""
        month = previous_month(now)
        if self.outbound.coordinators is None:
            return "no coordinators' channel is configured: nothing posted"
        with self.db.session() as session:
            post = desk_posts.claim_post(
                session=session, job=desk_posts.MONTHLY_SUMMARY, key=month, now=self.recorded.now()
            )
            if post is None:
                return f"the summary of {month} was posted already: nothing posted"
            detail = summarise(session, self.desk, month)
            rows = self.outbound.to_coordinators(
                session=session, notice=Notice(KIND, detail=detail, to=TO_DESK)
            )
            post.outbox_message_id = rows[0].id if rows else None
        log.info("monthly summary of %s queued", month)
        return f"the summary of {month} is posted ({detail['received']} consultation(s))"
