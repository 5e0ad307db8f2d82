"""Reminders of confirmed bookings: owed when a booking is confirmed (re-timed when it moves, set aside
when it leaves), and sent by the `reminders` job, each exactly once.

The job works up to 250 bookings per transaction: it locks their rows (the life cycle's changes to
them wait, and a change that came first is seen), re-reads what each is still owed, writes the outbox rows
and marks the reminders done together; a transaction that fails is settled again one booking at a time. A second run, a second scheduler or a crash mid-batch finds nothing
pending that was sent. After downtime only what is still meaningful goes: of several reminders due
together only the latest, none once the meeting has begun.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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

log = logging.getLogger(__name__)

DAY_BEFORE = "day_before"
SOON = "soon"  # `before_minutes` before the meeting
KINDS = (DAY_BEFORE, SOON)
PARALLEL_TRANSACTIONS = 2  # on PostgreSQL: how many transactions of the job run at once
B = BookingStatus


Meeting = Booking | store.DueBooking  # what a reminder is worded from


def reminder_times(booking: Meeting, config: RemindersConfig) -> dict[str, datetime]:
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

    def run(
        self, now: datetime, *, batch: int = 2000, together: int = 250, connections: int | None = None
    ) -> ReminderRun:
        """Sends every reminder due at `now` (outside the quiet hours). Up to `together` bookings share a
        transaction, locked together (in id order) and settled one after the other; should anything in
        it fail, it is rolled back and its bookings are settled one per transaction, so one booking's
        failure never stops the others. On PostgreSQL two such transactions run at once, on their own
        connections (their bookings are disjoint, so they never wait for each other): while the server
        writes one, this process prepares the next. SQLite has one writer: one at a time there."""
        run = ReminderRun()
        if self.config.is_quiet(now.astimezone(JST).time()):
            run.quiet = True
            return run
        if connections is None:
            connections = 1 if self.db.is_sqlite else PARALLEL_TRANSACTIONS
        with ThreadPoolExecutor(connections, thread_name_prefix="reminders") as pool:
            for outcomes, failed in self._settle_parts(
                pool, connections, self._due(now, batch, together), now
            ):
                run.outcomes.update(outcomes)
                run.failed += failed
        return run

    def _due(self, now: datetime, batch: int, together: int) -> Iterator[list[int]]:
        """The bookings owed reminders at `now`, `together` at a time, read `batch` at a time in id order
        (the next page is read while the last parts of this one are settled)."""
        after = 0
        while True:
            with self.db.session() as session:
                ids = store.bookings_with_due_reminders(session=session, now=now, limit=batch, after=after)
            if not ids:
                return
            after = ids[-1]
            for start in range(0, len(ids), together):
                yield ids[start : start + together]

    def _settle_parts(
        self, pool: ThreadPoolExecutor, connections: int, parts: Iterator[list[int]], now: datetime
    ) -> Iterator[tuple[Counter[str], int]]:
        """Settles the parts, at most `connections` at once (in this thread when one): a part is started
        only when one before it is done, so an exception stops the run with at most that many begun."""
        if connections == 1:
            for part in parts:
                yield self._settle_part(part, now)
            return
        running: deque[Future[tuple[Counter[str], int]]] = deque()
        for part in parts:
            if len(running) == connections:
                yield running.popleft().result()
            running.append(pool.submit(self._settle_part, part, now))
        while running:
            yield running.popleft().result()

    def _settle_part(self, part: list[int], now: datetime) -> tuple[Counter[str], int]:
        """Settles bookings in one transaction, else one by one; the outcomes, and how many failed."""
        try:
            with self.db.session() as session:
                return self.remind_many(session, part, now), 0
        except Exception:  # noqa: BLE001 - settled again one by one, where a failure stays its own
            if len(part) == 1:
                log.exception("reminder of booking %s failed", part[0])
                return Counter(), 1
            log.warning("reminders of %d bookings failed together: settled one by one", len(part))
            return self._one_by_one(part, now)

    def _one_by_one(self, booking_ids: list[int], now: datetime) -> tuple[Counter[str], int]:
        outcomes: Counter[str] = Counter()
        failed = 0
        for booking_id in booking_ids:
            try:
                with self.db.session() as session:
                    outcomes.update(self.remind(session, booking_id, now))
            except Exception:  # one booking's failure never stops the batch: it stays pending
                log.exception("reminder of booking %s failed", booking_id)
                failed += 1
        return outcomes, failed

    def remind(self, session: Session, booking_id: int, now: datetime) -> Counter[str]:
        """Settles what one booking is owed at `now`, with the booking locked; the outcomes."""
        return self.remind_many(session, [booking_id], now)

    def remind_many(self, session: Session, booking_ids: list[int], now: datetime) -> Counter[str]:
        """Settles what the bookings are owed at `now`, all locked first (in id order); the outcomes.
        A few statements whatever their number: the bookings with their owners and what they are owed
        are read in one query each, what is sent is queued in one call, and the reminders written in one."""
        bookings, owed = store.lock_due_bookings(session=session, booking_ids=booking_ids)
        recorded_at = self.recorded.now()
        changes: list[store.ReminderChange] = []
        sends: list[tuple[store.ReminderChange, ToContact]] = []
        for booking_id in booking_ids:
            if owed.get(booking_id):
                send = self._settle(bookings.get(booking_id), owed[booking_id], now, recorded_at, changes)
                if send is not None:
                    sends.append(send)
        queued = self.outbound.to_contacts(session=session, items=[item for _, item in sends])
        for (change, _), rows in zip(sends, queued, strict=True):
            status = store.NO_CHANNEL if rows is None else store.SENT
            changes.append(change._replace(status=status, outbox_message_id=rows[0] if rows else None))
        store.change_reminders(session=session, changes=changes)
        return Counter(c.status for c in changes if c.status != store.PENDING)

    def _settle(
        self,
        booking: store.DueBooking | None,
        pending: list[store.OwedReminder],
        now: datetime,
        recorded_at: datetime,
        changes: list[store.ReminderChange],
    ) -> tuple[store.ReminderChange, ToContact] | None:
        """Settles the pending reminders of one locked booking (None: it is gone) into `changes`; the
        one to send, with its message, is returned for the caller to queue and mark sent."""
        timed = {r.id: (r.due_at, r.for_starts_at) for r in pending}

        def settle(reminder: store.OwedReminder, status: str) -> store.ReminderChange:
            due_at, for_starts_at = timed[reminder.id]
            return store.ReminderChange(reminder.id, status, recorded_at, due_at, for_starts_at)

        if booking is None or booking.status != B.CONFIRMED:
            changes.extend(settle(r, store.CANCELLED) for r in pending)
            return None
        times = reminder_times(booking, self.config)
        retimed = [r for r in pending if r.for_starts_at != booking.starts_at]
        for reminder in retimed:  # moved by a path that did not re-time them: re-time now
            timed[reminder.id] = times[reminder.kind], booking.starts_at
        due = sorted((r for r in pending if timed[r.id][0] <= now), key=lambda r: timed[r.id][0])
        settled = {r.id for r in due}
        changes.extend(
            store.ReminderChange(r.id, store.PENDING, None, *timed[r.id])
            for r in retimed
            if r.id not in settled
        )
        if not due:
            return None
        if booking.starts_at <= now:
            changes.extend(settle(r, store.DROPPED) for r in due)
            return None
        *earlier, latest = due
        changes.extend(settle(r, store.SKIPPED) for r in earlier)
        if booking.owner_id is None or booking.owner_channel is None or not booking.owner_reachable:
            changes.append(settle(latest, store.UNREACHABLE))
            return None
        item = ToContact(
            contact_id=booking.owner_id,
            channel=booking.owner_channel,
            messages=[OutMessage(self.text(booking, latest.kind, now))],
            reason=f"reminder:{latest.kind}",
            consultation_id=booking.consultation_id,
        )
        return settle(latest, store.SENT), item

    def text(self, booking: Meeting, kind: str, now: datetime) -> str:
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

    def _meeting_url(self, booking: Meeting) -> str:
        return booking.meeting_url or self.config.online_meeting_url

    def _where(self, booking: Meeting) -> list[str]:
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
