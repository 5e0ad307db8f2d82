"""Scheduling: coordinators' calendars, the Japanese calendar, the slot finder, holds and bookings."""

from scheduling.calendars import CalendarService
from scheduling.holds import (
    booking_event,
    list_bookings_for_coordinator,
    move_booking,
    place_hold,
    sync_booking_to_calendar,
)
from scheduling.holidays import holiday_name, is_business_day, next_business_day
from scheduling.labels import label_day, label_slot, label_slot_range
from scheduling.propose import propose_slots
from scheduling.providers import CalendarEvent, ProviderError
from scheduling.slots import Proposal, Slot, SlotRequest, booking_window, find_slots, list_day_slots

__all__ = [
    "CalendarEvent",
    "CalendarService",
    "Proposal",
    "ProviderError",
    "Slot",
    "SlotRequest",
    "booking_event",
    "booking_window",
    "find_slots",
    "holiday_name",
    "is_business_day",
    "label_day",
    "label_slot",
    "label_slot_range",
    "list_bookings_for_coordinator",
    "list_day_slots",
    "move_booking",
    "next_business_day",
    "place_hold",
    "propose_slots",
    "sync_booking_to_calendar",
]
