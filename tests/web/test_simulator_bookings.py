"""予約確認 in the browser simulator: the menu's item sends it, the booking is shown (and restored with its
buttons on reload), moved to another time and cancelled, as the admin API then shows it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bot import texts
from tests.web.test_simulator import Phone, complete_intake

SLOT_LABEL = re.compile(r"^\d{1,2}/\d{1,2}\([月火水木金土日](・祝)?\) \d{2}:\d{2}$")


def chips(phone: Phone) -> list[str]:
    return [a["label"] for a in phone.replies[-1]["actions"] if a["type"] == "button"]


def test_the_menu_item_shows_the_booking_which_is_moved_then_cancelled(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    phone = Phone(client)
    last = complete_intake(phone)
    assert dict(texts.MENU_ITEMS)[texts.MENU_BOOKINGS] == "予約確認"  # what the simulator's menu sends
    phone.say("予約確認")
    assert (
        "状況：仮のご予約（受付済み・確認待ち）" in phone.text and "方法：オンライン（Zoom等）" in phone.text
    )
    assert chips(phone) == [texts.BOOKING_CANCEL, texts.BOOKING_MOVE, texts.BOOKINGS_BACK]
    # A reload shows the same buttons under the booking.
    restored = client.get("/sim/api/history").json()["actions"]
    assert [a["label"] for a in restored] == chips(phone)

    phone.tap(texts.BOOKING_MOVE)
    new = [label for label in chips(phone) if SLOT_LABEL.match(label)][-1]
    phone.tap(new)
    assert texts.BOOKING_MOVED in phone.text and f"日時：{new}" in phone.text

    phone.tap(texts.BOOKING_CANCEL)
    phone.tap(texts.BOOKING_CANCEL_YES)
    assert "キャンセルしました" in phone.text and new in phone.text
    assert chips(phone) == [texts.START_BUTTON]
    found = client.get(f"/api/consultations/{last['consultation_id']}", headers=admin_headers).json()
    assert found["status"] == "withdrawn"
    assert [b["status"] for b in found["bookings"]] == ["cancelled"]


def test_with_nothing_booked_the_simulator_offers_to_consult(client: TestClient) -> None:
    phone = Phone(client)
    phone.start()
    phone.say("予約確認")
    assert "いまご確認いただけるご予約はありません" in phone.text
    assert chips(phone) == [texts.START_BUTTON]
    phone.tap(texts.START_BUTTON)
    assert "個人情報" in phone.text
