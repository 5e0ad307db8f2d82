"""Meeting times through the LINE webhook: real free times as buttons, the date picker, the hold stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

import httpx
import jpholiday

from bot import texts
from bot.intake import Step
from storage.clock import JST
from tests.line.conftest import ADMIN, InProcessServer, LineUser
from tests.line.standin import Delivery, LineStandIn
from tests.owner import LineChannel, Owner

SLOT_LABEL = re.compile(r"^(\d{1,2})/(\d{1,2})\(([月火水木金土日])(・祝)?\) (\d{2}):(\d{2})$")


def actions_of(delivery: Delivery) -> list[dict]:
    return [i["action"] for m in delivery.messages for i in (m.get("quickReply") or {}).get("items", [])]


def slot_days(delivery: Delivery, today: date) -> list[date]:
    """The days of the slot buttons, each checked against its weekday and holiday mark."""
    days = []
    for action in actions_of(delivery):
        found = SLOT_LABEL.match(action["label"])
        if not found:
            continue
        month, dom = int(found[1]), int(found[2])
        day = date(today.year + (month < today.month), month, dom)
        assert "月火水木金土日"[day.weekday()] == found[3], action["label"]
        assert bool(found[4]) == jpholiday.is_holiday(day), action["label"]
        assert not ((month, dom) >= (12, 29) or (month, dom) <= (1, 3)), (
            f"{action['label']} is in the closure"
        )
        days.append(day)
    return days


def to_method_step(user: LineUser) -> Delivery:
    last = user.send(user.event("follow", follow={"isUnblocked": False}))
    line = LineChannel(user, user.tap(last, texts.START_BUTTON))
    Owner(line).walk_to(
        Step.METHOD,
        company="有限会社みなみ商店",
        contact_name="南 一郎",
        industry="卸売・小売業",
        municipality="鹿屋",
        description="ネットショップを始めたいです。",
    )
    return line.last


def test_an_online_meeting_is_offered_real_times_and_the_picker_and_ends_held(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    today = datetime.now(JST).date()
    offered = user.tap(to_method_step(user), "オンライン（Zoom等）")

    days = slot_days(offered, today)
    assert 1 <= len(days) <= 5 and len(set(days)) == len(days), "up to five times, on different days"
    assert all(day > today for day in days), "from the next business day on"
    labels = [a["label"] for a in actions_of(offered)]
    assert texts.OTHER_TIME in labels and texts.DECIDE_LATER in labels
    [picker] = [a for a in actions_of(offered) if a["label"] == texts.OTHER_TIME]
    assert picker["type"] == "datetimepicker" and picker["mode"] == "datetime"
    assert picker["min"] < picker["max"]

    # 他の日時: the owner picks a moment a week and a half ahead; the nearest free times follow.
    wanted = datetime.combine(today + timedelta(days=10), datetime.min.time(), JST).replace(hour=13)
    around = user.send(user.postback(picker["data"], {"datetime": wanted.strftime("%Y-%m-%dT%H:%M")}))
    near = slot_days(around, today)
    assert near and min(abs((day - wanted.date()).days) for day in near) <= 3
    chosen = next(a["label"] for a in actions_of(around) if SLOT_LABEL.match(a["label"]))
    asked = user.tap(around, chosen)
    assert "電話番号" in "\n".join(asked.texts)

    summary = user.say("099-000-1234")
    assert chosen in "\n".join(summary.texts)
    done = user.tap(summary, texts.SUBMIT)
    assert "受け付けました" in done.texts[0]

    headers = {"Authorization": f"Bearer {ADMIN}"}
    [item] = httpx.get(f"{server.url}/api/consultations", headers=headers).json()["items"]
    detail = httpx.get(f"{server.url}/api/consultations/{item['id']}", headers=headers).json()
    [booking] = detail["bookings"]
    starts = datetime.fromisoformat(booking["starts_at"])
    assert booking["status"] == "requested" and booking["method"] == "online"
    assert chosen.endswith(f"{starts:%H:%M}") and chosen.startswith(f"{starts.month}/{starts.day}(")


def test_the_date_picker_opens_at_the_first_working_hour_not_at_midnight(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    today = datetime.now(JST).date()
    offered = user.tap(to_method_step(user), "オンライン（Zoom等）")

    # The stand-in accepted the picker (it refuses an initial value outside min and max).
    [picker] = [a for a in actions_of(offered) if a["label"] == texts.OTHER_TIME]
    assert picker["min"] <= picker["initial"] <= picker["max"]
    assert picker["min"].endswith("T00:00") and not picker["initial"].endswith("T00:00")
    # The only coordinator who takes this request (the first category, online, from 鹿屋) starts at 10:00: the
    # picker opens there, on the day of the first time offered, so 決定 at once asks for a time that exists.
    first = min(slot_days(offered, today))
    assert picker["initial"] == f"{first:%Y-%m-%d}T10:00"
    around = user.send(user.postback(picker["data"], {"datetime": picker["initial"]}))
    assert f"{first.month}/{first.day}({'月火水木金土日'[first.weekday()]}) 10:00" in [
        a["label"] for a in actions_of(around)
    ]
