"""What a coordinator looks up (the slash command, the App Home): their appointments of a day or a week,
the requests waiting for them, and the desk's consultations by company name; an approver sees the whole
desk. Channel-neutral: each item is a line of plain text, with the date, weekday and 祝 as the card has
them; the channel escapes and lays them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.bookings import booking_when
from bot.texts import BOOKING_STATUS_LABELS, CONSULTATION_STATUS_LABELS
from config import DeskConfig
from scheduling.availability import jst_date, jst_midnight
from storage.bookings import ACTIVE_STATUSES, Booking
from storage.models import Consultation

LIST_MAX = 20  # items one answer shows (the rest counted)
FIND_MIN = 2  # characters a company search needs
SOLE_TRADER = "（個人事業主）"


@dataclass(frozen=True)
class Viewer:
    """Whose lists: one coordinator's (coordinator_id), or the whole desk's (an approver: None)."""

    coordinator_id: str | None

    @property
    def whole_desk(self) -> bool:
        return self.coordinator_id is None


def _company(consultation: Consultation | None) -> str:
    if consultation is None:
        return "—"
    return consultation.company_name or SOLE_TRADER


def _coordinator_name(desk: DeskConfig, coordinator_id: str) -> str:
    coordinator = desk.scheduling.coordinator(coordinator_id)
    return coordinator.name if coordinator else coordinator_id


def booking_line(
    desk: DeskConfig, booking: Booking, consultation: Consultation | None, viewer: Viewer
) -> str:
    """`11/26(木) 14:00〜15:00 K-… 株式会社… 来所（確定）`, with the coordinator for the whole desk."""
    method = next((m.label for m in desk.methods if m.id == booking.method), booking.method)
    status = BOOKING_STATUS_LABELS.get(booking.status, booking.status)
    reference = consultation.reference if consultation else "—"
    line = f"{booking_when(booking)} {reference} {_company(consultation)} {method}（{status}）"
    if viewer.whole_desk:
        line += f" 担当：{_coordinator_name(desk, booking.coordinator_id)}"
    return line


def appointments(
    *, session: Session, desk: DeskConfig, viewer: Viewer, start: datetime, end: datetime
) -> list[str]:
    """The active bookings whose meeting starts in [start, end), soonest first."""
    query = (
        select(Booking, Consultation)
        .outerjoin(Consultation, Consultation.id == Booking.consultation_id)
        .where(
            Booking.status.in_(("requested", "confirmed")),
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    if viewer.coordinator_id is not None:
        query = query.where(Booking.coordinator_id == viewer.coordinator_id)
    return [booking_line(desk, b, c, viewer) for b, c in session.execute(query).all()]


def day_window(now: datetime, days: int) -> tuple[datetime, datetime]:
    """From the start of today (Japan time) to the end of the `days`-th day."""
    today = jst_date(now)
    return jst_midnight(today), jst_midnight(today + timedelta(days=days))


def upcoming(*, session: Session, desk: DeskConfig, viewer: Viewer, now: datetime, days: int) -> list[str]:
    """The appointments from now on, for `days` days."""
    _, end = day_window(now, days)
    return appointments(session=session, desk=desk, viewer=viewer, start=now, end=end)


def pending(*, session: Session, desk: DeskConfig, viewer: Viewer) -> list[str]:
    """The requests no coordinator has acted on yet (submitted), oldest first."""
    query = select(Consultation).where(Consultation.status == "submitted").order_by(Consultation.submitted_at)
    lines: list[str] = []
    for consultation in session.scalars(query):
        booking = session.scalars(
            select(Booking)
            .where(Booking.consultation_id == consultation.id, Booking.status.in_(ACTIVE_STATUSES))
            .order_by(Booking.id.desc())
            .limit(1)
        ).first()
        if viewer.coordinator_id is not None and (
            booking is None or booking.coordinator_id != viewer.coordinator_id
        ):
            continue
        when = booking_when(booking) if booking is not None else "日時の指定なし"
        received = jst_date(consultation.submitted_at)
        line = f"{consultation.reference} {_company(consultation)} 希望：{when}（受付 {received:%m/%d}）"
        if viewer.whole_desk and booking is not None:
            line += f" 担当：{_coordinator_name(desk, booking.coordinator_id)}"
        lines.append(line)
    return lines


def find(*, session: Session, desk: DeskConfig, words: str) -> list[str]:
    """The desk's consultations whose company name contains the words, newest first."""
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        select(Consultation)
        .where(func.lower(Consultation.company_name).like(pattern.lower(), escape="\\"))
        .order_by(Consultation.submitted_at.desc())
        .limit(LIST_MAX + 1)
    )
    lines = []
    for consultation in session.scalars(query):
        status = CONSULTATION_STATUS_LABELS.get(consultation.status, consultation.status)
        received = jst_date(consultation.submitted_at)
        lines.append(
            f"{consultation.reference} {_company(consultation)}（{status}、受付 {received:%Y/%m/%d}）"
        )
    return lines
