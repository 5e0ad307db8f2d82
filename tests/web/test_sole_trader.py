"""A sole trader's own name over HTTP: the simulator and the form store it encrypted, and it is left out
of the clear outputs (the admin list's company_name, the coordinator pane of the simulator)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from bot import texts
from bot.intake import Step
from config import DeskConfig
from handlers.services import Services
from handlers.web.form import FIELD_NAMES, MESSAGES
from storage.crypto import Keyring, generate_key
from tests.owner import Owner
from tests.privacy import find_in_database
from tests.web.test_form import form_token, post_form, valid_fields
from tests.web.test_simulator import Phone

OWNER = "大久保 一蔵"
NO_KEY = Keyring([generate_key()])  # decrypts nothing: with it, only values stored in clear match


def walk_as_sole_trader(phone: Phone) -> None:
    phone.start()
    owner = Owner(phone)
    owner.walk_to(Step.COMPANY, company_kind=texts.COMPANY_KIND_SOLE)
    assert texts.ASK_OWNER_NAME in phone.text
    owner.walk_to(
        Step.SUMMARY,
        company=OWNER,
        contact_name=texts.SAME_AS_OWNER,
        industry="宿泊・飲食",
        municipality="指宿市",
        description="予約の受付をネットでしたい",
        dx_stage="まだこれから",
        method="電話",
        contact="0993-22-3333",
    )
    assert f"{texts.SOLE_TRADER_LABEL}：{OWNER}" in phone.text
    phone.tap(texts.SUBMIT)
    assert "受け付けました" in phone.text


def clear_places(services: Services, keyring: Keyring) -> list[str]:
    """Where the name is stored in clear (found without decrypting anything)."""
    with services.db.session() as session:
        stored = find_in_database(session.connection(), keyring, [OWNER])
        clear = find_in_database(session.connection(), NO_KEY, [OWNER])
    assert stored  # it is there, encrypted
    return clear


def test_a_sole_trader_from_the_simulator_is_not_named_in_clear(
    client: TestClient,
    services: Services,
    keyring: Keyring,
    admin_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    walk_as_sole_trader(Phone(client))
    assert clear_places(services, keyring) == []
    assert caplog.records and OWNER not in caplog.text

    # The coordinators' pane of another browser does not show this owner's card (nor their name)
    feed = TestClient(client.app).get("/sim/api/desk")
    assert feed.json()["cards"] == [] and OWNER not in feed.text
    listing = client.get("/api/consultations", headers=admin_headers)
    [row] = listing.json()["items"]
    assert row["company_name"] is None and OWNER not in listing.text


def test_a_sole_trader_from_the_form_is_not_named_in_clear(
    client: TestClient, services: Services, keyring: Keyring, desk: DeskConfig, admin_headers: dict[str, str]
) -> None:
    page = client.get("/form").text
    assert "個人で屋号なし" in page and "法人・屋号あり" in page and "お名前で結構です" not in page
    token = form_token(client)
    fields = valid_fields(desk, company_kind="sole_trader", company_name=OWNER, contact_name=OWNER)
    assert post_form(client, fields, token).status_code == 200
    assert clear_places(services, keyring) == []
    listing = client.get("/api/consultations", headers=admin_headers)
    [row] = listing.json()["items"]
    assert row["company_name"] is None and row["sole_trader"] is True and OWNER not in listing.text
    detail = client.get(f"/api/consultations/{row['id']}", headers=admin_headers).json()
    assert detail["sole_trader"] is True and detail["answers"]["owner_name"] == OWNER  # the desk's own view


def test_the_form_asks_which_it_is(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    fields = valid_fields(desk)
    del fields["company_kind"]
    response = post_form(client, fields, token)
    assert response.status_code == 400
    assert f"{FIELD_NAMES['company_kind']}：{MESSAGES['company_kind']}" in response.text
    assert "「法人・屋号あり」か「個人で屋号なし」" in MESSAGES["company_kind"]
