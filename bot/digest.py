"""The coordinators' morning digest: on the desk's working days, a direct message to each coordinator in
Slack with today's appointments, the requests waiting for them, and the owners to call because LINE could
not reach them. Once per coordinator per day: a row with a unique (job, key) is written with the outbox row.

The notice carries ids and codes only; the coordinators' channel renders it from what is stored when it
is delivered (no more than the card shows: the company, the reference, the time and the method).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.lifecycle import BookingStatus
from bot.sending import Notice, Outbound, to_coordinator
from config import DeskConfig
from scheduling.holidays import is_business_day
from storage import desk_posts
from storage.bookings import Booking
from storage.channels import Channel
from storage.clock import JST, Clock
from storage.database import Database
from storage.models import Consultation, Contact, OutboxMessage
from storage.outbox import FAILED, QUOTA_REFUSED, REJECTED, SKIPPED

log = logging.getLogger(__name__)

KIND = "digest"
B = BookingStatus
# Why an owner is to be called, most telling first (one reason per consultation)
QUOTA, UNFOLLOWED, NOT_DELIVERED = "quota", "unfollowed", "not_delivered"
REASONS = (QUOTA, UNFOLLOWED, NOT_DELIVERED)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=JST)
    return start, start + timedelta(days=1)


def appointments(session: Session, coordinator_id: str, day: date) -> list[int]:
    """The coordinator's confirmed bookings of the Japan-time day, by start."""
    start, end = day_bounds(day)
    query = (
        select(Booking.id)
        .where(
            Booking.coordinator_id == coordinator_id,
            Booking.status == B.CONFIRMED,
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return list(session.scalars(query))


def waiting(session: Session, coordinator_id: str) -> list[int]:
    """The requests assigned to the coordinator that wait for an answer (requested, or held for a
    submitted consultation), oldest first."""
    query = (
        select(Booking.id)
        .where(
            Booking.coordinator_id == coordinator_id,
            or_(
                Booking.status == B.REQUESTED,
                and_(Booking.status == B.HELD, Booking.consultation_id.is_not(None)),
            ),
        )
        .order_by(Booking.created_at, Booking.id)
    )
    return list(session.scalars(query))


def to_call(session: Session, coordinator_id: str, now: datetime, days: int) -> list[tuple[int, str]]:
    """(consultation id, reason) of the coordinator's owners LINE could not reach: messages of the last
    `days` days refused for the monthly quota, not pushed because the owner blocked the account, or parked
    after failing; and owners who blocked the account with a booking still ahead."""
    mine = select(Booking.consultation_id).where(
        Booking.coordinator_id == coordinator_id, Booking.consultation_id.is_not(None)
    )
    undelivered = session.execute(
        select(OutboxMessage.consultation_id, OutboxMessage.status, OutboxMessage.last_error)
        .where(
            OutboxMessage.channel == Channel.LINE.value,
            OutboxMessage.status.in_((FAILED, REJECTED, SKIPPED)),
            OutboxMessage.created_at >= now - timedelta(days=days),
            OutboxMessage.consultation_id.in_(mine),
        )
        .order_by(OutboxMessage.id)
    ).all()
    reasons: dict[int, str] = {}

    def note(consultation_id: int, reason: str) -> None:
        known = reasons.get(consultation_id)
        if known is None or REASONS.index(reason) < REASONS.index(known):
            reasons[consultation_id] = reason

    for consultation_id, status, error in undelivered:
        if consultation_id is None:
            continue
        if QUOTA_REFUSED in (error or ""):
            note(consultation_id, QUOTA)
        elif status == SKIPPED:
            note(consultation_id, UNFOLLOWED)
        else:
            note(consultation_id, NOT_DELIVERED)
    blocked = session.scalars(
        select(Booking.consultation_id)
        .join(Consultation, Consultation.id == Booking.consultation_id)
        .join(Contact, Contact.id == Consultation.contact_id)
        .where(
            Booking.coordinator_id == coordinator_id,
            Booking.status.in_((B.REQUESTED, B.CONFIRMED)),
            Booking.ends_at > now,
            Contact.channel == Channel.LINE.value,
            Contact.reachable.is_(False),
        )
    )
    for consultation_id in blocked:
        if consultation_id is not None:
            note(consultation_id, UNFOLLOWED)
    return sorted(reasons.items())


def digest_detail(session: Session, coordinator_id: str, now: datetime, days: int) -> dict[str, Any]:
    """What one coordinator's digest lists, as ids and codes."""
    day = now.astimezone(JST).date()
    return {
        "day": day.isoformat(),
        "appointments": appointments(session, coordinator_id, day),
        "waiting": waiting(session, coordinator_id),
        "to_call": [[cid, reason] for cid, reason in to_call(session, coordinator_id, now, days)],
    }


@dataclass(frozen=True)
class DigestSender:
    """What the digest job needs: where notices go, the desk, and the wall clock that records."""

    db: Database
    outbound: Outbound
    desk: DeskConfig
    recorded: Clock  # what is recorded carries the real time, never `jobs run --at`'s

    def run(self, now: datetime) -> str:
        """Queues today's digest for every coordinator with a Slack user id who has not had it yet."""
        day = now.astimezone(JST).date()
        if not is_business_day(day, closures=self.desk.scheduling.closures):
            return f"{day.isoformat()} is not a working day: no digest"
        if self.outbound.coordinators is None:
            return "no coordinators' channel is configured: no digest"
        queued = already = 0
        for coordinator in self.desk.scheduling.coordinators:
            if not coordinator.slack_user_id:
                continue
            with self.db.session() as session:
                key = f"{day.isoformat()}:{coordinator.id}"
                post = desk_posts.claim_post(
                    session=session, job=desk_posts.DIGEST, key=key, now=self.recorded.now()
                )
                if post is None:
                    already += 1
                    continue
                detail = digest_detail(session, coordinator.id, now, self.desk.desk_jobs.undelivered_days)
                rows = self.outbound.to_coordinators(
                    session=session, notice=Notice(KIND, detail=detail, to=to_coordinator(coordinator.id))
                )
                post.outbox_message_id = rows[0].id if rows else None
                queued += 1
        log.info("digest: %d queued, %d already sent today", queued, already)
        return f"{queued} digest(s) queued, {already} already sent for {day.isoformat()}"
