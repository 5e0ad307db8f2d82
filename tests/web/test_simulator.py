"""The browser simulator over HTTP: the page, its static files and its JSON API driving the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from config import DeskConfig
from handlers.app import create_app
from handlers.services import Services
from storage.clock import FixedClock
from storage.database import Database
from tests.conftest import make_settings
from tests.owner import Owner, Shown


class Phone:
    """An owner's phone in the simulator: say something, tap a chip, read the bot's replies."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.replies: list[dict[str, Any]] = []
        self.last: dict[str, Any] = {}

    def start(self) -> list[dict[str, Any]]:
        response = self.client.post("/sim/api/start")
        assert response.status_code == 200
        self.replies = response.json()["messages"]
        return self.replies

    def send(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.client.post("/sim/api/message", json=payload)
        assert response.status_code == 200, response.text
        self.last = response.json()
        self.replies = self.last["messages"]
        return self.replies

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.send({"kind": "text", "text": text})

    def chip(self, label: str) -> dict[str, Any]:
        chips = [a for a in self.replies[-1]["actions"] if a["type"] == "button"] if self.replies else []
        found = [a for a in chips if a["label"] == label]
        assert found, f"no chip {label!r} in {[a['label'] for a in chips]}"
        return found[0]

    def tap(self, label: str) -> list[dict[str, Any]]:
        chip = self.chip(label)
        return self.send({"kind": "postback", "data": chip["data"], "text": chip["display"]})

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.replies)

    def shown(self) -> Shown:
        """The last turn as the scripted owner (tests/owner.py) reads it: the chips are the last reply's."""
        chips = [a for a in self.replies[-1]["actions"] if a["type"] == "button"] if self.replies else []
        return Shown(tuple(m["text"] for m in self.replies), tuple((a["label"], a["data"]) for a in chips))


def to_meeting_times(phone: Phone, company: str = "霧島テスト製作所") -> None:
    """Answers every question up to the meeting times of an online consultation."""
    phone.start()
    owner = Owner(phone)
    owner.walk_to(Step.CONSENT)
    assert "個人情報" in phone.text
    owner.walk_to(Step.COMPANY_KIND)
    assert texts.ASK_COMPANY_KIND in phone.text
    owner.walk_to(Step.COMPANY)
    assert texts.ASK_COMPANY in phone.text
    owner.walk_to(
        Step.SLOT,
        company=company,
        contact_name="鹿児島 花子",
        municipality="国分",
        employees="6〜20人",
        category="業務効率化（会計・勤怠等）",
        description="紙の注文書をやめて、受発注を効率化したい。\n在庫の管理も見直したいです。",
    )
    assert "ご都合のよい日時" in phone.text  # the simulator offers the same slots as LINE


def complete_intake(phone: Phone, company: str = "霧島テスト製作所") -> dict[str, Any]:
    """Walks one whole intake from 「相談したい」 to 送信; returns the last response."""
    to_meeting_times(phone, company)
    slot = phone.replies[-1]["actions"][0]
    assert slot["type"] == "button" and ":" in slot["label"]
    phone.tap(slot["label"])
    phone.say("099-123-4567 hanako@example.jp")
    assert "ご入力内容をご確認ください" in phone.text
    assert "霧島市" in phone.text
    phone.tap(texts.SUBMIT)
    assert "受け付けました" in phone.text
    return phone.last


def test_page_is_a_chat_with_the_desk_name(client: TestClient, desk: DeskConfig) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert desk.desk.name in response.text
    assert "コーディネーター（Slack）" in response.text
    assert '<script src="/static/simulator.js"></script>' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_static_files_are_served_from_the_package(client: TestClient) -> None:
    script = client.get("/static/simulator.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/sim/api/message" in script.text
    assert "innerHTML" not in script.text
    style = client.get("/static/simulator.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    for name in ("missing.js", "..%2Fsimulator.py", ".hidden.css", "simulator.html"):
        assert client.get(f"/static/{name}").status_code == 404


def test_whole_intake_ends_in_a_consultation_in_the_admin_api(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    last = complete_intake(Phone(client))
    assert last["consultation_id"]

    items = client.get("/api/consultations", headers=admin_headers).json()["items"]
    [item] = [i for i in items if i["id"] == last["consultation_id"]]
    assert item["company_name"] == "霧島テスト製作所"
    assert item["municipality"] == "霧島市"
    assert item["channel"] == "simulator"
    assert item["status"] == "submitted"
    assert item["reference"] in "\n".join(m["text"] for m in last["messages"])
    assert client.get("/api/consultations").status_code == 401


def test_a_sticker_gets_a_friendly_re_prompt_and_the_question_again(client: TestClient) -> None:
    phone = Phone(client)
    phone.start()
    Owner(phone).walk_to(Step.COMPANY)
    phone.send({"kind": "sticker"})
    assert texts.NON_TEXT_TYPED in phone.text
    assert texts.ASK_COMPANY in phone.text
    phone.say("桜島商店")
    assert texts.ASK_CONTACT_NAME in phone.text


def test_a_button_from_an_earlier_question_is_recognised_as_stale(client: TestClient) -> None:
    phone = Phone(client)
    phone.start()
    owner = Owner(phone)
    owner.walk_to(Step.CONSENT)
    consent = phone.chip(texts.CONSENT_YES)
    owner.walk_to(Step.CONTACT_NAME, company="桜島商店")
    phone.send({"kind": "postback", "data": consent["data"], "text": consent["display"]})
    assert texts.STALE_BUTTON in phone.text
    assert texts.ASK_CONTACT_NAME in phone.text


def test_history_restores_the_chat_and_its_open_quick_replies(client: TestClient) -> None:
    phone = Phone(client)
    phone.start()
    Owner(phone).walk_to(Step.INDUSTRY, company="桜島商店", contact_name="鹿児島 太郎")

    history = client.get("/sim/api/history").json()
    directions = [m["direction"] for m in history["messages"]]
    assert directions[0] == "out" and directions[-1] == "out"
    said = [m["text"] for m in history["messages"] if m["direction"] == "in"]
    assert said == ["相談したい", texts.CONSENT_YES, texts.COMPANY_KIND_COMPANY, "桜島商店", "鹿児島 太郎"]
    assert texts.ASK_INDUSTRY in history["messages"][-1]["text"]
    assert "製造業" in [a["label"] for a in history["actions"]]
    assert all(len(m["time"]) == 5 for m in history["messages"])

    stranger = TestClient(client.app)
    assert stranger.get("/sim/api/history").json() == {"messages": [], "actions": []}


def test_history_restores_a_chat_waiting_on_the_meeting_time(client: TestClient) -> None:
    phone = Phone(client)
    to_meeting_times(phone)
    offered = [a["label"] for a in phone.replies[-1]["actions"]]

    response = client.get("/sim/api/history")  # the page reloaded while the times are on screen
    assert response.status_code == 200
    assert [a["label"] for a in response.json()["actions"]] == offered
    phone.replies = [{"actions": response.json()["actions"], "text": ""}]
    phone.tap(offered[0])  # a restored button still holds the time
    assert "電話番号" in phone.text


def test_history_keeps_only_the_latest_messages(client: TestClient) -> None:
    phone = Phone(client)
    phone.start()
    for _ in range(20):
        phone.send({"kind": "sticker"})
    history = client.get("/sim/api/history").json()
    assert len(history["messages"]) == 30
    assert history["messages"][-1]["direction"] == "out"
    assert history["actions"][0]["label"] == texts.START_BUTTON


def test_history_has_no_quick_replies_after_submission(client: TestClient) -> None:
    complete_intake(Phone(client))
    history = client.get("/sim/api/history").json()
    assert "受け付けました" in history["messages"][-1]["text"]
    assert history["actions"] == []


def test_the_coordinators_pane_shows_each_browser_its_own_requests_cards(client: TestClient) -> None:
    assert client.get("/sim/api/desk").json()["cards"] == []
    complete_intake(Phone(client), company="第一商店")
    other = TestClient(client.app)
    complete_intake(Phone(other), company="第二商店")

    mine = client.get("/sim/api/desk")
    [card] = mine.json()["cards"]
    assert card["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": f"新しいご相談 {card['reference']}"},
    }
    assert "第一商店" in mine.text and "第二商店" not in mine.text
    for personal in ("099-123-4567", "hanako@example.jp"):  # behind 連絡先を見る, as in Slack
        assert personal not in mine.text
    theirs = other.get("/sim/api/desk").json()["cards"]
    assert [c["reference"] for c in theirs] != [card["reference"]] and "第二商店" in str(theirs)


def test_a_date_picker_answer_is_logged_and_answered(client: TestClient) -> None:
    phone = Phone(client)
    phone.start()
    start = phone.chip(texts.START_BUTTON)
    phone.send(
        {
            "kind": "postback",
            "data": start["data"],
            "text": "2026/12/01 10:00",
            "params": {"datetime": "2026-12-01T10:00"},
        }
    )
    assert "個人情報" in phone.text
    said = [m["text"] for m in client.get("/sim/api/history").json()["messages"] if m["direction"] == "in"]
    assert said == ["2026/12/01 10:00"]


def test_malformed_messages_are_refused_without_a_server_error(client: TestClient) -> None:
    client.post("/sim/api/start")
    bad_bodies: list[Any] = [
        {"kind": "bogus", "text": "x"},
        {"kind": "text", "text": "x" * 5001},
        {"kind": "postback", "data": "x" * 301},
        {"kind": "postback", "data": "a", "params": {str(n): "v" for n in range(5)}},
        {"kind": "postback", "data": "a", "params": {"datetime": "x" * 41}},
        ["not", "an", "object"],
    ]
    for body in bad_bodies:
        assert client.post("/sim/api/message", json=body).status_code == 422
    assert (
        client.post(
            "/sim/api/message", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/sim/api/message",
            content=b"text=hi",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ).status_code
        == 422
    )


def test_an_over_long_visitor_cookie_is_replaced(client: TestClient) -> None:
    client.cookies.set("madoguchi_sim", "x" * 65)
    response = client.post("/sim/api/start")
    assert response.status_code == 200
    assert len(response.cookies["madoguchi_sim"]) < 65


def test_no_simulator_outside_demo_mode(
    database_url: str, db: Database, desk: DeskConfig, clock: FixedClock, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, MADOGUCHI_DEMO=False)
    services = Services(settings=settings, desk=desk, db=db, clock=clock, engine=IntakeEngine(desk, clock))
    with TestClient(create_app(services)) as client:
        assert client.get("/").status_code == 404
        assert client.post("/sim/api/start").status_code == 404
        assert client.get("/sim/api/desk").status_code == 404
        assert client.get("/form").status_code == 200
