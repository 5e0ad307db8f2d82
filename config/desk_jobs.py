"""`desk_jobs:` in the desk YAML: what the coordinators' morning digest lists, the LINE quota warning and
the monthly summary's target."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DeskJobsConfig(BaseModel):
    """At what share of the month's LINE quota the desk
    is warned, and the month's target of on-site visits the summary compares with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quota_warning_ratio: float = Field(default=0.8, gt=0, le=1)
    # How far back the digest looks for messages LINE could not deliver to an owner
    undelivered_days: int = Field(default=7, ge=1, le=60)
