"""Follow-ups, sent by the `follow-ups` job, each exactly once:

- the nudge: an intake silent for `follow_ups.nudge_after_hours` gets one gentle message (続きから or 最初から,
  the conversation put at the question that asks it), and the time it held is given back through the life
  cycle. One nudge per conversation (a row per contact and conversation token), never more.
- the survey: a booking that took place (confirmed and ended, or done) is asked for a score of 1 to 5 the
  desk's next working day after it, at `follow_ups.survey_at`. One per booking.

Each is settled in its own transaction, with the row it concerns locked (the conversation, or the booking,
whose life-cycle changes wait), its follow-up row written with the outbox row. In the quiet hours nothing is
sent: what fell due goes when they end. Catch-up is by what is due in the database; what is no longer
meaningful (an intake silent for over `nudge_within_days`, a survey more than `survey_within_days` late)
is not sent late.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import follow_up_texts as t
from bot.commands import CONFIRM_RESUME, CONFIRMATIONS
from bot.flow import ConversationState
from bot.intake import FLOW as INTAKE
from bot.intake import Step
from bot.lifecycle import SYSTEM, BookingStatus, transition_booking
from bot.messages import Button, OutMessage
from bot.postback import encode
from bot.reminder_texts import when_ja
from bot.sending import NoSender, Outbound
from bot.survey_flow import score_buttons
from config.follow_ups import FollowUpsConfig
from config.reminders import RemindersConfig
from config.scheduling import Closures
from scheduling.holidays import next_business_day
from storage import follow_ups as store
from storage.bookings import Booking, get_contact_hold
from storage.clock import JST, Clock
from storage.database import Database
from storage.models import Consultation, Contact
from storage.reminders import lock_bookings

log = logging.getLogger(__name__)

TOO_LATE = "too_late"  # a survey whose time passed more than `survey_within_days` ago (downtime): not sent
NOT_NUDGED_AT = (Step.CONSENT,)  # nothing asked yet but the notice: silence there needs no nudge


def survey_due(booking: Booking, config: FollowUpsConfig, closures: Closures) -> datetime:
    """When the booking's survey is due: the desk's next working day after the meeting, at `survey_at`."""
    day = next_business_day(booking.ends_at.astimezone(JST).date(), closures=closures)
    return datetime.combine(day, config.survey_time, tzinfo=JST)


@dataclass
class FollowUpRun:
    """What one run did: nudges and surveys by outcome, and what it deferred or failed."""

    nudges: Counter[str] = field(default_factory=Counter)
    surveys: Counter[str] = field(default_factory=Counter)
    quiet: bool = False
    failed: int = 0

    def summary(self) -> str:
        if self.quiet:
            return "quiet hours: nothing sent, what is due waits until they end"

        def counts(outcomes: Counter[str]) -> str:
            return ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "none due"

        text = f"nudges: {counts(self.nudges)}; surveys: {counts(self.surveys)}"
        return text + (f"; {self.failed} failed (retried at the next run)" if self.failed else "")


@dataclass(frozen=True)
class FollowUpSender:
    """What the follow-ups job needs: where messages go, the desk's times and calendar, the wall clock."""

    db: Database
    outbound: Outbound
    config: FollowUpsConfig
    quiet_hours: RemindersConfig
    closures: Closures
    desk_name: str
    recorded: Clock  # the wall clock: what is recorded is never back-dated by `jobs run --at`

    def run(self, now: datetime) -> FollowUpRun:
        """Sends every nudge and survey due at `now` (outside the quiet hours), one per transaction."""
        run = FollowUpRun()
        if self.quiet_hours.is_quiet(now.astimezone(JST).time()):
            run.quiet = True
            return run
        idle_since = now - timedelta(hours=self.config.nudge_after_hours)
        with self.db.session() as session:
            contacts = store.unnudged_intakes(
                session=session,
                flow=INTAKE,
                idle_since=idle_since,
                not_before=now - timedelta(days=self.config.nudge_within_days),
                skip_steps=NOT_NUDGED_AT,
            )
        for contact_id in contacts:
            self._settle(run, run.nudges, self.nudge, contact_id, idle_since)
        with self.db.session() as session:
            bookings = [
                b.id
                for b in store.bookings_without_survey(
                    session=session,
                    ended_after=now - timedelta(days=self.config.survey_within_days + 14),
                    ended_by=now,
                )
                if survey_due(b, self.config, self.closures) <= now
            ]
        for booking_id in bookings:
            self._settle(run, run.surveys, self.survey, booking_id, now)
        return run

    def _settle(
        self,
        run: FollowUpRun,
        outcomes: Counter[str],
        step: Callable[[Session, int, datetime], str | None],
        item: int,
        at: datetime,
    ) -> None:
        try:
            with self.db.session() as session:
                outcome = step(session, item, at)
        except Exception:  # one failure never stops the batch: it is due again at the next run
            log.exception("follow-up %s of %s failed", step.__name__, item)
            run.failed += 1
            return
        if outcome is not None:
            outcomes[outcome] += 1

    # The nudge
    def nudge(self, session: Session, contact_id: int, idle_since: datetime) -> str | None:
        """Nudges one silent intake, with its conversation locked, and gives back its hold; the outcome
        (None: it moved on meanwhile, or was nudged already)."""
        row = store.lock_conversation(session=session, contact_id=contact_id)
        if row is None or row.flow != INTAKE or row.updated_at > idle_since or row.step in NOT_NUDGED_AT:
            return None
        if store.was_nudged(session=session, contact_id=contact_id, token=row.token):
            return None
        recorded_at = self.recorded.now()
        released = self._release_hold(session, contact_id, recorded_at)
        contact = session.get(Contact, contact_id)
        status, outbox_id = store.UNREACHABLE, None
        if contact is not None and contact.reachable:
            state = ConversationState.load(row)
            lines = [t.NUDGE.format(desk=self.desk_name)]
            if released is not None:
                lines.append(t.NUDGE_HOLD_RELEASED)
            lines.append(t.NUDGE_CLOSING)
            yes, no = CONFIRMATIONS[CONFIRM_RESUME]
            buttons = tuple(
                Button(label, encode(state.token, CONFIRM_RESUME, value), display=label)
                for label, value in ((yes, "yes"), (no, "no"))
            )
            try:
                rows = self.outbound.to_contact(
                    session=session,
                    contact=contact,
                    messages=[OutMessage("\n".join(lines), buttons)],
                    reason="follow_up:nudge",
                )
            except NoSender:
                status = store.NO_CHANNEL
            else:
                session.flush()
                status, outbox_id = store.SENT, rows[0].id if rows else None
                state.interrupt(CONFIRM_RESUME)  # its buttons answer the question the conversation is at
                session.add(state.save(row, contact_id))  # its silence (updated_at) is kept as it was
        store.record_nudge(
            session=session,
            contact_id=contact_id,
            token=row.token,
            status=status,
            now=recorded_at,
            released_booking_id=released,
            outbox_message_id=outbox_id,
        )
        return status

    def _release_hold(self, session: Session, contact_id: int, now: datetime) -> int | None:
        """Gives back the time the silent intake still holds (held → expired); its id, or None."""
        held = get_contact_hold(session=session, contact_id=contact_id)
        if held is None:
            return None
        result = transition_booking(
            session=session,
            booking_id=held.id,
            to=BookingStatus.EXPIRED,
            expected_from=BookingStatus.HELD,
            actor=SYSTEM,
            reason="intake abandoned",
            now=now,
        )
        return held.id if result else None

    # The survey
    def survey(self, session: Session, booking_id: int, now: datetime) -> str | None:
        """Sends one booking's survey, with the booking locked; the outcome (None: not due after all, or
        surveyed already)."""
        booking = lock_bookings(session=session, booking_ids=[booking_id]).get(booking_id)
        if booking is None or booking.status not in store.TOOK_PLACE or booking.ends_at > now:
            return None
        if store.survey_of_booking(session=session, booking_id=booking_id) is not None:
            return None
        due = survey_due(booking, self.config, self.closures)
        if due > now:
            return None
        consultation = session.get(Consultation, booking.consultation_id) if booking.consultation_id else None
        contact_id = consultation.contact_id if consultation is not None else booking.contact_id
        survey = store.SatisfactionSurvey(
            booking_id=booking.id,
            consultation_id=booking.consultation_id,
            contact_id=contact_id,
            status=TOO_LATE,
            due_at=due,
            created_at=self.recorded.now(),
        )
        session.add(survey)
        session.flush()
        if due < now - timedelta(days=self.config.survey_within_days):
            return TOO_LATE
        contact = session.get(Contact, contact_id) if contact_id is not None else None
        if contact is None or not contact.reachable:
            store.settle_survey(session=session, survey_id=survey.id, status=store.UNREACHABLE)
            return store.UNREACHABLE
        text = t.SURVEY.format(desk=self.desk_name, when=when_ja(booking.starts_at, booking.ends_at))
        try:
            rows = self.outbound.to_contact(
                session=session,
                contact=contact,
                messages=[OutMessage(text, score_buttons(survey.id))],
                reason="follow_up:survey",
                consultation_id=booking.consultation_id,
            )
        except NoSender:
            store.settle_survey(session=session, survey_id=survey.id, status=store.NO_CHANNEL)
            return store.NO_CHANNEL
        session.flush()
        outbox_id = rows[0].id if rows else None
        store.settle_survey(
            session=session, survey_id=survey.id, status=store.SENT, outbox_message_id=outbox_id
        )
        return store.SENT
