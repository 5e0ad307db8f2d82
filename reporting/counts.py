"""The report's SQL: counts grouped by month and by one code, done by the database (GROUP BY), never by
loading rows into Python; and the percentiles of response times, read by offset."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, case, cast, func, literal, select
from sqlalchemy.orm import Session

from storage.bookings import Booking
from storage.desk_posts import QuotaReading
from storage.models import Consultation, ConsultationEvent, Interaction, OutboxMessage

# Who the history names when nobody at the desk acted: the owner, the system, and the channel the
# request came in by (its `submitted` event). Any other actor is a coordinator (their Slack user id).
NOT_COORDINATORS = ("owner", "system", "line", "simulator", "web", "cli", "slack", "mail")
HELD_BOOKING = ("done",)  # and a confirmed one whose time has passed
VISIT_METHOD = "onsite"

# {month index: {code: count}}
MonthCounts = dict[int, dict[Any, int]]


def month_bucket(column: Any, boundaries: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the month a time falls in (the caller keeps the time inside the boundaries)."""
    whens = [(column < boundary, literal(i)) for i, boundary in enumerate(boundaries[1:-1])]
    return case(*whens, else_=literal(len(boundaries) - 2)) if whens else literal(0)


def grouped(session: Session, inner: Select[Any, Any]) -> MonthCounts:
    """Counts the rows of `inner` (its columns `bucket` and `code`) by month and code."""
    sub = inner.subquery()
    rows = session.execute(
        select(sub.c.bucket, sub.c.code, func.count()).group_by(sub.c.bucket, sub.c.code)
    ).all()
    counts: MonthCounts = defaultdict(dict)
    for bucket, code, count in rows:
        counts[int(bucket)][code] = int(count)
    return counts


def repeat_flag() -> ColumnElement[int]:
    """1 when the same contact (their LINE account, or the form's e-mail) asked before, else 0."""
    earlier = Consultation.__table__.alias("earlier")
    asked_before = (
        select(earlier.c.id)
        .where(
            earlier.c.contact_id == Consultation.contact_id,
            (earlier.c.submitted_at < Consultation.submitted_at)
            | ((earlier.c.submitted_at == Consultation.submitted_at) & (earlier.c.id < Consultation.id)),
        )
        .exists()
    )
    return case((asked_before, 1), else_=0)


def consultations_by(session: Session, code: Any, boundaries: Sequence[datetime]) -> MonthCounts:
    """Consultations submitted in each month, by the code (a column of the consultation)."""
    inner = select(
        month_bucket(Consultation.submitted_at, boundaries).label("bucket"), code.label("code")
    ).where(Consultation.submitted_at >= boundaries[0], Consultation.submitted_at < boundaries[-1])
    return grouped(session, inner)


def distinct_contacts(session: Session, start: datetime, end: datetime) -> int:
    """How many different contacts (businesses, as far as the desk can tell) asked in [start, end)."""
    return int(
        session.scalar(
            select(func.count(func.distinct(Consultation.contact_id))).where(
                Consultation.submitted_at >= start, Consultation.submitted_at < end
            )
        )
        or 0
    )


def held_bookings_by_method(session: Session, boundaries: Sequence[datetime], now: datetime) -> MonthCounts:
    """Meetings held in each month (by their start), by method: done, or confirmed and already begun."""
    held = (Booking.status.in_(HELD_BOOKING)) | ((Booking.status == "confirmed") & (Booking.starts_at < now))
    inner = select(
        month_bucket(Booking.starts_at, boundaries).label("bucket"), Booking.method.label("code")
    ).where(
        held,
        Booking.consultation_id.is_not(None),
        Booking.starts_at >= boundaries[0],
        Booking.starts_at < boundaries[-1],
    )
    return grouped(session, inner)


def line_messages(session: Session, boundaries: Sequence[datetime]) -> MonthCounts:
    """LINE messages by month: `in` received, `out` delivered (by delivery: one parked is not counted)."""
    received = select(
        month_bucket(Interaction.at, boundaries).label("bucket"), literal("in").label("code")
    ).where(
        Interaction.channel == "line",
        Interaction.direction == "in",
        Interaction.at >= boundaries[0],
        Interaction.at < boundaries[-1],
    )
    counts = grouped(session, received)
    delivered = select(
        month_bucket(Interaction.delivered_at, boundaries).label("bucket"),
        case((OutboxMessage.delivered_via.in_(("push", "push-409")), "push"), else_="out").label("code"),
    ).outerjoin(OutboxMessage, OutboxMessage.id == Interaction.outbox_id)
    delivered = delivered.where(
        Interaction.channel == "line",
        Interaction.direction == "out",
        Interaction.delivered_at >= boundaries[0],
        Interaction.delivered_at < boundaries[-1],
    )
    for bucket, codes in grouped(session, delivered).items():
        counts[bucket].update(codes)
    return counts


def _seconds_between(session: Session, earlier: Any, later: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def response_seconds(
    session: Session, start: datetime, end: datetime
) -> tuple[int, float | None, float | None]:
    """For the consultations submitted in [start, end) that a coordinator has acted on: how many, and the
    median and 90th percentile of the time from submission to the first action (seconds), read by offset
    in the database so only two values come back."""
    in_period = select(Consultation.id).where(
        Consultation.submitted_at >= start, Consultation.submitted_at < end
    )
    first_action = (
        select(
            ConsultationEvent.consultation_id.label("cid"),
            func.min(ConsultationEvent.at).label("first_at"),
        )
        .where(
            ConsultationEvent.consultation_id.in_(in_period),
            ConsultationEvent.actor.not_in(NOT_COORDINATORS),
            ConsultationEvent.kind != "submitted",
        )
        .group_by(ConsultationEvent.consultation_id)
        .subquery()
    )
    seconds = _seconds_between(session, Consultation.submitted_at, first_action.c.first_at).label("seconds")
    waits = (
        select(seconds)
        .join(first_action, first_action.c.cid == Consultation.id)
        .where(Consultation.submitted_at >= start, Consultation.submitted_at < end)
    )
    count = int(session.scalar(select(func.count()).select_from(waits.subquery())) or 0)
    if count == 0:
        return 0, None, None
    ordered = waits.order_by(seconds)

    def percentile(fraction: float) -> float:
        """Linear interpolation between the two closest ranks (as numpy's default and PostgreSQL's
        percentile_cont)."""
        position = fraction * (count - 1)
        low = int(position)
        values = [float(v) for v in session.scalars(ordered.offset(low).limit(2))]
        if len(values) == 1 or position == low:
            return values[0]
        return values[0] + (values[1] - values[0]) * (position - low)

    return count, percentile(0.5), percentile(0.9)


def quota_readings(session: Session, months: Sequence[str]) -> dict[str, tuple[int, int | None]]:
    """The last LINE quota reading of each month (YYYY-MM) that has one: (messages used, the month's
    quota, None when unlimited). LINE counts the push messages against the quota."""
    last = (
        select(func.max(QuotaReading.id))
        .where(QuotaReading.month.in_(list(months)))
        .group_by(QuotaReading.month)
    )
    query = select(QuotaReading.month, QuotaReading.used, QuotaReading.quota).where(QuotaReading.id.in_(last))
    return {month: (int(used), quota) for month, used, quota in session.execute(query).all()}
