"""The web intake form over HTTP: CSRF, validation that keeps what was typed, and the stored consultation."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from config import DeskConfig
from handlers.services import Services
from handlers.web.form import CSRF_COOKIE, MESSAGES
from storage.interactions import list_interactions
from storage.models import Consent, Consultation

_HIDDEN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: TestClient) -> str:
    """Opens the form as a browser would and returns the token of its hidden field."""
    response = client.get("/form")
    assert response.status_code == 200
    match = _HIDDEN_TOKEN.search(response.text)
    assert match
    return match.group(1)


def valid_fields(desk: DeskConfig, **changes: str) -> dict[str, str]:
    fields = {
        "company_kind": "company",
        "company_name": "有限会社さつま食品",
        "contact_name": "薩摩 次郎",
        "industry": "E",
        "municipality": "46218",
        "employees": "6_20",
        "category": "ec_sales",
        "category2": "web_sns",
        "description": "ネットショップを始めたいです。\r\n何から準備すればよいか教えてください。",
        "dx_stage": "considering",
        "method": "onsite",
        "phone": "0995-12-3456",
        "email": "jiro@example.jp",
        "consent": "yes",
        "notice_version": desk.privacy_notice.version,
    }
    fields.update(changes)
    return fields


def post_form(client: TestClient, fields: dict[str, str], token: str | None = None) -> Any:
    body = dict(fields)
    if token is not None:
        body["csrf_token"] = token
    return client.post("/form", data=body)


def test_form_has_a_token_in_cookie_and_field_and_every_question(
    client: TestClient, desk: DeskConfig
) -> None:
    response = client.get("/form")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    token = _HIDDEN_TOKEN.search(response.text)
    assert token and token.group(1) == response.cookies[CSRF_COOKIE]
    assert len(token.group(1)) >= 32
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert page.count("<optgroup") == len(desk.areas)
    for m in desk.municipalities:
        assert f'<option value="{m.code}">{m.name}</option>' in page
    for kind in ("industries", "employee_bands", "categories", "dx_stages", "methods"):
        for choice in getattr(desk, kind):
            assert f'value="{choice.id}"' in page
    assert html.escape(desk.privacy_notice.text.splitlines()[0], quote=False) in page
    assert 'type="checkbox" id="consent" name="consent"' in page
    assert 'maxlength="1000"' in page


def test_the_token_survives_reopening_the_form(client: TestClient) -> None:
    assert form_token(client) == form_token(client)


def test_post_without_a_token_is_refused(client: TestClient, desk: DeskConfig) -> None:
    form_token(client)
    response = post_form(client, valid_fields(desk))
    assert response.status_code == 400
    assert "送信を確認できませんでした" in response.text
    assert 'href="/form"' in response.text


def test_post_with_a_mismatched_token_or_no_cookie_is_refused(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    assert post_form(client, valid_fields(desk), token="A" * 43).status_code == 400
    client.cookies.clear()
    response = post_form(client, valid_fields(desk), token=token)
    assert response.status_code == 400
    assert "送信を確認できませんでした" in response.text


def test_invalid_fields_show_the_form_again_with_messages_and_values(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    token = form_token(client)
    fields = valid_fields(
        desk,
        company_name="<b>ガラス工房</b>",
        contact_name="",
        email="not-an-email",
        phone="",
        description="あ" * 1001,
        consent="",
    )
    response = post_form(client, fields, token)
    assert response.status_code == 400
    page = response.text
    assert MESSAGES["summary"] in page
    summary = page[page.index(MESSAGES["summary"]) : page.index("</ul>")]
    order = [summary.index(MESSAGES[key]) for key in ("contact_name", "email", "consent")]
    assert order == sorted(order)  # in the order of the form
    assert MESSAGES["contact_name"] in page
    assert MESSAGES["email"] in page
    assert MESSAGES["consent"] in page
    assert "1,000文字以内" in page and "いま1,001文字" in page
    assert "&lt;b&gt;ガラス工房&lt;/b&gt;" in page and "<b>ガラス工房" not in page
    assert 'value="not-an-email"' in page
    assert '<option value="46218" selected>霧島市</option>' in page
    assert '<option value="web_sns" selected>' in page
    assert 'value="onsite" checked' in page
    assert ">" + "あ" * 1001 + "</textarea>" in page
    assert 'id="contact_name-error"' in page and 'aria-invalid="true"' in page
    assert _HIDDEN_TOKEN.search(page).group(1) == token  # type: ignore[union-attr]
    with services.db.session() as session:
        assert session.scalars(select(Consultation)).first() is None


def test_a_valid_form_becomes_a_web_consultation(
    client: TestClient, desk: DeskConfig, services: Services, admin_headers: dict[str, str]
) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk), token)
    assert response.status_code == 200
    assert "受け付けました" in response.text
    reference = re.search(r'class="reference">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    assert reference.startswith("202611-")
    assert "2営業日以内に" in response.text

    items = client.get("/api/consultations", headers=admin_headers).json()["items"]
    [item] = [i for i in items if i["reference"] == reference]
    assert item["channel"] == "web"
    assert item["company_name"] == "有限会社さつま食品"
    assert item["municipality"] == "霧島市"
    assert item["category_id"] == "ec_sales"
    assert item["method_id"] == "onsite"
    detail = client.get(f"/api/consultations/{item['id']}", headers=admin_headers).json()
    assert detail["answers"]["phone"] == "0995-12-3456"
    assert detail["answers"]["email"] == "jiro@example.jp"
    assert detail["answers"]["contact_name"] == "薩摩 次郎"
    assert (
        detail["answers"]["description"]
        == "ネットショップを始めたいです。\n何から準備すればよいか教えてください。"
    )
    assert detail["category_secondary"] == "ホームページ・SNS・Web集客"

    with services.db.session() as session:
        consultation = session.get(Consultation, item["id"])
        assert consultation is not None
        assert consultation.contact.channel == "web"
        consent = session.scalars(select(Consent).where(Consent.contact_id == consultation.contact_id)).one()
        assert consent.accepted and consent.notice_version == desk.privacy_notice.version
        log = list_interactions(session=session, contact_id=consultation.contact_id)
        assert [(r.channel, r.direction) for r in log] == [("web", "in"), ("web", "out")]
        assert all(r.consultation_id == consultation.id for r in log)
        assert "有限会社さつま食品" in (log[0].text or "")
        assert reference in (log[1].text or "")


def test_sending_the_same_page_again_is_refused(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    token = form_token(client)
    assert post_form(client, valid_fields(desk), token).status_code == 200
    again = post_form(client, valid_fields(desk), token)
    assert again.status_code == 400
    assert "すでに完了しています" in again.text
    with services.db.session() as session:
        assert len(session.scalars(select(Consultation)).all()) == 1


def test_an_unknown_municipality_code_is_a_clear_error(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk, municipality="99999"), token)
    assert response.status_code == 400
    assert MESSAGES["municipality"] in response.text


def test_unknown_choices_and_missing_fields_are_clear_errors(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    response = client.post(
        "/form",
        data={
            "csrf_token": token,
            "industry": "ZZ",
            "method": "<x>",
            "category2": "nope",
            "notice_version": desk.privacy_notice.version,
        },
    )
    assert response.status_code == 400
    for key in (
        "company_kind",
        "company_name",
        "contact_name",
        "industry",
        "municipality",
        "employees",
        "category",
        "category2",
        "description",
        "dx_stage",
        "method",
        "contact_missing",
        "consent",
    ):
        assert MESSAGES[key] in response.text, key


def test_the_second_category_must_differ_from_the_first(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk, category="subsidy", category2="subsidy"), token)
    assert response.status_code == 400
    assert MESSAGES["category2_same"] in response.text


def test_one_way_to_reach_the_owner_is_enough(
    client: TestClient, desk: DeskConfig, admin_headers: dict[str, str]
) -> None:
    token = form_token(client)
    assert (
        post_form(client, valid_fields(desk, email="", phone="０９９−２２２−３３３３"), token).status_code
        == 200
    )
    token = form_token(client)
    assert post_form(client, valid_fields(desk, phone="", email="only@example.jp"), token).status_code == 200
    token = form_token(client)
    response = post_form(client, valid_fields(desk, phone="12", email=""), token)
    assert response.status_code == 400
    assert MESSAGES["phone"] in response.text
    token = form_token(client)
    response = post_form(client, valid_fields(desk, phone="", email=""), token)
    assert response.status_code == 400
    assert MESSAGES["contact_missing"] in response.text


def test_line_breaks_count_once_as_the_browser_counts_them(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    description = ("あ" * 99 + "\r\n") * 10  # 1,000 characters in the browser, 1,010 bytes of text sent
    assert post_form(client, valid_fields(desk, description=description), token).status_code == 200


def test_emoji_only_names_are_refused(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk, company_name="😀😀"), token)
    assert response.status_code == 400
    assert MESSAGES["emoji_only"] in response.text


def test_a_changed_privacy_notice_asks_for_consent_again(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk, notice_version="2000-01"), token)
    assert response.status_code == 400
    assert MESSAGES["notice_changed"] in response.text


def test_control_characters_are_dropped(
    client: TestClient, desk: DeskConfig, admin_headers: dict[str, str]
) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk, company_name="さつま\x00食品\x07"), token)
    assert response.status_code == 200
    items = client.get("/api/consultations", headers=admin_headers).json()["items"]
    assert items[-1]["company_name"] == "さつま食品"


def test_malformed_requests_get_a_4xx_page_never_a_5xx(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    huge = post_form(client, valid_fields(desk, description="あ" * 100_000), token)
    assert huge.status_code == 413
    assert "入力内容が長すぎます" in huge.text

    long_but_under_the_cap = post_form(client, valid_fields(desk, company_name="社" * 5_000), token)
    assert long_but_under_the_cap.status_code == 400
    assert "100文字以内" in long_but_under_the_cap.text

    many = {f"field{n}": "x" for n in range(100)} | {"csrf_token": token}
    assert client.post("/form", data=many).status_code == 400

    as_json = client.post("/form", json=valid_fields(desk) | {"csrf_token": token})
    assert as_json.status_code == 400
    multipart = client.post("/form", data={"csrf_token": token}, files={"f": ("a.txt", b"x")})
    assert multipart.status_code == 400
    broken = client.post(
        "/form",
        content=b"\xff\xfe%zz&&==&company_name=%E3",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert broken.status_code == 400
