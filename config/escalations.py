"""`escalations:` in the desk YAML: when a request nobody acted on is brought up again in Slack, counted in
the desk's working time (its weekly hours, its closures and the public holidays)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from config.scheduling import WeeklyHours


class EscalationsConfig(BaseModel):
    """A reply in the card's thread mentioning the assignee once the request has waited
    `remind_after_working_hours`, then a post mentioning the approvers `escalate_after_working_days` later."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    remind_after_working_hours: float = Field(default=4, gt=0, le=80)
    escalate_after_working_days: int = Field(default=1, ge=1, le=10)
    hours: WeeklyHours = Field(default_factory=WeeklyHours)  # the desk's working hours
