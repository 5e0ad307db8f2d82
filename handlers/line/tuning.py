"""Timings of the LINE drain and delivery (environment MADOGUCHI_LINE_*; the defaults suit production)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LineTuning(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_LINE_", extra="ignore")

    connect_timeout: float = Field(3.0, gt=0)
    read_timeout: float = Field(10.0, gt=0)
    lease: float = Field(
        30.0, gt=0
    )  # longer than one call can take, so two processes never send one row at once
    retry_base: float = Field(2.0, ge=0)
    retry_cap: float = Field(300.0, ge=0)
    max_attempts: int = Field(8, ge=1)
    # Rows parked as failed go out again once LINE answers (any call, or a probe with the oldest of them this
    # often while nothing else is sent), within LINE's 24 hours for a retry key; later only by hand.
    resume_interval: float = Field(60.0, gt=0)
    resume_within: float = Field(23 * 3600.0, gt=0)
    reorder_window: float = Field(0.2, ge=0)  # how long an event waits for an earlier one of the same user
    poll: float = Field(0.5, gt=0)  # how often idle threads look for work stored by other processes
    senders: int = Field(8, ge=1)  # HTTP calls in flight; each claimed row goes straight to an idle one
    event_attempts: int = Field(5, ge=1)
    loading_after: float = Field(1.0, ge=0)  # show the loading animation to an owner kept waiting this long
