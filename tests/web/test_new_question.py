"""A question added to the field registry in one place (tests/new_question.py) appears on the web form with its
label, limit and message, is carried to the times page and read back there, is stored (in `extra`, or encrypted in
`personal_extra`), and is shown by the admin API: a clear one in the list, a personal one only in the detail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config import DeskConfig
from handlers.services import Services
from handlers.web.form import FIELD_NAMES, MESSAGES
from storage.models import Consultation
from tests.new_question import FOUNDED, REFERRER, WEBSITE, decrypted, new_questions, raw_extras
from tests.web.test_form import KIRISHIMA_VISIT, carried, form_token, post_form, valid_fields

NEW = {"founded": "1998年", "has_website": "yes", "referrer": "桜島 一郎"}


@pytest.fixture(autouse=True)
def questions() -> Iterator[None]:
    with new_questions():
        yield


def test_the_form_asks_the_new_questions_with_their_labels_and_limits(client: TestClient) -> None:
    page = client.get("/form").text
    assert FIELD_NAMES["founded"] == FOUNDED.form.label and FIELD_NAMES["referrer"] == REFERRER.form.label
    assert (
        '<label class="title" for="founded">創業された年<span class="badge required">必須</span></label>'
        in page
    )
    assert 'id="founded" name="founded" maxlength="20"' in page
    assert 'id="referrer" name="referrer" maxlength="30"' in page
    assert '<legend class="title" id="has_website-legend">ホームページの有無' in page
    assert (
        'name="has_website" value="yes" id="has_website"' in page and 'name="has_website" value="no"' in page
    )
    # in the registry's order: ご紹介者 after ご担当者, 創業年 and ホームページ after the 取り組み状況
    assert page.index('id="contact_name"') < page.index('id="referrer"') < page.index('id="industry"')
    assert page.index('name="dx_stage"') < page.index('id="founded"') < page.index('id="has_website"')
    assert page.index('id="has_website"') < page.index('name="method"')


def test_a_missing_or_too_long_answer_is_named_with_its_field(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    response = post_form(client, valid_fields(desk, founded="あ" * 21), token)
    assert response.status_code == 400
    assert f'<a href="#founded">{FIELD_NAMES["founded"]}：' in response.text and "いま21文字" in response.text
    assert f"{FIELD_NAMES['has_website']}：{MESSAGES['has_website']}" in response.text
    assert f"{FIELD_NAMES['referrer']}：{MESSAGES['referrer']}" in response.text
    assert 'id="founded-error"' in response.text and 'value="あああ' in response.text  # kept for correcting


def test_the_new_answers_are_stored_and_shown_by_the_admin_api(
    client: TestClient, desk: DeskConfig, services: Services, admin_headers: dict[str, str]
) -> None:
    response = post_form(client, valid_fields(desk, **NEW), form_token(client))
    assert response.status_code == 200, response.text
    with services.db.session() as session:
        [stored] = session.scalars(select(Consultation))
        assert stored.extra == {"founded": "1998年", "has_website": True}
        assert stored.personal_extra == {"referrer": "桜島 一郎"}
    [(extra, token)] = raw_extras(services.db)
    assert extra == {"founded": "1998年", "has_website": True}
    assert token and "桜島" not in token and decrypted(token) == {"referrer": "桜島 一郎"}

    [item] = client.get("/api/consultations", headers=admin_headers).json()["items"]
    assert (item["founded"], item["has_website"]) == ("1998年", True)
    assert "referrer" not in item and "personal_extra" not in item  # personal data: only in the detail
    detail = client.get(f"/api/consultations/{item['id']}", headers=admin_headers).json()
    assert detail["founded"] == "1998年"
    assert detail["answers"]["referrer"] == "桜島 一郎"
    assert "personal_extra" not in detail["answers"] and detail["undecryptable"] == []


def test_the_times_page_carries_and_reads_back_the_new_answers(client: TestClient, desk: DeskConfig) -> None:
    response = post_form(client, valid_fields(desk, **(KIRISHIMA_VISIT | NEW)), form_token(client))
    assert "<h1>ご希望の日時</h1>" in response.text
    page = response.text
    assert {k: carried(page)[k] for k in NEW} == NEW
    assert f"<dt>{FOUNDED.label}</dt><dd>1998年</dd>" in page
    assert f"<dt>{WEBSITE.label}</dt><dd>ある</dd>" in page
    assert f"<dt>{REFERRER.label}</dt><dd>桜島 一郎</dd>" in page
