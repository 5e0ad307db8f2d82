"""The scheduling part of the desk configuration (coordinators, hours, closures, slot rules)."""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from config.slack import check_slack_user_id

METHOD_IDS = ("visit_desk", "onsite", "online", "phone", "email")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MethodId = Literal["visit_desk", "onsite", "online", "phone", "email"]
RemotePolicy = Literal["whole_day", "online_only"]

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


@lru_cache(maxsize=1024)
def parse_hours(value: str) -> tuple[int, int]:
    """Parses "HH:MM-HH:MM" into minutes after midnight (the end may be 24:00)."""
    match = _RANGE.match(value.strip())
    if not match:
        raise ValueError(f"working hours must look like 09:00-17:00: {value!r}")
    sh, sm, eh, em = (int(g) for g in match.groups())
    start, end = sh * 60 + sm, eh * 60 + em
    if sm > 59 or em > 59 or start >= 24 * 60 or end > 24 * 60 or start >= end:
        raise ValueError(f"working hours must be a range inside one day: {value!r}")
    return start, end


def _check_hours(value: str) -> str:
    parse_hours(value)
    return value.strip()


Hours = Annotated[str, AfterValidator(_check_hours)]
DayHours = tuple[Hours, ...]


def _no_overlap(ranges: tuple[str, ...], where: str) -> None:
    parsed = sorted(parse_hours(r) for r in ranges)
    for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
        if start < end:
            raise ValueError(f"{where}: working hours overlap")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeeklyHours(_Strict):
    """Working hours per weekday in Japan time; an empty list is a day off."""

    mon: DayHours = ("09:00-12:00", "13:00-17:00")
    tue: DayHours = ("09:00-12:00", "13:00-17:00")
    wed: DayHours = ("09:00-12:00", "13:00-17:00")
    thu: DayHours = ("09:00-12:00", "13:00-17:00")
    fri: DayHours = ("09:00-12:00", "13:00-17:00")
    sat: DayHours = ()
    sun: DayHours = ()

    @model_validator(mode="after")
    def _ranges_apart(self) -> WeeklyHours:
        for day in WEEKDAYS:
            _no_overlap(getattr(self, day), day)
        return self

    def for_weekday(self, weekday: int) -> DayHours:
        """The hours of a weekday, Monday being 0 as in date.weekday()."""
        return getattr(self, WEEKDAYS[weekday])


class CalendarSettings(_Strict):
    """Where a coordinator's busy times come from; the password is read from the named variable."""

    provider: Literal["builtin", "caldav", "ics"] = "builtin"
    url: str = ""
    username: str = ""
    password_env: str = ""
    calendar_path: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value and not _ENV_NAME.match(value):
            raise ValueError(
                "password_env is the NAME of an environment variable (e.g. CALDAV_YAMADA_PASSWORD)"
            )
        return value

    @model_validator(mode="after")
    def _url_when_remote(self) -> CalendarSettings:
        if self.provider != "builtin" and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"calendar.url: an http(s) URL is needed for provider {self.provider}")
        return self

    def password(self) -> str | None:
        """The secret from the environment, or None when no variable is named or it is unset."""
        return os.environ.get(self.password_env) if self.password_env else None


class Coordinator(_Strict):
    """A coordinator: who they are, what they take, when they work and where their calendar is."""

    id: str
    name: str
    slack_user_id: str = ""
    email: str = ""
    example: bool = False
    categories: tuple[str, ...] = ("*",)
    regions: tuple[str, ...] = ("*",)
    methods: tuple[MethodId, ...] = ("visit_desk", "onsite", "online", "phone", "email")
    hours: WeeklyHours = Field(default_factory=WeeklyHours)
    works_holidays: bool = False
    overrides: dict[date, DayHours | Literal["closed"]] = Field(default_factory=dict)
    max_per_day: int | None = Field(default=None, ge=1)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"coordinator id must be lower-case letters, digits, - or _: {value!r}")
        return value

    @field_validator("slack_user_id")
    @classmethod
    def _slack_member_id(cls, value: str) -> str:
        return check_slack_user_id(value)

    @model_validator(mode="after")
    def _overrides_apart(self) -> Coordinator:
        for day, hours in self.overrides.items():
            if hours != "closed":
                _no_overlap(hours, f"overrides.{day}")
        return self

    def takes(self, *, category: str, region: str | None, method: str) -> bool:
        """Whether this coordinator takes this kind of request (region None: wherever it comes from)."""
        return (
            method in self.methods
            and ("*" in self.categories or category in self.categories)
            and (region is None or "*" in self.regions or region in self.regions)
        )


class Closures(_Strict):
    """Days the whole desk is closed: the year-end break (12/29 to 1/3 by default) and listed dates."""

    year_end: tuple[str, str] | None = ("12-29", "01-03")
    dates: tuple[date, ...] = ()

    @field_validator("year_end")
    @classmethod
    def _month_days(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        for part in value or ():
            match = _MONTH_DAY.match(part)
            if not match or not 1 <= int(match[1]) <= 12 or not 1 <= int(match[2]) <= 31:
                raise ValueError(f"year_end takes two MM-DD days: {part!r}")
        return value


def _island_regions() -> dict[str, RemotePolicy]:
    return {"kumage": "whole_day", "oshima": "whole_day"}


class SlotRules(_Strict):
    """How slots are cut and offered."""

    duration_minutes: dict[str, int] = Field(
        default_factory=lambda: {"visit_desk": 60, "onsite": 90, "online": 60, "phone": 30}
    )
    slot_methods: tuple[str, ...] = ("visit_desk", "onsite", "online")  # phone and e-mail skip slots
    buffer_minutes: int = Field(default=15, ge=0)
    step_minutes: int = Field(default=30, ge=5, le=240)
    min_notice_business_days: int = Field(default=1, ge=0, le=10)
    horizon_days: int = Field(default=21, ge=1, le=180)
    max_per_day: int = Field(default=3, ge=1)
    proposals: int = Field(default=5, ge=1, le=13)
    spread_minutes: int = Field(default=120, ge=0)
    travel_minutes: dict[str, int] = Field(
        default_factory=lambda: {
            "kagoshima": 30,
            "aira_isa": 60,
            "nansatsu": 60,
            "hokusatsu": 90,
            "osumi": 90,
        }
    )
    default_travel_minutes: int = Field(default=60, ge=0)
    remote_regions: dict[str, RemotePolicy] = Field(default_factory=_island_regions)
    # Municipalities (JIS codes) whose visits differ from their region's: islands of a mainland region.
    remote_municipalities: dict[str, RemotePolicy] = Field(default_factory=dict)
    # While the owner is still answering, a chosen time stays held this long after their last message;
    # a conversation abandoned gives it back to the others soon after.
    hold_expiry_minutes: int = Field(default=45, ge=5, le=1440)
    # Once the request is sent, its time stays held while a coordinator decides: to the end of this many
    # business days (the desk promises an answer within two), and never past the meeting's start.
    submitted_hold_business_days: int = Field(default=2, ge=0, le=10)
    busy_cache_refresh_seconds: int = Field(default=300, ge=0)
    busy_cache_max_age_minutes: int = Field(default=360, ge=1)

    @field_validator("duration_minutes")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        if any(minutes <= 0 for minutes in value.values()):
            raise ValueError("durations must be positive minutes")
        unknown = [key for key in value if key not in METHOD_IDS]
        if unknown:
            raise ValueError(f"durations for unknown methods: {unknown}")
        return value

    def remote_policy(self, region: str, municipality: str = "") -> RemotePolicy | None:
        """How an on-site visit there is offered: None for a visit with travel time, else the island policy
        (the municipality's own before its region's)."""
        return self.remote_municipalities.get(municipality) or self.remote_regions.get(region)


class SchedulingConfig(BaseModel):
    """Coordinators and the rules for proposing their time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    coordinators: tuple[Coordinator, ...] = ()
    closures: Closures = Field(default_factory=Closures)
    rules: SlotRules = Field(default_factory=SlotRules)

    @model_validator(mode="after")
    def _unique_ids(self) -> SchedulingConfig:
        ids = [c.id for c in self.coordinators]
        if len(set(ids)) != len(ids):
            raise ValueError("coordinators: duplicate id")
        return self

    def coordinator(self, coordinator_id: str) -> Coordinator | None:
        """The coordinator with this id."""
        return next((c for c in self.coordinators if c.id == coordinator_id), None)

    def check_references(
        self,
        *,
        region_ids: set[str],
        category_ids: set[str],
        method_ids: set[str],
        municipality_codes: set[str] | None = None,
    ) -> list[str]:
        """Names every id that the desk's lists do not know (empty when all resolve)."""
        problems = []
        for c in self.coordinators:
            for kind, used, known in (
                ("regions", c.regions, region_ids),
                ("categories", c.categories, category_ids),
                ("methods", c.methods, method_ids),
            ):
                problems += [
                    f"coordinators.{c.id}.{kind}: unknown id {v!r}"
                    for v in used
                    if v != "*" and v not in known
                ]
        for key in (*self.rules.travel_minutes, *self.rules.remote_regions):
            if key not in region_ids:
                problems.append(f"rules: unknown region {key!r}")
        if municipality_codes is not None:
            problems += [
                f"rules.remote_municipalities: unknown municipality code {code!r}"
                for code in self.rules.remote_municipalities
                if code not in municipality_codes
            ]
        return problems
