"""Reminders of confirmed bookings: owed when a booking is confirmed (re-timed when it moves, set aside
when it leaves), and sent by the `reminders` job, each exactly once.

The job works up to a hundred bookings per transaction: it locks their rows (the life cycle's changes to
them wait, and a change that came first is seen), re-reads what each is still owed, writes the outbox rows
and marks the reminders done together; a transaction that fails is settled again one booking at a time. A second run, a second scheduler or a crash mid-batch finds nothing
pending that was sent. After downtime only what is still meaningful goes: of several reminders due
together only the latest, none once the meeting has begun.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import reminder_texts as t
from bot.lifecycle import (
    BookingChange,
    BookingStatus,
    register_booking_effect,
    register_move_effect,
    unregister_booking_effect,
    unregister_move_effect,
)
from bot.messages import OutMessage
from bot.sending import Outbound, ToContact
from config.reminders import RemindersConfig
from storage import reminders as store
from storage.bookings import Booking
from storage.clock import JST, Clock
from storage.database import Database
from storage.models import Consultation, Contact

log = logging.getLogger(__name__)

DAY_BEFORE = "day_before"
SOON = "soon"  # `before_minutes` before the meeting
KINDS = (DAY_BEFORE, SOON)
B = BookingStatus


def reminder_times(booking: Booking, config: RemindersConfig) -> dict[str, datetime]:
    """When each reminder of the booking is due: the day before at the configured time, and the
    configured time before the meeting."""
    local_day = booking.starts_at.astimezone(JST).date() - timedelta(days=1)
    day_before = datetime.combine(local_day, config.day_before_time, tzinfo=JST)
    return {DAY_BEFORE: day_before, SOON: booking.starts_at - timedelta(minutes=config.before_minutes)}


_config: RemindersConfig | None = None


def _arm(change: BookingChange) -> None:
    if _config is None:
        return
    booking = change.booking
    store.arm_reminders(
        session=change.session,
        booking_id=booking.id,
        due=reminder_times(booking, _config),
        starts_at=booking.starts_at,
        now=change.now,
    )


def _set_aside(change: BookingChange) -> None:
    store.cancel_pending_reminders(session=change.session, booking_id=change.booking.id, now=change.now)


def _re_arm(session: Session, booking: Booking, now: datetime) -> None:
    if _config is not None and booking.status == B.CONFIRMED:
        store.arm_reminders(
            session=session,
            booking_id=booking.id,
            due=reminder_times(booking, _config),
            starts_at=booking.starts_at,
            now=now,
        )


def install_reminders(config: RemindersConfig) -> None:
    """Makes confirmations owe reminders on `config`'s times (once per process; a later call only
    changes the times)."""
    global _config
    first = _config is None
    _config = config
    if not first:
        return
    register_booking_effect(B.REQUESTED, B.CONFIRMED, _arm)
    for leaving in (B.CANCELLED, B.DONE, B.NO_SHOW):
        register_booking_effect(B.CONFIRMED, leaving, _set_aside)
    register_move_effect(_re_arm)


def uninstall_reminders() -> None:
    """Undoes install_reminders (tests that must see the life cycle without reminders)."""
    global _config
    if _config is None:
        return
    _config = None
    unregister_booking_effect(B.REQUESTED, B.CONFIRMED, _arm)
    for leaving in (B.CANCELLED, B.DONE, B.NO_SHOW):
        unregister_booking_effect(B.CONFIRMED, leaving, _set_aside)
    unregister_move_effect(_re_arm)


@dataclass
class ReminderRun:
    """What one run of the job did, by outcome (`sent`, `skipped`, `dropped`, …), and what it deferred."""

    outcomes: Counter[str] = field(default_factory=Counter)
    quiet: bool = False
    failed: int = 0

    @property
    def sent(self) -> int:
        return self.outcomes[store.SENT]

    def summary(self) -> str:
        if self.quiet:
            return "quiet hours: nothing sent, what is due waits until they end"
        parts = [f"{count} {outcome}" for outcome, count in sorted(self.outcomes.items())]
        if self.failed:
            parts.append(f"{self.failed} failed (retried at the next run)")
        return ", ".join(parts) or "no reminder due"


@dataclass(frozen=True)
class ReminderSender:
    """What the reminders job needs: where messages go, the times and texts, the wall clock."""

    db: Database
    outbound: Outbound
    config: RemindersConfig
    desk_name: str
    recorded: Clock  # the wall clock: what is recorded as done is never back-dated by `jobs run --at`

    def run(self, now: datetime, *, batch: int = 500, together: int = 100) -> ReminderRun:
        """Sends every reminder due at `now` (outside the quiet hours). Up to `together` bookings share a
        transaction, locked together (in id order) and settled one after the other; should anything in
        it fail, it is rolled back and its bookings are settled one per transaction, so one booking's
        failure never stops the others."""
        run = ReminderRun()
        if self.config.is_quiet(now.astimezone(JST).time()):
            run.quiet = True
            return run
        done: set[int] = set()
        while True:
            with self.db.session() as session:
                ids = [
                    i
                    for i in store.bookings_with_due_reminders(session=session, now=now, limit=batch)
                    if i not in done
                ]
            if not ids:
                return run
            done.update(ids)
            for start in range(0, len(ids), together):
                part = ids[start : start + together]
                try:
                    with self.db.session() as session:
                        outcomes = self.remind_many(session, part, now)
                except Exception:  # noqa: BLE001 - settled again one by one, where a failure stays its own
                    if len(part) == 1:
                        log.exception("reminder of booking %s failed", part[0])
                        run.failed += 1
                        continue
                    log.warning("reminders of %d bookings failed together: settled one by one", len(part))
                    outcomes = self._one_by_one(part, now, run)
                run.outcomes.update(outcomes)

    def _one_by_one(self, booking_ids: list[int], now: datetime, run: ReminderRun) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        for booking_id in booking_ids:
            try:
                with self.db.session() as session:
                    outcomes.update(self.remind(session, booking_id, now))
            except Exception:  # one booking's failure never stops the batch: it stays pending
                log.exception("reminder of booking %s failed", booking_id)
                run.failed += 1
        return outcomes

    def remind(self, session: Session, booking_id: int, now: datetime) -> Counter[str]:
        """Settles what one booking is owed at `now`, with the booking locked; the outcomes."""
        return self.remind_many(session, [booking_id], now)

    def remind_many(self, session: Session, booking_ids: list[int], now: datetime) -> Counter[str]:
        """Settles what the bookings are owed at `now`, all locked first (in id order); the outcomes.
        Their reminders, consultations and owners are read in one query each."""
        bookings = store.lock_bookings(session=session, booking_ids=booking_ids)
        pending = store.pending_reminders_of(session=session, booking_ids=booking_ids)
        owed = [b for b in bookings.values() if pending.get(b.id)]
        # The consultations and owners into the session's identity map, where _contact finds them.
        consultation_ids = [b.consultation_id for b in owed if b.consultation_id is not None]
        consultations = (
            session.scalars(select(Consultation).where(Consultation.id.in_(consultation_ids))).all()
            if consultation_ids
            else []
        )
        contact_ids = {c.contact_id for c in consultations} | {b.contact_id for b in owed if b.contact_id}
        # (held here: the identity map keeps only what is referenced)
        contacts = (
            session.scalars(select(Contact).where(Contact.id.in_(contact_ids))).all() if contact_ids else []
        )
        outcomes: Counter[str] = Counter()
        sends: list[tuple[store.Reminder, ToContact]] = []
        recorded_at = self.recorded.now()
        for booking_id in booking_ids:
            if pending.get(booking_id):
                send = self._settle(session, bookings.get(booking_id), pending[booking_id], now, outcomes)
                if send is not None:
                    sends.append(send)
        # What is sent, queued together: a few statements for the whole transaction.
        queued = self.outbound.to_contacts(session=session, items=[item for _, item in sends])
        for (reminder, _), rows in zip(sends, queued, strict=True):
            status = store.NO_CHANNEL if rows is None else store.SENT
            reminder.outbox_message_id = rows[0] if rows else None
            reminder.status, reminder.done_at = status, recorded_at
            outcomes[status] += 1
        del consultations, contacts
        return outcomes

    def _settle(
        self,
        session: Session,
        booking: Booking | None,
        pending: list[store.Reminder],
        now: datetime,
        outcomes: Counter[str],
    ) -> tuple[store.Reminder, ToContact] | None:
        """Settles the pending reminders of one locked booking (None: it is gone), counting the outcomes;
        the one to send, with its message, is returned for the caller to queue and mark sent."""
        recorded_at = self.recorded.now()

        def settle(reminder: store.Reminder, status: str) -> None:
            reminder.status, reminder.done_at = status, recorded_at
            outcomes[status] += 1

        if booking is None or booking.status != B.CONFIRMED:
            for reminder in pending:
                settle(reminder, store.CANCELLED)
            return None
        times = reminder_times(booking, self.config)
        for reminder in pending:  # moved by a path that did not re-time them: re-time now
            if reminder.for_starts_at != booking.starts_at:
                reminder.due_at, reminder.for_starts_at = times[reminder.kind], booking.starts_at
        due = sorted((r for r in pending if r.due_at <= now), key=lambda r: r.due_at)
        if not due:
            return None
        if booking.starts_at <= now:
            for reminder in due:
                settle(reminder, store.DROPPED)
            return None
        *earlier, latest = due
        for reminder in earlier:
            settle(reminder, store.SKIPPED)
        contact = self._contact(session, booking)
        if contact is None or not contact.reachable:
            settle(latest, store.UNREACHABLE)
            return None
        message = OutMessage(self.text(session, booking, latest.kind, now))
        item = ToContact(
            contact=contact,
            messages=[message],
            reason=f"reminder:{latest.kind}",
            consultation_id=booking.consultation_id,
        )
        return latest, item

    def _contact(self, session: Session, booking: Booking) -> Contact | None:
        contact_id = booking.contact_id
        if booking.consultation_id is not None:
            consultation = session.get(Consultation, booking.consultation_id)
            if consultation is not None:
                contact_id = consultation.contact_id
        return session.get(Contact, contact_id) if contact_id is not None else None

    def text(self, session: Session, booking: Booking, kind: str, now: datetime) -> str:
        """The reminder as the owner reads it, worded for `now` (明日 or 本日)."""
        lines = [t.WHEN.format(when=t.when_ja(booking.starts_at, booking.ends_at)), *self._where(booking)]
        closing = {
            "online": t.CLOSING_ONLINE if self._meeting_url(booking) else t.CLOSING_OTHER,
            "visit_desk": t.CLOSING_VISIT,
        }.get(booking.method, t.CLOSING_OTHER)
        if kind == DAY_BEFORE:
            same_day = booking.starts_at.astimezone(JST).date() == now.astimezone(JST).date()
            return t.DAY_BEFORE.format(
                desk=self.desk_name,
                day=t.TODAY if same_day else t.TOMORROW,
                lines="\n".join(lines),
                closing=t.CLOSING_DAY_BEFORE,
            )
        return t.SOON.format(desk=self.desk_name, lines="\n".join(lines), closing=closing)

    def _meeting_url(self, booking: Booking) -> str:
        return booking.meeting_url or self.config.online_meeting_url

    def _where(self, booking: Booking) -> list[str]:
        if booking.method == "online":
            url = self._meeting_url(booking)
            return [t.ONLINE.format(url=url) if url else t.ONLINE_NO_URL]
        if booking.method == "visit_desk":
            lines = [t.DESK.format(desk=self.desk_name)]
            if self.config.desk_address:
                lines.append(t.DESK_ADDRESS.format(address=self.config.desk_address))
            if self.config.desk_map_url:
                lines.append(t.DESK_MAP.format(url=self.config.desk_map_url))
            return lines
        if booking.method == "onsite":
            return [t.ONSITE.format(place=booking.place) if booking.place else t.ONSITE_NO_PLACE]
        if booking.method == "phone":
            return [t.PHONE]
        return [t.EMAIL] if booking.method == "email" else []
