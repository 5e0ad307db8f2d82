"""担当を変更's rules beyond the held time: the new coordinator's daily cap, the owner told on LINE of the new
person in charge (named only when the desk allows), and two requests given the same coordinator's same time
at the same moment (one wins; the other clicker is told ephemerally and offered 別の日時を提案)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import texts as bot_texts
from bot.bookings import booking_when
from bot.lifecycle import hold_slot, move_booking
from config.desk import DEFAULT_CONFIG_PATH
from handlers.slack import texts
from handlers.slack.cards import PROPOSE, button_value
from handlers.slack.reassign import PICK_ACTION, PICK_BLOCK, REASSIGN_VIEW
from scheduling import Slot
from storage.bookings import Booking
from storage.clock import JST, SystemClock
from tests.line.conftest import InProcessServer, LineUser
from tests.line.standin import LineStandIn
from tests.owner import LineChannel, Owner
from tests.slack.appserver import SlackSender
from tests.slack.signing import interaction_body
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_card_actions import Desk, line, sender  # noqa: F401  (fixtures)

EVERY_DAY = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def start_desk(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,  # noqa: F811
    sender: Callable[[str], SlackSender],  # noqa: F811
    tmp_path: Path,
    *,
    cap: int | None = None,
    names: bool = False,
) -> Desk:
    """The shipped desk with every coordinator taking every request in the same hours, every day."""
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    for coordinator in raw["scheduling"]["coordinators"]:
        coordinator.update(regions=["*"], categories=["*"], hours=EVERY_DAY, works_holidays=True)
        coordinator["methods"] = ["visit_desk", "onsite", "online", "phone", "email"]
        if cap is not None:
            coordinator["max_per_day"] = cap
    raw["desk"]["name_coordinators_to_owners"] = names
    config = tmp_path / "desk.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    server = slack_servers(LINE_API_BASE_URL=line.url, MADOGUCHI_CONFIG=str(config))
    return Desk(server, slack, line, sender(server.url))


def submit_reassign(desk_app: Desk, user: str, booking: Booking, coordinator_id: str) -> None:
    """The 担当を変更 modal of this booking's card, submitted by `user` with `coordinator_id` chosen."""
    assert booking.consultation_id is not None
    view = {
        "id": f"V{booking.id}{user}",
        "type": "modal",
        "callback_id": REASSIGN_VIEW,
        "private_metadata": f"{button_value(booking.consultation_id, booking.id)}|{INTAKE_CHANNEL}",
        "state": {
            "values": {
                PICK_BLOCK: {
                    PICK_ACTION: {"type": "static_select", "selected_option": {"value": coordinator_id}}
                }
            }
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0KAGOSHIMA", "domain": "madoguchi-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0KAGOSHIMA"},
        "api_app_id": "A0MADOGUCHI",
        "token": "legacy-verification-token",
        "trigger_id": desk_app.slack.issue_trigger_id(user),
        "view": view,
    }
    response = desk_app.sender.post(
        interaction_body(payload), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200


def slack_of(desk_app: Desk, coordinator_id: str) -> str:
    coordinator = desk_app.server.services.desk.scheduling.coordinator(coordinator_id)
    assert coordinator is not None
    return coordinator.slack_user_id


def name_of(desk_app: Desk, coordinator_id: str) -> str:
    coordinator = desk_app.server.services.desk.scheduling.coordinator(coordinator_id)
    assert coordinator is not None
    return coordinator.name


def others(desk_app: Desk, booking: Booking) -> list[str]:
    return [
        c.id for c in desk_app.server.services.desk.scheduling.coordinators if c.id != booking.coordinator_id
    ]


def offers_retime(desk_app: Desk, user: str) -> bool:
    blocks = [b for e in desk_app.slack.ephemerals(user) for b in (e.blocks or [])]
    return any(
        el.get("action_id") == PROPOSE for b in blocks if b.get("type") == "actions" for el in b["elements"]
    )


def test_a_coordinator_whose_day_is_full_is_refused_and_offered_another_time(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,  # noqa: F811
    sender: Callable[[str], SlackSender],  # noqa: F811
    tmp_path: Path,
) -> None:
    desk_app = start_desk(slack_servers, slack, line, sender, tmp_path, cap=1)
    booking = desk_app.booking()
    new = others(desk_app, booking)[0]
    later = booking.starts_at + timedelta(hours=2)  # the same day, another time: the new one's one booking
    assert later.astimezone(JST).date() == booking.starts_at.astimezone(JST).date()
    with desk_app.server.db.session() as session:
        span = booking.blocked_until - booking.starts_at
        taken = hold_slot(
            session=session,
            slot=Slot(
                new, booking.method, later, later + (booking.ends_at - booking.starts_at), later, later + span
            ),
            clock=SystemClock(),
            contact_id=booking.contact_id,
        )
        assert taken is not None
    mine = slack_of(desk_app, booking.coordinator_id)
    submit_reassign(desk_app, mine, booking, new)
    assert desk_app.note_to(mine) == [
        texts.REASSIGN_FULL.format(who=name_of(desk_app, new), day=texts_day(booking))
    ]
    assert offers_retime(desk_app, mine)
    with desk_app.server.db.session() as session:
        after = session.get(Booking, booking.id)
        assert after is not None and after.coordinator_id == booking.coordinator_id
    assert [
        t for d in line.deliveries_to(desk_app.owner.user_id) for t in d.texts if "変わりました" in t
    ] == []


def texts_day(booking: Booking) -> str:
    return booking_when(booking).split(" ")[0]


@pytest.mark.parametrize("names", [False, True], ids=["nameless", "named"])
def test_the_owner_is_told_of_the_new_person_in_charge(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,  # noqa: F811
    sender: Callable[[str], SlackSender],  # noqa: F811
    tmp_path: Path,
    names: bool,
) -> None:
    desk_app = start_desk(slack_servers, slack, line, sender, tmp_path, names=names)
    booking = desk_app.booking()
    new = others(desk_app, booking)[0]
    submit_reassign(desk_app, slack_of(desk_app, booking.coordinator_id), booking, new)

    def told() -> list[str]:
        return [t for d in line.deliveries_to(desk_app.owner.user_id) for t in d.texts if "変わりました" in t]

    slack.wait_for(told, what="the owner told on LINE")
    [message] = told()
    assert desk_app.booking().coordinator_id == new
    assert (name_of(desk_app, new) in message) is names
    assert message.startswith("受付番号") and message.endswith("です。")
    if not names:
        assert bot_texts.REASSIGNED_OWNER.split("、")[1].split("。")[0] in message


def test_two_requests_given_the_same_time_of_one_coordinator_at_once_one_wins(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,  # noqa: F811
    sender: Callable[[str], SlackSender],  # noqa: F811
    tmp_path: Path,
) -> None:
    desk_app = start_desk(slack_servers, slack, line, sender, tmp_path)
    first = desk_app.booking()
    second_owner = LineUser(desk_app.server.url, line)
    Owner(LineChannel(second_owner)).answer_until(None, contact="099-765-4321 second@example.jp")
    slack.wait_for(lambda: len(slack.messages(INTAKE_CHANNEL)) == 2, what="the second card")
    with desk_app.server.db.session() as session:
        second = session.scalars(select(Booking).where(Booking.id != first.id)).one()
        # The second request at the first's time, with a third coordinator: both may go to the same one
        third, target = [c for c in others(desk_app, first)]
        slot = Slot(
            third, first.method, first.starts_at, first.ends_at, first.blocked_from, first.blocked_until
        )
        assert move_booking(session=session, booking_id=second.id, slot=slot, clock=SystemClock())
        moved = session.get(Booking, second.id)
        assert moved is not None
        session.expunge(moved)
    clickers = [(slack_of(desk_app, first.coordinator_id), first), (slack_of(desk_app, third), moved)]
    start = threading.Barrier(len(clickers))
    errors: list[BaseException] = []

    def click(user: str, booking: Booking) -> None:
        try:
            start.wait()
            submit_reassign(desk_app, user, booking, target)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=click, args=c) for c in clickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[0]
    notes = {user: desk_app.note_to(user)[0] for user, _ in clickers}
    won = [u for u, n in notes.items() if n == texts.REASSIGNED.format(who=name_of(desk_app, target))]
    lost = [u for u, n in notes.items() if "空きがない" in n]
    assert len(won) == 1 and len(lost) == 1, notes
    assert offers_retime(desk_app, lost[0]) and not offers_retime(desk_app, won[0])
    with desk_app.server.db.session() as session:
        mine = [b for b in session.scalars(select(Booking)) if b.coordinator_id == target]
    assert len(mine) == 1 and mine[0].status == "requested"
