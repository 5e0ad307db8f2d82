"""The report's SQL: counts grouped by month and by one code, done by the database (GROUP BY), never by
loading rows into Python; and the percentiles of response times, read by offset."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, case, cast, func, or_, select
from sqlalchemy.orm import Session

from storage.bookings import Booking
from storage.desk_posts import QuotaReading
from storage.models import Consultation, ConsultationEvent, Interaction, OutboxMessage

# Who the history names when nobody at the desk acted: the owner, the system, and the channel the
# request came in by (its `submitted` event). Any other actor is a coordinator (their Slack user id).
NOT_COORDINATORS = ("owner", "system", "line", "simulator", "web", "cli", "slack", "mail")
HELD_BOOKING = ("done",)  # and a confirmed one whose time has passed
VISIT_METHOD = "onsite"

# {month index: {code: count}}: for a run of months (ReportPeriod.spans), under its first month.
MonthCounts = dict[int, dict[Any, int]]
Spans = Iterable[tuple[int, int]]


def grouped(
    session: Session,
    inner: Select[*tuple[Any, ...]],
    at: Any,
    boundaries: Sequence[datetime],
    spans: Spans,
) -> MonthCounts:
    """Counts the rows of `inner` (its column `code`) by code, in each run of months of `spans` (first and
    last, indexes into the boundaries) by the time `at`: one query per run, each a range of an index
    (cheaper than putting every row of the period in its month with a CASE), under the run's first month."""
    counts: MonthCounts = defaultdict(dict)
    for first, last in spans:
        sub = inner.where(at >= boundaries[first], at < boundaries[last + 1]).subquery()
        rows = session.execute(select(sub.c.code, func.count()).group_by(sub.c.code)).all()
        counts[first] = {code: int(count) for code, count in rows}
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


def consultations_by(
    session: Session, code: Any, boundaries: Sequence[datetime], spans: Spans
) -> MonthCounts:
    """Consultations submitted in each run of `spans`, by the code (a column of the consultation)."""
    return grouped(session, select(code.label("code")), Consultation.submitted_at, boundaries, spans)


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


def held_bookings_by_method(
    session: Session, boundaries: Sequence[datetime], spans: Spans, now: datetime
) -> MonthCounts:
    """Meetings held in each run of `spans` (by their start), by method: done, or confirmed and begun."""
    held = (Booking.status.in_(HELD_BOOKING)) | ((Booking.status == "confirmed") & (Booking.starts_at < now))
    inner = select(Booking.method.label("code")).where(held, Booking.consultation_id.is_not(None))
    return grouped(session, inner, Booking.starts_at, boundaries, spans)


def line_messages(session: Session, boundaries: Sequence[datetime], spans: Spans) -> MonthCounts:
    """LINE messages in each run of `spans` (indexes into the boundaries): `in` received, `out` and `push`
    delivered (by delivery: one parked is not counted). One query per run and direction, each a range
    of a covering index: counting a range's rows is cheaper than bucketing millions of them."""
    counts: MonthCounts = defaultdict(dict)
    push = OutboxMessage.delivered_via.in_(("push", "push-409"))
    for month, last in spans:
        start, end = boundaries[month], boundaries[last + 1]
        received = select(func.count()).where(
            Interaction.channel == "line",
            Interaction.direction == "in",
            Interaction.at >= start,
            Interaction.at < end,
        )
        out = (Interaction.channel == "line", Interaction.direction == "out")
        in_month = (Interaction.delivered_at >= start, Interaction.delivered_at < end)
        delivered = select(func.count()).where(*out, *in_month)
        pushed = (
            select(func.count())
            .select_from(Interaction)
            .join(OutboxMessage, OutboxMessage.id == Interaction.outbox_id)
            .where(*out, *in_month, push)
        )
        n_in, n_out, n_push = (int(session.scalar(query) or 0) for query in (received, delivered, pushed))
        counts[month].update({"in": n_in, "out": n_out - n_push, "push": n_push})
    return counts


def _seconds_between(session: Session, earlier: Any, later: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def response_seconds(
    session: Session, start: datetime, end: datetime
) -> tuple[int, float | None, float | None]:
    """For the consultations submitted in [start, end) that a coordinator has acted on: how many, and the
    median and 90th percentile of the time from submission to the first action (seconds), in one query
    (one sort): the waits ranked by a window function, only the ranks around the two percentiles sent
    back, with the count."""
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
    ranked = (
        select(
            seconds,
            (func.row_number().over(order_by=seconds) - 1).label("rank"),
            func.count().over().label("n"),
        )
        .join(first_action, first_action.c.cid == Consultation.id)
        .where(Consultation.submitted_at >= start, Consultation.submitted_at < end)
        .subquery()
    )
    # The ranks either side of 0.5 (n - 1) and 0.9 (n - 1), with one to spare around each.
    median, ninetieth = (ranked.c.n - 1) / 2, (ranked.c.n - 1) * 9 / 10
    near = or_(
        ranked.c.rank.between(median - 1, median + 2), ranked.c.rank.between(ninetieth - 1, ninetieth + 2)
    )
    rows = session.execute(select(ranked.c.rank, ranked.c.seconds, ranked.c.n).where(near)).all()
    if not rows:
        return 0, None, None
    count = int(rows[0].n)
    values = {int(rank): float(value) for rank, value, _ in rows}

    def percentile(fraction: float) -> float:
        """Linear interpolation between the two closest ranks (as numpy's default and PostgreSQL's
        percentile_cont)."""
        position = fraction * (count - 1)
        low = int(position)
        if low + 1 not in values or position == low:
            return values[low]
        return values[low] + (values[low + 1] - values[low]) * (position - low)

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
