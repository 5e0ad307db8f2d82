"""`reporting:` in the desk YAML: what the monthly report for the prefecture measures against."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportingConfig(BaseModel):
    """The monthly target of on-site visits (企業訪問) the contract sets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    visit_target_per_month: int = Field(default=5, ge=0, le=1000)
