"""The intake's link to scheduling: proposing a coordinator's free times and holding the one chosen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.lifecycle import BookingStatus, hold_slot, request_booking, transition_booking
from config import DeskConfig
from scheduling import CalendarService, Proposal, Slot, SlotRequest, propose_slots
from scheduling.availability import jst_date, jst_midnight
from scheduling.holds import keep_contact_hold
from scheduling.holidays import add_business_days
from scheduling.propose import calendar_still_free, first_working_moment, methods_taken
from scheduling.slots import slot_fits
from storage.bookings import get_contact_hold
from storage.clock import JST, Clock


@dataclass
class SlotBook:
    """Slots and holds for one contact, inside the current transaction."""

    session: Session
    desk: DeskConfig
    calendars: CalendarService
    clock: Clock
    contact_id: int
    actor: str = "owner"  # who the history names for the owner's changes

    def wants_slot(self, answers: dict[str, Any]) -> bool:
        """Whether the chosen method is a meeting that needs a time (not phone or e-mail)."""
        return answers.get("method") in self.desk.scheduling.rules.slot_methods

    def request(self, answers: dict[str, Any], around: datetime | None = None) -> SlotRequest:
        """What the owner has answered so far, as a request for slots."""
        municipality = self.desk.municipality_by_code.get(answers.get("municipality") or "")
        return SlotRequest(
            method=answers["method"],
            category=answers.get("category") or "other",
            region=municipality.region if municipality else "",
            municipality=municipality.code if municipality else "",
            now=self.clock.now(),
            around=around,
        )

    def propose(self, answers: dict[str, Any], around: datetime | None = None) -> Proposal:
        """The best free slots for what the owner has answered so far."""
        return propose_slots(
            session=self.session,
            config=self.desk.scheduling,
            calendars=self.calendars,
            request=self.request(answers, around),
        )

    def picker_opens(self, answers: dict[str, Any]) -> datetime | None:
        """Where the date picker opens: the first working moment of a coordinator who takes the request."""
        return first_working_moment(config=self.desk.scheduling, request=self.request(answers))

    def other_methods(self, answers: dict[str, Any]) -> list[str]:
        """The other methods some coordinator takes for the answers' category and place, online first."""
        others = [m.id for m in self.desk.methods if m.id != answers.get("method")]
        others.sort(key=lambda method: method != "online")
        return methods_taken(config=self.desk.scheduling, request=self.request(answers), methods=others)

    def fits(self, slot: Slot, answers: dict[str, Any]) -> bool:
        """Whether a slot chosen earlier still suits the answers (after the place or the category changed)."""
        return slot_fits(self.desk.scheduling, slot, self.request(answers))

    def hold(self, slot: Slot) -> bool:
        """Holds the slot for this contact (the earlier hold released); False when someone else has it, or
        when it no longer meets the rules or the coordinator's calendar (the owner may have waited a while)."""
        config = self.desk.scheduling
        if not calendar_still_free(config=config, calendars=self.calendars, slot=slot, now=self.clock.now()):
            return False
        held = hold_slot(
            session=self.session,
            slot=slot,
            clock=self.clock,
            contact_id=self.contact_id,
            config=config,
            actor=self.actor,
        )
        return held is not None

    def release(self) -> None:
        """Gives back the contact's current hold, if any."""
        held = get_contact_hold(session=self.session, contact_id=self.contact_id)
        if held is not None:
            transition_booking(
                session=self.session,
                booking_id=held.id,
                to=BookingStatus.CANCELLED,
                expected_from=BookingStatus.HELD,
                actor=self.actor,
                reason="released by the owner",
                now=self.clock.now(),
                calendars=self.calendars,
            )

    def keep(self) -> None:
        """Keeps the contact's hold a while longer: the owner has just written (an abandoned conversation
        gives the time back `hold_expiry_minutes` after the owner's last message)."""
        keep_contact_hold(
            session=self.session,
            contact_id=self.contact_id,
            minutes=self.desk.scheduling.rules.hold_expiry_minutes,
            clock=self.clock,
        )

    def ensure_hold(self, slot: Slot) -> bool:
        """Whether the contact still holds the slot, holding it again if the hold lapsed and it is free."""
        held = get_contact_hold(session=self.session, contact_id=self.contact_id)
        if (
            held is not None
            and held.hold_expires_at is not None
            and held.hold_expires_at > self.clock.now()
            and held.starts_at == slot.starts_at
            and held.coordinator_id == slot.coordinator_id
        ):
            return True
        return self.hold(slot)

    def attach(self, consultation_id: int) -> None:
        """Gives the contact's hold to the consultation just submitted (held → requested), held on while a
        coordinator decides."""
        now = self.clock.now()
        config = self.desk.scheduling
        last_day = add_business_days(
            jst_date(now), config.rules.submitted_hold_business_days, closures=config.closures
        )
        held = get_contact_hold(session=self.session, contact_id=self.contact_id)
        if held is not None:
            request_booking(
                session=self.session,
                booking_id=held.id,
                consultation_id=consultation_id,
                actor=self.actor,
                now=now,
                hold_until=jst_midnight(last_day + timedelta(days=1)),
            )


def picker_value(moment: datetime) -> str:
    """A datetime as LINE's picker wants it: local time, `YYYY-MM-DDTHH:mm`."""
    return moment.astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def parse_picker_value(value: str) -> datetime | None:
    """The picker's local `YYYY-MM-DDTHH:mm` (or a date alone) as an aware datetime, or None."""
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=JST)
        except ValueError:
            continue
    return None
