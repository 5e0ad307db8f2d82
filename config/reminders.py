"""`reminders:` in the desk YAML: when owners are reminded of a confirmed booking, and when the desk stays quiet."""

from __future__ import annotations

import re
from datetime import time
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@lru_cache(maxsize=64)  # read on every reminder worded: a handful of distinct values
def _clock_time(value: str) -> time:
    match = _HHMM.match(value)
    if not match:
        raise ValueError(f"a time of day is written HH:MM: {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


class RemindersConfig(BaseModel):
    """The day-before reminder's time, how long before the meeting the second one goes, the quiet hours
    (Japan time) in which the scheduler sends nothing, and what a visit to the desk is told."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day_before_at: str = "10:00"
    before_minutes: int = Field(default=120, ge=10, le=24 * 60)
    quiet_from: str = "21:00"
    quiet_until: str = "08:00"
    desk_address: str = ""  # told to owners coming to the desk, with the map link
    desk_map_url: str = ""
    online_meeting_url: str = ""  # the desk's meeting room, when a booking carries no URL of its own

    @field_validator("day_before_at", "quiet_from", "quiet_until")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        _clock_time(value)
        return value

    @property
    def day_before_time(self) -> time:
        return _clock_time(self.day_before_at)

    def is_quiet(self, at: time) -> bool:
        """Whether a Japan-time time of day falls in the quiet hours (which may run past midnight)."""
        start, end = _clock_time(self.quiet_from), _clock_time(self.quiet_until)
        if start == end:
            return False
        if start < end:
            return start <= at < end
        return at >= start or at < end
