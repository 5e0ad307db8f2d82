"""The slot finder's values: the request, a slot, what a coordinator already has, and the proposal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from storage.clock import JST

ProposalStatus = Literal[
    "ok", "no_slots", "not_scheduled", "no_coordinator", "online_only", "calendar_unavailable"
]


@dataclass(frozen=True)
class SlotRequest:
    """What the owner asked for: method, category and the region of their municipality, at a time."""

    method: str
    category: str
    region: str
    now: datetime
    earliest: datetime | None = None
    around: datetime | None = None
    municipality: str = ""  # its JIS code, for islands whose visits differ from their region's


@dataclass(frozen=True)
class Slot:
    """A time one coordinator can meet: the meeting, and the range it blocks (travel and buffer included)."""

    coordinator_id: str
    method: str
    starts_at: datetime
    ends_at: datetime
    blocked_from: datetime
    blocked_until: datetime
    whole_day: bool = False
    hold_minutes: int = 45

    @property
    def token(self) -> str:
        """A short stable id for buttons and postback data."""
        return f"{self.coordinator_id}.{self.starts_at.astimezone(JST):%Y%m%d%H%M}.{self.method}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, for keeping offered slots in the conversation state."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slot:
        """The slot back from as_dict()."""
        return cls(
            coordinator_id=str(data["coordinator_id"]),
            method=str(data["method"]),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            blocked_from=datetime.fromisoformat(data["blocked_from"]),
            blocked_until=datetime.fromisoformat(data["blocked_until"]),
            whole_day=bool(data.get("whole_day", False)),
            hold_minutes=int(data.get("hold_minutes", 45)),
        )


@dataclass(frozen=True)
class HeldSpan:
    """A desk booking (held, requested or confirmed) as the finder sees it."""

    starts_at: datetime
    blocked_from: datetime
    blocked_until: datetime


@dataclass(frozen=True)
class Occupancy:
    """What is taken of one coordinator: calendar busy times, desk bookings, and how far the calendar is known."""

    busy: Sequence[tuple[datetime, datetime]] = ()
    bookings: Sequence[HeldSpan] = ()
    known_from: datetime | None = None
    known_until: datetime | None = None
    failed: bool = False


@dataclass(frozen=True)
class Proposal:
    """The finder's answer: slots (chronological) or why there are none, and the window a date picker may use."""

    status: ProposalStatus
    slots: tuple[Slot, ...] = ()
    alternative_method: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    unavailable: tuple[str, ...] = ()
