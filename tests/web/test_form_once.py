"""One web form stores one consultation: the same form posted again (a double click, a second tap on a slow
network, a retry after a lost answer), one post after the other or at once, answers with the thanks page of
the consultation the first stored, and a new form from the same browser is a new request."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config import DeskConfig
from handlers.app import create_app
from handlers.services import Services
from handlers.web.form import CSRF_COOKIE
from storage.bookings import Booking
from storage.interactions import Interaction
from storage.models import Consultation
from tests.web.test_form import carried, form_token, offered, post_form, reference_of, to_times, valid_fields

POSTS = 4  # at once: a double click, and a couple of impatient taps more


def answer_lost(client: TestClient, token: str) -> None:
    """The browser still holds the form's token: the answer to its post (with a new one) never reached it."""
    client.cookies.set(CSRF_COOKIE, token, domain="testserver.local", path="/form")  # as the server sets it


def count(services: Services, model: type[Any]) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_same_form_posted_twice_stores_one_consultation(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    token = form_token(client)
    first = post_form(client, valid_fields(desk), token)
    answer_lost(client, token)
    second = post_form(client, valid_fields(desk), token)
    assert first.status_code == second.status_code == 200
    assert "受け付けました" in second.text
    assert reference_of(second.text) == reference_of(first.text)
    assert count(services, Consultation) == 1
    assert count(services, Interaction) == 2  # the form and the thanks, once: the coordinators' one card


def test_the_same_time_chosen_twice_is_one_booking_and_the_same_thanks(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    _, page = to_times(client, desk)
    value, label = offered(page)[0]
    fields = carried(page) | {"slot": value, "action": "submit"}
    first = client.post("/form", data=fields)
    answer_lost(client, fields["csrf_token"])
    second = client.post("/form", data=fields)
    assert first.status_code == second.status_code == 200  # not 409: the owner's own post took the time
    assert reference_of(second.text) == reference_of(first.text)
    assert f"ご希望の日時：{label}（仮予約）" in second.text
    assert "仮のご予約です" in second.text
    assert count(services, Consultation) == 1
    with services.db.session() as session:
        [booking] = session.scalars(select(Booking)).all()
        assert booking.status == "requested" and booking.consultation_id is not None


def test_a_new_form_from_the_same_browser_is_a_new_request(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    token = form_token(client)
    first = post_form(client, valid_fields(desk), token)
    answer_lost(client, token)  # the owner opens the form again, not knowing the first was received
    again = form_token(client)
    assert again != token
    other = post_form(client, valid_fields(desk, description="補助金の申請について相談したいです。"), again)
    assert other.status_code == 200
    assert reference_of(other.text) != reference_of(first.text)
    answer_lost(client, token)  # and the first page, sent again, is still the first request
    assert reference_of(post_form(client, valid_fields(desk), token).text) == reference_of(first.text)
    assert count(services, Consultation) == 2


@pytest.mark.parametrize("time", ["later", "chosen"])
def test_the_same_form_posted_at_once_stores_one_consultation(
    own_services: Services, desk: DeskConfig, time: str
) -> None:
    app = create_app(own_services)
    with TestClient(app) as browser:
        if time == "later":
            token = form_token(browser)
            fields = valid_fields(desk) | {"csrf_token": token}
        else:
            _, page = to_times(browser, desk)
            fields = carried(page) | {"slot": offered(page)[0][0], "action": "submit"}
            token = fields["csrf_token"]
    barrier = threading.Barrier(POSTS)
    answers: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        with TestClient(app) as tab:  # one cookie jar each: every post carries the form's token
            answer_lost(tab, token)
            try:
                barrier.wait(timeout=30)
                answers.append(tab.post("/form", data=fields))
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [answer.status_code for answer in answers] == [200] * POSTS
    assert len({reference_of(answer.text) for answer in answers}) == 1
    assert count(own_services, Consultation) == 1
    assert count(own_services, Booking) == (1 if time == "chosen" else 0)
