"""担当を変更 from the card, end to end: the signed click opens a modal of the desk's other coordinators who
take the request, the signed submission moves the booking when its held time is free for the one chosen
(the card updated in place, naming them), and changes nothing when it is not, or when the one submitting
may not act on the request."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.lifecycle import hold_slot
from config import DeskConfig
from config.desk import DEFAULT_CONFIG_PATH
from handlers.slack import texts
from handlers.slack.cards import REASSIGN
from handlers.slack.reassign import PICK_ACTION, PICK_BLOCK
from scheduling import Slot
from storage.bookings import Booking
from storage.clock import SystemClock
from storage.models import ConsultationEvent
from tests.line.conftest import InProcessServer
from tests.line.standin import LineStandIn
from tests.slack.appserver import SlackSender
from tests.slack.signing import interaction_body
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_card_actions import Desk, line, sender  # noqa: F401  (fixtures)


@pytest.fixture
def desk_app(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,  # noqa: F811
    sender: Callable[[str], SlackSender],  # noqa: F811
    tmp_path: Path,
) -> Desk:
    """The shipped desk, but with 山田 taking requests from every region in 鈴木's hours: a request 鈴木 is
    suggested for may go to 山田 (or back), at whatever time it was held."""
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    coordinators = {c["id"]: c for c in raw["scheduling"]["coordinators"]}
    coordinators["example-yamada"]["regions"] = ["*"]
    coordinators["example-yamada"]["hours"] = coordinators["example-suzuki"]["hours"]
    config = tmp_path / "desk.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    server = slack_servers(LINE_API_BASE_URL=line.url, MADOGUCHI_CONFIG=str(config))
    return Desk(server, slack, line, sender(server.url))


def open_choices(desk_app: Desk, user: str) -> list[dict[str, Any]]:
    """Clicks 担当を変更 as `user`; the coordinators the modal offers."""
    desk_app.click(user, REASSIGN)
    slack = desk_app.slack
    slack.wait_for(
        lambda: [
            m for m in slack.open_modals(user) if "submit" in m.view or texts.REASSIGN_NOBODY in repr(m.view)
        ],
        what="the filled modal",
    )
    [modal] = slack.open_modals(user)
    assert modal.view["title"]["text"] == texts.REASSIGN_TITLE
    [pick] = [b for b in modal.view["blocks"] if b.get("block_id") == PICK_BLOCK]
    return list(pick["element"]["options"])


def submit_choice(desk_app: Desk, user: str, coordinator_id: str) -> None:
    [modal] = desk_app.slack.open_modals(user)
    shown = modal.as_slack()
    shown["state"] = {
        "values": {
            PICK_BLOCK: {PICK_ACTION: {"type": "static_select", "selected_option": {"value": coordinator_id}}}
        }
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0KAGOSHIMA", "domain": "madoguchi-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0KAGOSHIMA"},
        "api_app_id": "A0MADOGUCHI",
        "token": "legacy-verification-token",
        "trigger_id": desk_app.slack.issue_trigger_id(user),
        "view": shown,
    }
    response = desk_app.sender.post(
        interaction_body(payload), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200


def slack_id(desk: DeskConfig, coordinator_id: str) -> str:
    coordinator = desk.scheduling.coordinator(coordinator_id)
    assert coordinator is not None
    return coordinator.slack_user_id


def booking_of(desk_app: Desk, booking_id: int) -> Booking:
    with desk_app.server.db.session() as session:
        found = session.get(Booking, booking_id)
        assert found is not None
        return found


def reassigned_events(desk_app: Desk) -> list[ConsultationEvent]:
    with desk_app.server.db.session() as session:
        query = select(ConsultationEvent).where(ConsultationEvent.kind == "booking_reassigned")
        return list(session.scalars(query))


def test_the_modal_offers_the_other_coordinators_and_the_booking_moves_to_a_free_one(
    desk_app: Desk, desk: DeskConfig
) -> None:
    booking = desk_app.booking()
    mine = slack_id(desk, booking.coordinator_id)
    options = open_choices(desk_app, mine)
    offered = [o["value"] for o in options]
    assert offered and booking.coordinator_id not in offered
    new = offered[0]
    submit_choice(desk_app, mine, new)
    name = desk_app.server.services.desk.scheduling.coordinator(new).name  # type: ignore[union-attr]
    assert desk_app.note_to(mine) == [texts.REASSIGNED.format(who=name)]
    moved = desk_app.booking()
    assert moved.coordinator_id == new and moved.status == "requested"
    assert (moved.starts_at, moved.ends_at) == (booking.starts_at, booking.ends_at)
    [event] = reassigned_events(desk_app)
    assert event.actor == mine
    assert event.detail["from_coordinator"] == booking.coordinator_id
    assert event.detail["to_coordinator"] == new
    slack = desk_app.slack
    mention = f"<@{slack_id(desk, new)}>"
    slack.wait_for(
        lambda: mention in repr(slack.messages(INTAKE_CHANNEL)[0]["blocks"]), what="the card updated"
    )
    [card] = slack.messages(INTAKE_CHANNEL)
    assert card["ts"] == desk_app.card["ts"]
    assert "担当を変更しました" in repr(card["blocks"])


def test_a_coordinator_whose_time_is_taken_is_refused_and_nothing_changes(
    desk_app: Desk, desk: DeskConfig
) -> None:
    booking = desk_app.booking()
    mine = slack_id(desk, booking.coordinator_id)
    new = open_choices(desk_app, mine)[0]["value"]
    with desk_app.server.db.session() as session:  # the new coordinator's time is taken meanwhile
        taken = hold_slot(
            session=session,
            slot=Slot(
                coordinator_id=new,
                method=booking.method,
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                blocked_from=booking.blocked_from,
                blocked_until=booking.blocked_until,
            ),
            clock=SystemClock(),
            contact_id=booking.contact_id,
        )
        assert taken is not None
    submit_choice(desk_app, mine, new)
    [note] = desk_app.note_to(mine)
    assert "空きがない" in note and "担当はそのまま" in note
    assert booking_of(desk_app, booking.id).coordinator_id == booking.coordinator_id
    assert reassigned_events(desk_app) == []
    time.sleep(0.3)
    assert desk_app.slack.calls("chat.update") == []


def test_someone_who_may_not_act_changes_nothing(desk_app: Desk, desk: DeskConfig) -> None:
    booking = desk_app.booking()
    other = next(
        c for c in desk.scheduling.coordinators if c.id != booking.coordinator_id and c.slack_user_id
    )
    offered = [o["value"] for o in open_choices(desk_app, other.slack_user_id)]
    submit_choice(desk_app, other.slack_user_id, offered[0])
    assert desk_app.note_to(other.slack_user_id) == [texts.NOT_YOURS]
    assert desk_app.booking().coordinator_id == booking.coordinator_id
    assert reassigned_events(desk_app) == []
    time.sleep(0.3)
    assert desk_app.slack.calls("chat.update") == []
