"""`follow_ups:` in the desk YAML: when an abandoned intake gets its one nudge, and when an owner whose
consultation took place is asked how it went."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.reminders import _clock_time


class FollowUpsConfig(BaseModel):
    """The nudge of an intake left unfinished, and the satisfaction survey after a consultation (Japan time;
    the quiet hours are the reminders')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nudge_after_hours: int = Field(default=24, ge=1, le=24 * 14)
    # An intake silent for longer than this is not nudged any more (it would be noise, not a reminder).
    nudge_within_days: int = Field(default=7, ge=1, le=90)
    survey_at: str = "10:00"  # on the desk's next working day after the consultation
    # A survey not sent within this many days of its time (the scheduler down) is not sent late.
    survey_within_days: int = Field(default=7, ge=1, le=90)

    @field_validator("survey_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        _clock_time(value)
        return value

    @property
    def survey_time(self) -> time:
        return _clock_time(self.survey_at)
