"""The admin API of DESIGN.md: bearer token, the consultation list and detail, the month filter."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot import texts
from bot.engine import IntakeEngine
from config import DeskConfig
from config.scheduling import CalendarSettings
from handlers.app import create_app
from handlers.services import Services
from scheduling import CalendarService
from storage import database
from storage.clock import JST, FixedClock
from storage.crypto import Keyring
from storage.database import Database
from tests.bot.chat import Chat
from tests.bot.test_intake_flow import to_summary
from tests.scheduling.support import FeedServer
from tests.storage.test_consultation_views import another_key


def submit(desk: DeskConfig, clock: FixedClock, db: Database, user: str) -> None:
    chat = Chat(IntakeEngine(desk, clock), db, user=user)
    to_summary(chat)
    chat.tap(texts.SUBMIT)


def test_without_a_token_the_api_answers_401(client: TestClient) -> None:
    assert client.get("/api/consultations").status_code == 401
    assert client.get("/api/consultations", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/consultations/1", headers={"Authorization": "Basic x"}).status_code == 401


def test_with_no_token_configured_the_api_stays_closed(services: Services) -> None:
    services.settings.madoguchi_admin_token = None
    services.settings.madoguchi_demo = False  # a demo would generate one (test_startup)
    with TestClient(__import__("handlers.app", fromlist=["create_app"]).create_app(services)) as client:
        assert client.get("/api/consultations", headers={"Authorization": "Bearer "}).status_code == 401
        assert client.get("/api/consultations", headers={"Authorization": "Bearer None"}).status_code == 401
    assert services.settings.madoguchi_admin_token is None
    assert not (services.settings.var_dir / "admin.token").exists()


def test_the_list_has_the_contract_fields(
    client: TestClient, admin_headers: dict[str, str], desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    submit(desk, clock, db, "U1")
    body = client.get("/api/consultations", headers=admin_headers).json()
    [item] = body["items"]
    assert item["status"] == "submitted"
    assert item["submitted_at"] == "2026-11-25T10:00:00+09:00"
    assert (item["company_name"], item["municipality"], item["municipality_code"]) == (
        "株式会社さつま製作所",
        "霧島市",
        "46218",
    )
    assert item["region"] == "姶良・伊佐地域振興局"
    assert item["industry"] == "E"
    assert item["method"] == "オンライン(Web会議)" or item["method"]
    assert item["category"] and isinstance(item["id"], int)


def test_the_month_filter_uses_japan_time(
    client: TestClient, admin_headers: dict[str, str], desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    clock.set(datetime(2026, 10, 31, 23, 30, tzinfo=JST))  # 14:30 UTC on the 31st: October in Japan
    submit(desk, clock, db, "U-oct")
    clock.set(datetime(2026, 11, 1, 0, 30, tzinfo=JST))  # still October 31st in UTC
    submit(desk, clock, db, "U-nov")
    october = client.get("/api/consultations?month=2026-10", headers=admin_headers).json()["items"]
    november = client.get("/api/consultations?month=2026-11", headers=admin_headers).json()["items"]
    assert [i["submitted_at"][:10] for i in october] == ["2026-10-31"]
    assert [i["submitted_at"][:10] for i in november] == ["2026-11-01"]
    everything = client.get("/api/consultations", headers=admin_headers).json()["items"]
    assert [i["submitted_at"] for i in everything] == sorted(i["submitted_at"] for i in everything)
    assert client.get("/api/consultations?month=2026-13", headers=admin_headers).status_code == 422
    assert client.get("/api/consultations?month=nope", headers=admin_headers).status_code == 422


def test_the_detail_has_answers_and_history(
    client: TestClient, admin_headers: dict[str, str], desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    submit(desk, clock, db, "U2")
    [item] = client.get("/api/consultations", headers=admin_headers).json()["items"]
    detail = client.get(f"/api/consultations/{item['id']}", headers=admin_headers).json()
    assert detail["answers"]["contact_name"] == "薩摩 花子"
    assert detail["answers"]["phone"] == "099-123-4567"
    assert [h["kind"] for h in detail["history"]] == ["submitted", "booking_requested"]
    [booking] = detail["bookings"]
    assert booking["status"] == "requested" and booking["method"] == "online"
    assert booking["starts_at"].endswith("+09:00") and booking["coordinator_id"]
    assert client.get("/api/consultations/999999", headers=admin_headers).status_code == 404
    assert client.get("/api/consultations/abc", headers=admin_headers).status_code == 422


def test_healthz_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_gone(services: Services, tmp_path: object) -> None:
    services.db = Database(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    with TestClient(__import__("handlers.app", fromlist=["create_app"]).create_app(services)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "error"


def test_healthz_is_503_in_time_when_the_database_server_does_not_answer(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that takes the connection but never answers (hung, or behind a dropped route): the engine
    gives up after its connect timeout (shortened here from 5 s), and the check answers 503."""
    monkeypatch.setattr(database, "CONNECT_TIMEOUT", 1)
    answers: list[Any] = []
    with socket.create_server(("127.0.0.1", 0)) as silent:
        services.db = Database(f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/none")
        client = TestClient(create_app(services))  # (no lifespan: a hung request must not hold its exit)
        # on a thread: without the timeout the check would hang (a failure here, not a hung suite)
        check = threading.Thread(target=lambda: answers.append(client.get("/healthz")), daemon=True)
        check.start()
        check.join(timeout=4)
        assert not check.is_alive(), "the health check still waits for the database after 4 s"
        services.db.dispose()
    [response] = answers
    assert response.status_code == 503 and response.json()["database"] == "error"


def test_healthz_detail_shows_a_failing_calendar_without_failing_the_check(services: Services) -> None:
    feed = FeedServer()
    feed.status = 500
    feed.start()
    try:
        first = services.desk.scheduling.coordinators[0]
        broken = first.model_copy(update={"calendar": CalendarSettings(provider="ics", url=feed.url)})
        scheduling = services.desk.scheduling.model_copy(update={"coordinators": [broken]})
        calendars = CalendarService(scheduling, clock=services.clock)
        services.engine = IntakeEngine(services.desk, services.clock, calendars)
        now = services.clock.now()
        calendars.busy([first.id], now, now + timedelta(days=7))
        with TestClient(create_app(services)) as client:
            plain = client.get("/healthz")
            detailed = client.get("/healthz?detail=1")
    finally:
        feed.stop()
    assert plain.status_code == 200 and plain.json() == {"status": "ok", "database": "ok"}
    assert detailed.status_code == 200
    body = detailed.json()
    assert body["calendars"] == "degraded"
    state = body["detail"]["calendars"][first.id]
    assert state["provider"] == "ics" and state["state"] == "failed" and state["consecutive_failures"] == 1


def test_an_unexpected_error_is_a_500_whose_message_never_reaches_the_log(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(services)
    answer = {"text": "薩摩 花子 090-1234-5678"}

    @app.get("/boom")
    def boom() -> None:
        raise ValueError(answer["text"])  # as a library's message might quote what an owner wrote

    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and response.json() == {"detail": "internal error"}
    assert "ValueError" in caplog.text and "/boom" in caplog.text
    assert "090-1234-5678" not in caplog.text and "薩摩" not in caplog.text


def test_a_row_under_another_key_is_listed_and_shown_as_undecryptable(
    client: TestClient,
    admin_headers: dict[str, str],
    desk: DeskConfig,
    clock: FixedClock,
    db: Database,
    keyring: Keyring,
) -> None:
    with another_key(keyring):
        submit(desk, clock, db, "U-foreign")
    clock.advance(minutes=5)
    submit(desk, clock, db, "U-readable")
    response = client.get("/api/consultations", headers=admin_headers)
    assert response.status_code == 200
    foreign, readable = response.json()["items"]
    assert foreign["company_name"] == readable["company_name"] == "株式会社さつま製作所"
    assert foreign["municipality"] == "霧島市" and foreign["undecryptable"] == []
    assert readable["undecryptable"] == []

    shown = client.get(f"/api/consultations/{foreign['id']}", headers=admin_headers)
    assert shown.status_code == 200
    detail = shown.json()
    assert detail["answers"]["company_name"] == "株式会社さつま製作所"
    assert detail["answers"]["contact_name"] is None and detail["answers"]["description"] is None
    assert detail["undecryptable"] == ["contact_name", "phone", "email", "description"]
    assert detail["municipality"] == "霧島市" and [h["kind"] for h in detail["history"]] == [
        "submitted",
        "booking_requested",
    ]

    fine = client.get(f"/api/consultations/{readable['id']}", headers=admin_headers).json()
    assert fine["answers"]["contact_name"] == "薩摩 花子" and fine["undecryptable"] == []
