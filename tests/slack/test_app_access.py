"""Who may act on a request from Slack (`may_act`), and the desk config's Slack keys: each coordinator's
`slack_user_id` and `slack.approvers`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError, DeskConfig, load_desk_config
from config.desk import DEFAULT_CONFIG_PATH
from config.slack import coordinator_for_slack_user, may_act
from storage.bookings import Booking

YAMADA, SUZUKI = "U0EXYAMADA", "U0EXSUZUKI"  # the shipped example coordinators' member ids
MANAGER = "U0MANAGER1"


@dataclass(frozen=True)
class Request:
    coordinator_id: str | None


def desk_with(tmp_path: Path, **changes: Any) -> DeskConfig:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    for key, value in changes.items():
        raw[key] = value
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_desk_config(path)


@pytest.fixture
def desk_with_manager(tmp_path: Path) -> DeskConfig:
    return desk_with(tmp_path, slack={"approvers": [MANAGER]})


def test_the_shipped_example_coordinators_have_example_member_ids(desk: DeskConfig) -> None:
    ids = {c.id: c.slack_user_id for c in desk.scheduling.coordinators}
    assert ids == {"example-yamada": YAMADA, "example-suzuki": SUZUKI, "example-tanaka": "U0EXTANAKA"}
    assert desk.slack.approvers == ()
    assert coordinator_for_slack_user(desk, SUZUKI) == "example-suzuki"
    assert coordinator_for_slack_user(desk, MANAGER) is None and coordinator_for_slack_user(desk, "") is None


def test_the_assigned_coordinator_may_act_and_another_may_not(desk: DeskConfig) -> None:
    assert may_act(desk, YAMADA, Request("example-yamada"))
    assert not may_act(desk, SUZUKI, Request("example-yamada"))
    assert not may_act(desk, MANAGER, Request("example-yamada"))  # no approvers in the shipped desk
    assert not may_act(desk, YAMADA, Request(None)) and not may_act(desk, YAMADA, None)
    assert not may_act(desk, "", Request("example-yamada"))
    assert not may_act(desk, YAMADA, Request("example-nobody"))


def test_an_approver_may_act_on_any_request(desk_with_manager: DeskConfig) -> None:
    for assigned in (Request("example-yamada"), Request("example-tanaka"), Request(None), None):
        assert may_act(desk_with_manager, MANAGER, assigned)
    assert not may_act(desk_with_manager, SUZUKI, Request("example-tanaka"))


def test_a_booking_is_asked_who_it_is_assigned_to(desk: DeskConfig) -> None:
    booking = Booking(coordinator_id="example-suzuki")
    assert may_act(desk, SUZUKI, booking) and not may_act(desk, YAMADA, booking)


def test_a_coordinator_without_a_member_id_cannot_be_impersonated_by_an_empty_id(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["scheduling"]["coordinators"][0]["slack_user_id"] = ""
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    desk = load_desk_config(path)
    assert not may_act(desk, "", Request("example-yamada"))


@pytest.mark.parametrize(
    ("approvers", "message"),
    [
        (["yamada"], "Copy member ID"),
        (["U0MANAGER1", "U0MANAGER1"], "listed twice"),
        ([""], "empty"),
    ],
)
def test_approvers_that_cannot_be_member_ids_are_refused_naming_the_key(
    tmp_path: Path, approvers: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=f"slack.approvers.*{message}"):
        desk_with(tmp_path, slack={"approvers": approvers})


def test_a_coordinators_member_id_is_checked_and_two_may_not_share_one(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["scheduling"]["coordinators"][1]["slack_user_id"] = "@suzuki"
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="slack_user_id.*Copy member ID"):
        load_desk_config(path)
    raw["scheduling"]["coordinators"][1]["slack_user_id"] = YAMADA
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="same slack_user_id"):
        load_desk_config(path)


def test_an_unknown_key_under_slack_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="slack.approver"):
        desk_with(tmp_path, slack={"approver": [MANAGER]})
