"""The Slack part of the desk configuration, and who may act on a request from Slack."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, field_validator

if TYPE_CHECKING:
    from config.desk import DeskConfig

# A Slack member id: U… (or W… in an Enterprise Grid), upper-case letters and digits.
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def check_slack_user_id(value: str) -> str:
    """The id as given, or ValueError when it cannot be a Slack member id (an empty one is none at all)."""
    value = value.strip()
    if value and not SLACK_USER_ID.match(value):
        raise ValueError(
            f"a Slack member id looks like U012ABCDEF (Slack: the profile's ⋮ menu, Copy member ID): {value!r}"
        )
    return value


class SlackConfig(BaseModel):
    """`slack:` in the desk YAML: the member ids of the desk's managers, who may act on any request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approvers: tuple[str, ...] = ()

    @field_validator("approvers")
    @classmethod
    def _member_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        ids = tuple(check_slack_user_id(v) for v in value)
        if "" in ids:
            raise ValueError("an approver's Slack member id is empty")
        if len(set(ids)) != len(ids):
            raise ValueError("an approver is listed twice")
        return ids


class Assigned(Protocol):
    """Anything assigned to a coordinator: a booking, or a consultation with its suggested coordinator."""

    @property
    def coordinator_id(self) -> str | None: ...


def may_act(desk: DeskConfig, slack_user_id: str, assigned: Assigned | None) -> bool:
    """Whether this Slack member may act on the request: its assigned coordinator, or an approver."""
    if not slack_user_id:
        return False
    if slack_user_id in desk.slack.approvers:
        return True
    coordinator_id = assigned.coordinator_id if assigned is not None else None
    if not coordinator_id:
        return False
    return any(
        c.id == coordinator_id and c.slack_user_id == slack_user_id for c in desk.scheduling.coordinators
    )


def coordinator_for_slack_user(desk: DeskConfig, slack_user_id: str) -> str | None:
    """The id of the coordinator with this Slack member id, or None."""
    if not slack_user_id:
        return None
    return next((c.id for c in desk.scheduling.coordinators if c.slack_user_id == slack_user_id), None)
