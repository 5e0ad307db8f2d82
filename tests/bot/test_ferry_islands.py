"""三島村 and 十島村: a ferry a few times a week, so a visit there is never offered as a time slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import texts
from bot.engine import IntakeEngine
from config import DeskConfig
from scheduling.slots import SlotRequest, find_slots
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from tests.bot.chat import Chat
from tests.bot.test_places import to_place
from tests.bot.test_slot_step import slot_labels, to_method
from tests.web.test_form import offered, to_times

VISIT = "会社に来てほしい（訪問）"
EFFICIENCY = "業務効率化（会計・勤怠等）"


def _visit(desk: DeskConfig, clock: FixedClock, code: str) -> SlotRequest:
    m = desk.municipality_by_code[code]
    return SlotRequest(
        method="onsite", category="efficiency", region=m.region, municipality=m.code, now=clock.now()
    )


def test_the_finder_offers_a_mainland_visit_with_travel_but_no_ferry_island_visit(
    desk: DeskConfig, clock: FixedClock
) -> None:
    config = desk.scheduling
    city = find_slots(config=config, request=_visit(desk, clock, "46201"), occupancy={})
    assert city.status == "ok" and city.slots
    assert all(s.starts_at - s.blocked_from == timedelta(minutes=30) for s in city.slots)
    for code in ("46303", "46304"):  # 三島村, 十島村: the same region as 鹿児島市
        island = find_slots(config=config, request=_visit(desk, clock, code), occupancy={})
        assert (island.status, island.slots, island.alternative_method) == ("online_only", (), "online")


def _bookings(db: Database) -> list[Booking]:
    with db.session() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


@pytest.mark.parametrize("place", ["十島村", "三島村"])
def test_a_visit_to_a_ferry_island_offers_online_or_a_date_agreed_later(
    desk: DeskConfig, clock: FixedClock, db: Database, place: str
) -> None:
    chat = Chat(IntakeEngine(desk, clock), db)
    to_method(chat, method=VISIT, place=place, category=EFFICIENCY)
    assert texts.ISLAND_ONLINE in chat.text
    assert [b.label for b in chat.buttons()] == [texts.SWITCH_TO_ONLINE, texts.DECIDE_LATER]
    assert slot_labels(chat) == []
    chat.tap(texts.DECIDE_LATER)
    assert texts.ASK_CONTACT.splitlines()[0] in chat.text
    assert _bookings(db) == []


def test_an_island_of_toshima_typed_by_name_is_taken_as_the_village(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    chat = Chat(IntakeEngine(desk, clock), db)
    to_place(chat)
    chat.say("悪石島")
    assert chat.replies[0].text == texts.PLACE_TAKEN_AS.format(typed="悪石島", name="十島村")


def test_moving_a_visit_to_a_ferry_island_gives_the_time_back(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    chat = Chat(IntakeEngine(desk, clock), db)
    to_method(chat, method=VISIT, place="鹿児島市", category=EFFICIENCY)
    chat.tap(slot_labels(chat)[0])
    chat.say("099-123-4567")
    chat.tap(texts.EDIT)
    chat.tap("所在地")
    chat.say("十島村")
    assert texts.SLOT_REVIEW in chat.text and texts.ISLAND_ONLINE in chat.text
    chat.tap(texts.DECIDE_LATER)
    assert "ご入力内容をご確認ください" in chat.text and texts.SLOT_LATER_SUMMARY in chat.text
    assert [b.status for b in _bookings(db)] == ["cancelled"]


def test_the_web_form_offers_no_time_for_a_visit_to_a_ferry_island(
    client: TestClient, desk: DeskConfig
) -> None:
    _, page = to_times(client, desk, municipality="46304", category="efficiency", method="onsite")
    assert offered(page) == [("later", texts.DECIDE_LATER)]
    _, city = to_times(client, desk, municipality="46201", category="efficiency", method="onsite")
    assert len(offered(city)) > 1
