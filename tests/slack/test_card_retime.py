"""別の日時を提案 from the card, end to end: the signed click opens a modal of the assigned coordinator's free
slots (the slot finder's) and a free date and time; the signed submission sends the owner the times on
LINE (the LINE stand-in receives them); the owner's tap on one moves and confirms the booking as 承認 does,
or asks again; the card shows each step. Old buttons, a modal submitted twice and someone who may not act
change nothing."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from bot import texts as bot_texts
from bot.lifecycle import hold_slot
from config import DeskConfig
from handlers.slack import texts
from handlers.slack.cards import APPROVE, PROPOSE
from handlers.slack.retime import FREE_ACTION, FREE_BLOCK, SLOTS_ACTION, SLOTS_BLOCK
from scheduling import Slot
from storage.bookings import Booking
from storage.clock import JST, SystemClock
from tests.line.standin import Delivery
from tests.slack import test_card_actions
from tests.slack.signing import interaction_body
from tests.slack.standin import INTAKE_CHANNEL
from tests.slack.test_card_actions import CONFIRMED_WORDS, Desk, assigned, line, sender  # noqa: F401

desk_app = test_card_actions.desk_app  # the fixture: a submitted request and its card

PROPOSAL_WORDS = "別の日時のご提案"


def open_slots(desk_app: Desk, user: str) -> list[dict[str, Any]]:
    """Clicks 別の日時を提案 as `user`; the slots the filled modal offers."""
    desk_app.click(user, PROPOSE)
    slack = desk_app.slack
    slack.wait_for(
        lambda: [m for m in slack.open_modals(user) if "submit" in m.view], what="the filled modal"
    )
    [modal] = slack.open_modals(user)
    assert modal.view["title"]["text"] == texts.RETIME_TITLE
    [pick] = [b for b in modal.view["blocks"] if b.get("block_id") == SLOTS_BLOCK]
    return list(pick["element"]["options"])


def submit(
    desk_app: Desk, user: str, ticked: list[dict[str, Any]], typed: datetime | None = None
) -> dict[str, Any]:
    [modal] = desk_app.slack.open_modals(user)
    shown = modal.as_slack()
    values: dict[str, Any] = {
        SLOTS_BLOCK: {SLOTS_ACTION: {"type": "checkboxes", "selected_options": ticked}},
        FREE_BLOCK: {
            FREE_ACTION: {
                "type": "datetimepicker",
                "selected_date_time": int(typed.timestamp()) if typed else None,
            }
        },
    }
    shown["state"] = {"values": values}
    resubmit(desk_app, user, shown)
    return shown


def resubmit(desk_app: Desk, user: str, shown: dict[str, Any]) -> None:
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


def proposals_heard(desk_app: Desk, count: int = 1) -> list[Delivery]:
    def heard() -> list[Delivery]:
        return [
            d
            for d in desk_app.line.deliveries_to(desk_app.owner.user_id)
            if any(PROPOSAL_WORDS in t for t in d.texts)
        ]

    desk_app.slack.wait_for(lambda: len(heard()) >= count, what="the proposal on LINE")
    return heard()


def labels(delivery: Delivery) -> list[str]:
    return [
        item["action"]["label"]
        for m in delivery.messages
        for item in (m.get("quickReply") or {}).get("items", [])
    ]


def card_shows(desk_app: Desk, words: str) -> None:
    slack = desk_app.slack
    slack.wait_for(lambda: words in repr(slack.messages(INTAKE_CHANNEL)[0]["blocks"]), what=words)


def test_the_owner_takes_a_proposed_time_and_the_booking_is_confirmed_there(
    desk_app: Desk, desk: DeskConfig
) -> None:
    booking = desk_app.booking()
    mine, _ = assigned(desk, booking)
    options = open_slots(desk_app, mine)
    assert 0 < len(options) <= 10
    submit(desk_app, mine, options[:2])
    assert desk_app.note_to(mine) == [texts.RETIME_SENT]
    [offer] = proposals_heard(desk_app)
    shown = labels(offer)
    assert len(shown) == 3 and shown[-1] == bot_texts.PROPOSAL_AGAIN
    card_shows(desk_app, "別の日時を提案しました")
    told = desk_app.owner.tap(offer, shown[1])
    assert any(CONFIRMED_WORDS in t for t in told.texts)
    moved = desk_app.booking()
    assert moved.status == "confirmed" and moved.starts_at != booking.starts_at
    [confirmation] = [t for t in told.texts if CONFIRMED_WORDS in t]
    assert f"日時：{shown[1]}" in confirmation  # the time taken, with its weekday
    card_shows(desk_app, "ご本人が提案の日時を選びました")
    card_shows(desk_app, "承認しました")
    time.sleep(0.5)  # time for a wrongly repeated confirmation to arrive
    assert len(desk_app.owner_heard(CONFIRMED_WORDS)) == 1
    again = desk_app.owner.tap(offer, shown[0])  # the other time, tapped afterwards
    assert again.texts == [bot_texts.PROPOSAL_ALREADY_ACCEPTED]
    assert desk_app.booking().starts_at == moved.starts_at


def test_the_owner_asks_again_and_the_card_says_so(desk_app: Desk, desk: DeskConfig) -> None:
    booking = desk_app.booking()
    mine, _ = assigned(desk, booking)
    submit(desk_app, mine, open_slots(desk_app, mine)[:1])
    [offer] = proposals_heard(desk_app)
    told = desk_app.owner.tap(offer, bot_texts.PROPOSAL_AGAIN)
    assert told.texts == [bot_texts.PROPOSAL_ASKED_AGAIN]
    card_shows(desk_app, "別の日時を希望されています")
    after = desk_app.booking()
    assert (after.status, after.starts_at) == ("requested", booking.starts_at)


def test_an_old_proposal_and_one_after_the_approval_change_nothing(desk_app: Desk, desk: DeskConfig) -> None:
    booking = desk_app.booking()
    mine, _ = assigned(desk, booking)
    options = open_slots(desk_app, mine)
    submit(desk_app, mine, options[:1])
    [first] = proposals_heard(desk_app)
    with desk_app.slack.lock:  # Slack closes a modal once submitted
        desk_app.slack.surfaces.close_modals(mine)
    open_slots(desk_app, mine)
    typed = datetime.fromtimestamp(int(options[-1]["value"].split(".")[0]), JST)
    submit(desk_app, mine, [], typed=typed)  # a newer proposal: a time typed in
    first_again, second = proposals_heard(desk_app, 2)
    assert first_again.messages == first.messages and labels(second)[0] != labels(first)[0]
    told = desk_app.owner.tap(first, labels(first)[0])
    assert told.texts == [bot_texts.PROPOSAL_STALE]
    assert desk_app.booking().starts_at == booking.starts_at
    desk_app.click(mine, APPROVE)  # the original time approved meanwhile
    desk_app.slack.wait_for(lambda: desk_app.owner_heard(CONFIRMED_WORDS), what="the approval")
    told = desk_app.owner.tap(second, labels(second)[0])
    assert told.texts == [bot_texts.PROPOSAL_STALE]
    after = desk_app.booking()
    assert (after.status, after.starts_at) == ("confirmed", booking.starts_at)


def test_a_modal_submitted_twice_proposes_once(desk_app: Desk, desk: DeskConfig) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    shown = submit(desk_app, mine, open_slots(desk_app, mine)[:1])
    resubmit(desk_app, mine, shown)
    notes = desk_app.note_to(mine, 2)
    assert sorted(notes) == sorted([texts.RETIME_SENT, texts.RETIME_ALREADY])
    time.sleep(0.5)
    assert len(proposals_heard(desk_app)) == 1


def test_someone_who_may_not_act_proposes_nothing(desk_app: Desk, desk: DeskConfig) -> None:
    _, other = assigned(desk, desk_app.booking())
    submit(desk_app, other, open_slots(desk_app, other)[:1])
    assert desk_app.note_to(other) == [texts.NOT_YOURS]
    time.sleep(0.5)
    assert [
        d for d in desk_app.line.deliveries_to(desk_app.owner.user_id) if PROPOSAL_WORDS in repr(d.texts)
    ] == []


def test_a_proposal_tapped_after_the_owner_cancelled_changes_nothing(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    submit(desk_app, mine, open_slots(desk_app, mine)[:1])
    [offer] = proposals_heard(desk_app)
    owner = desk_app.owner
    shown = owner.say("予約確認")
    asked = owner.tap(shown, bot_texts.BOOKING_CANCEL)
    done = owner.tap(asked, bot_texts.BOOKING_CANCEL_YES)
    assert any("キャンセル" in t for t in done.texts)
    told = owner.tap(offer, labels(offer)[0])
    assert told.texts == [bot_texts.PROPOSAL_STALE]
    assert desk_app.booking().status == "cancelled"


def test_a_proposed_time_taken_meanwhile_is_not_booked_and_the_card_says_so(
    desk_app: Desk, desk: DeskConfig
) -> None:
    booking = desk_app.booking()
    mine, _ = assigned(desk, booking)
    [option] = open_slots(desk_app, mine)[:1]
    submit(desk_app, mine, [option])
    [offer] = proposals_heard(desk_app)
    starts, ends, blocked_from, blocked_until = (
        datetime.fromtimestamp(int(v), JST) for v in option["value"].split(".")
    )
    with desk_app.server.db.session() as session:  # someone else's hold of that time, meanwhile
        slot = Slot(booking.coordinator_id, booking.method, starts, ends, blocked_from, blocked_until)
        assert hold_slot(session=session, slot=slot, clock=SystemClock(), contact_id=booking.contact_id)
    told = desk_app.owner.tap(offer, labels(offer)[0])
    assert told.texts == [bot_texts.PROPOSAL_TAKEN]
    card_shows(desk_app, "埋まっていました")
    with desk_app.server.db.session() as session:
        after = session.get(Booking, booking.id)
        assert after is not None and (after.status, after.starts_at) == ("requested", booking.starts_at)
