"""Short Japanese labels for slots, fit for a button (the desk's own label limit, which every channel shows)."""

from __future__ import annotations

from datetime import date, datetime

from config.desk import BUTTON_LABEL_MAX
from scheduling.availability import JST
from scheduling.holidays import is_public_holiday
from scheduling.slots import Slot

WEEKDAY_JA = "月火水木金土日"
LABEL_MAX = BUTTON_LABEL_MAX
WHOLE_DAY = "終日"


def label_day(day: date) -> str:
    """`12/3(木)`, or `11/23(月・祝)` on a public holiday."""
    weekday = WEEKDAY_JA[day.weekday()] + ("・祝" if is_public_holiday(day) else "")
    return f"{day.month}/{day.day}({weekday})"


def label_moment(moment: datetime) -> str:
    """`12/3(木) 14:00` in Japan time for an aware moment."""
    local = moment.astimezone(JST)
    return f"{label_day(local.date())} {local:%H:%M}"


def label_slot(slot: Slot) -> str:
    """The button label of a slot: its Japan-time date, weekday and start (or 終日 for a whole-day visit)."""
    if slot.whole_day:
        label = f"{label_day(slot.starts_at.astimezone(JST).date())} {WHOLE_DAY}"
    else:
        label = label_moment(slot.starts_at)
    if len(label) > LABEL_MAX:
        raise ValueError("slot label longer than a LINE button allows")
    return label


def label_slot_range(slot: Slot) -> str:
    """The slot with its end, for the summary: `12/3(木) 14:00〜15:00`."""
    if slot.whole_day:
        return label_slot(slot)
    return f"{label_moment(slot.starts_at)}〜{slot.ends_at.astimezone(JST):%H:%M}"
