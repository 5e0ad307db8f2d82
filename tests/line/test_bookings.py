"""予約確認 through the LINE webhook and the stand-in: typed (as the rich menu's area sends it) and as a menu
postback; the booking seen, moved to another time and cancelled, as the admin API then shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from bot import texts
from bot.postback import encode
from scheduling.labels import label_moment
from tests.line.conftest import ADMIN, InProcessServer, LineUser
from tests.line.standin import Delivery, LineStandIn
from tests.owner import LineChannel, Owner

SLOT_LABEL = re.compile(r"^\d{1,2}/\d{1,2}\([月火水木金土日](・祝)?\) \d{2}:\d{2}$")
MENU_BOOKINGS = encode("-", "menu", "bookings")  # the postback a rich-menu area of type postback would send


def labels(delivery: Delivery) -> list[str]:
    return [
        i["action"]["label"] for m in delivery.messages for i in (m.get("quickReply") or {}).get("items", [])
    ]


def text(delivery: Delivery) -> str:
    return "\n".join(delivery.texts)


def detail(server: InProcessServer) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    [item] = httpx.get(f"{server.url}/api/consultations", headers=headers).json()["items"]
    found: dict[str, Any] = httpx.get(f"{server.url}/api/consultations/{item['id']}", headers=headers).json()
    return found


def submitted(server: InProcessServer, standin: LineStandIn) -> LineUser:
    user = LineUser(server.url, standin)
    line = LineChannel(user)
    Owner(line).answer_until(None)
    assert "受け付けました" in text(line.last)
    return user


def test_typed_bookings_shows_the_booking_and_moves_it(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = submitted(server, standin)
    [booking] = detail(server)["bookings"]
    was = label_moment(datetime.fromisoformat(booking["starts_at"]))

    shown = user.say(texts.MENU_BOOKINGS)  # what the rich menu's 予約確認 area sends
    assert f"日時：{was}" in text(shown) and "仮のご予約（受付済み・確認待ち）" in text(shown)
    assert labels(shown) == [texts.BOOKING_CANCEL, texts.BOOKING_MOVE, texts.BOOKINGS_BACK]

    times = user.tap(shown, texts.BOOKING_MOVE)
    offered = [label for label in labels(times) if SLOT_LABEL.match(label)]
    assert offered and was not in offered and texts.KEEP_TIME in labels(times)
    moved = user.tap(times, offered[-1])
    assert texts.BOOKING_MOVED in text(moved) and f"日時：{offered[-1]}" in text(moved)
    [after] = detail(server)["bookings"]
    assert after["id"] == booking["id"] and after["status"] == "requested"
    assert label_moment(datetime.fromisoformat(after["starts_at"])) == offered[-1]

    done = user.tap(moved, texts.BOOKINGS_BACK)
    assert texts.BOOKINGS_CLOSED in text(done) and labels(done) == [texts.START_BUTTON]


def test_the_menu_postback_opens_it_and_the_booking_is_cancelled(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = submitted(server, standin)
    shown = user.send(user.postback(MENU_BOOKINGS))
    assert "状況：仮のご予約" in text(shown)
    asked = user.tap(shown, texts.BOOKING_CANCEL)
    assert "キャンセルしますか" in text(asked)
    assert labels(asked) == [texts.BOOKING_CANCEL_YES, texts.BOOKING_CANCEL_NO]
    done = user.tap(asked, texts.BOOKING_CANCEL_YES)
    assert "キャンセルしました" in text(done) and labels(done) == [texts.START_BUTTON]
    found = detail(server)
    assert found["status"] == "withdrawn" and found["bookings"][0]["status"] == "cancelled"

    again = user.say("予約確認")
    assert "いまご確認いただけるご予約はありません" in text(again)


def test_an_owner_with_nothing_booked_is_told_so_and_offered_to_consult(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    shown = user.say(texts.MENU_BOOKINGS)
    assert "いまご確認いただけるご予約はありません" in text(shown) and labels(shown) == [texts.START_BUTTON]
    consent = user.tap(shown, texts.START_BUTTON)
    assert "個人情報" in text(consent)
