"""The web intake form over HTTP: CSRF, validation that keeps what was typed, the meeting times (the same as
the chat's, held when chosen), errors that name their field, and the stored consultation."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import texts
from bot.slots import SlotBook, picker_value
from config import DeskConfig
from handlers.services import Services
from handlers.web.form import CSRF_COOKIE, FIELD_NAMES, MESSAGES
from handlers.web.form_times import TIMES_TEXTS
from scheduling import Slot, label_slot, label_slot_range
from storage.bookings import Booking
from storage.clock import JST
from storage.contacts import create_anonymous_contact
from storage.form_submissions import token_after
from storage.interactions import list_interactions
from storage.models import Consent, Consultation
from tests.web.test_simulator import Phone, to_meeting_times

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
        "method": "phone",  # no meeting time: the tests of the times page choose their method
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
    assert 'value="phone" checked' in page
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
    assert item["method_id"] == "phone"
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


def test_sending_the_same_page_again_shows_its_thanks_again_and_stores_nothing(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    token = form_token(client)
    first = post_form(client, valid_fields(desk), token)
    assert first.status_code == 200
    assert client.cookies[CSRF_COOKIE] != token  # the next form is a new request
    again = post_form(client, valid_fields(desk), token)  # a reload, the back button, a second tap
    assert again.status_code == 200
    assert reference_of(again.text) == reference_of(first.text)
    with services.db.session() as session:
        assert len(session.scalars(select(Consultation)).all()) == 1


def test_a_cookie_derived_from_a_token_never_sent_is_refused(client: TestClient, desk: DeskConfig) -> None:
    token = form_token(client)
    client.cookies.set(CSRF_COOKIE, token_after(token), domain="testserver.local", path="/form")
    response = post_form(client, valid_fields(desk), token)
    assert response.status_code == 400
    assert "送信を確認できませんでした" in response.text


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


# The meeting times: the second page, for 来所・訪問・オンライン

_RADIO = re.compile(r'<input type="radio" name="slot" value="([^"]+)"[^>]*> ([^<]+)</label>')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
# 霧島市 + 業務効率化 + 訪問: one coordinator takes it (example-tanaka), so a held time is gone for everyone.
KIRISHIMA_VISIT = {"municipality": "46218", "category": "efficiency", "category2": "", "method": "onsite"}


def offered(page: str) -> list[tuple[str, str]]:
    """The times page's choices as (value, label), 日程は相談して決めたい last."""
    return [(value, html.unescape(label)) for value, label in _RADIO.findall(page)]


def carried(page: str, form_id: str = "intake") -> dict[str, str]:
    """The hidden fields of one form of the page (the answers it carries, the token, the stage)."""
    start = page.index(f'id="{form_id}"')
    form = page[start : page.index("</form>", start)]
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(form)}


def to_times(client: TestClient, desk: DeskConfig, **changes: str) -> tuple[dict[str, str], str]:
    """Answers the first page for a meeting; returns the fields sent and the times page."""
    fields = valid_fields(desk, **(KIRISHIMA_VISIT | changes))
    response = post_form(client, fields, form_token(client))
    assert response.status_code == 200, response.text
    assert "<h1>ご希望の日時</h1>" in response.text
    return fields, response.text


def choose(client: TestClient, page: str, value: str) -> Any:
    """Picks one time on the times page and sends the request, as the browser would."""
    return client.post("/form", data=carried(page) | {"slot": value, "action": "submit"})


def proposed(services: Services, answers: dict[str, str], around: datetime | None = None) -> list[Slot]:
    """The slots the chat's slot step would offer for these answers: the engine's SlotBook, as it calls it."""
    with services.db.session() as session:
        contact = create_anonymous_contact(session=session, channel="line")
        book = SlotBook(session, services.desk, services.engine.calendars, services.clock, contact.id)
        return list(book.propose(answers, around).slots[:11])


def reference_of(page: str) -> str:
    return re.search(r'class="reference">([^<]+)<', page).group(1)  # type: ignore[union-attr]


def test_the_times_are_those_the_chat_offers_for_the_same_answers(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    phone = Phone(client)
    to_meeting_times(phone)  # 国分 → 霧島市, 製造業, 6〜20人, 業務効率化, 特になし, 検討中, オンライン
    chips = [a["label"] for a in phone.replies[-1]["actions"] if a["type"] == "button"]
    assert chips[-1] == texts.DECIDE_LATER
    answers = {"municipality": "46218", "category": "efficiency", "category2": "", "method": "online"}
    slots = proposed(services, answers)
    assert len(slots) == desk.scheduling.rules.proposals
    assert chips[:-1] == [label_slot(s) for s in slots]

    _, page = to_times(client, desk, **answers)
    assert offered(page) == [
        *((picker_value(s.starts_at), label_slot_range(s)) for s in slots),
        ("later", texts.DECIDE_LATER),
    ]
    assert "ご都合のよい日時をお選びください（60分ほど）" in page


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({"municipality": "46201", "category": "efficiency", "method": "onsite"}, id="visit"),
        pytest.param({"municipality": "46201", "category": "subsidy", "method": "visit_desk"}, id="desk"),
        pytest.param({"municipality": "46222", "category": "efficiency", "method": "onsite"}, id="island"),
    ],
)
def test_every_meeting_method_offers_the_slot_books_times(
    client: TestClient, desk: DeskConfig, services: Services, answers: dict[str, str]
) -> None:
    slots = proposed(services, answers)
    assert slots
    _, page = to_times(client, desk, **answers)
    assert offered(page)[:-1] == [(picker_value(s.starts_at), label_slot_range(s)) for s in slots]
    if answers["municipality"] == "46222":  # 奄美市: a visit to the islands takes the coordinator's day
        assert all(s.whole_day for s in slots)
        assert texts.ASK_SLOT_WHOLE_DAY in page


def test_choosing_a_time_holds_it_for_the_consultation(
    client: TestClient, desk: DeskConfig, services: Services, admin_headers: dict[str, str]
) -> None:
    fields, page = to_times(client, desk)
    value, label = offered(page)[-2]  # the last time offered, 12/2(水)
    response = choose(client, page, value)
    assert response.status_code == 200
    assert f"ご希望の日時：{label}（仮予約）" in response.text
    # Provisional until a coordinator confirms it, told where a form owner hears back (not a chat).
    assert (
        "仮のご予約です" in response.text
        and "ご連絡先（お電話またはメール）にお知らせします" in response.text
    )
    assert "このLINEで" not in response.text

    reference = reference_of(response.text)
    [item] = [
        i
        for i in client.get("/api/consultations", headers=admin_headers).json()["items"]
        if i["reference"] == reference
    ]
    assert item["method_id"] == "onsite" and item["municipality"] == "霧島市"
    detail = client.get(f"/api/consultations/{item['id']}", headers=admin_headers).json()
    [booking] = detail["bookings"]
    assert booking["status"] == "requested"
    assert booking["starts_at"] == f"{value}:00+09:00"
    assert booking["coordinator_id"] == "example-tanaka"
    assert booking["method"] == "onsite"
    # As for a request sent from LINE: held to the end of the second business day (Wed 11/25 → Fri 11/27).
    assert booking["hold_expires_at"] == "2026-11-28T00:00:00+09:00"

    with services.db.session() as session:
        [row] = session.scalars(select(Booking)).all()
        assert row.consultation_id == item["id"] and row.contact_id is not None
        log = list_interactions(session=session, contact_id=row.contact_id)
        assert f"ご希望の日時：{label}" in (log[0].text or "")
    # The next owner asking the same is not offered it.
    _, again = to_times(client, desk)
    assert value not in [v for v, _ in offered(again)]


def test_a_time_taken_meanwhile_gives_fresh_times_and_keeps_the_answers(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    fields, page = to_times(client, desk, description="受発注を効率化したい。\r\n在庫も見直したい。")
    first, _ = offered(page)[0]
    with TestClient(client.app) as other:  # another owner, in another browser, takes the same time first
        _, other_page = to_times(other, desk, company_name="霧島商店")
        assert offered(other_page)[0][0] == first
        assert choose(other, other_page, first).status_code == 200

    response = choose(client, page, first)
    assert response.status_code == 409
    taken = response.text
    elements = _Elements()
    elements.feed(taken)
    assert elements.by_id["slot"].get("aria-invalid") == "true"
    assert elements.errors["slot-error"] == f"{FIELD_NAMES['slot']}：{texts.SLOT_TAKEN}"
    assert f'<li><a href="#slot">{FIELD_NAMES["slot"]}：{texts.SLOT_TAKEN}</a></li>' in taken
    fresh = offered(taken)
    assert first not in [v for v, _ in fresh]
    assert [v for v, _ in fresh[:-1]] == [
        picker_value(s.starts_at) for s in proposed(services, KIRISHIMA_VISIT)
    ]
    kept = carried(taken)
    sent = {k: v.replace("\r\n", "\n") for k, v in fields.items()}
    assert {k: kept[k] for k in sent} == sent
    assert "受発注を効率化したい。\n在庫も見直したい。" in taken  # shown back with the other answers
    with services.db.session() as session:
        assert len(session.scalars(select(Consultation)).all()) == 1

    retry = choose(client, taken, fresh[0][0])
    assert retry.status_code == 200
    with services.db.session() as session:
        held = session.scalars(select(Booking).where(Booking.status == "requested")).all()
        assert sorted(b.starts_at.astimezone(JST).strftime("%Y-%m-%dT%H:%M") for b in held) == sorted(
            [first, fresh[0][0]]
        )
        assert len(session.scalars(select(Consultation)).all()) == 2


def test_a_time_never_offered_is_not_held(client: TestClient, desk: DeskConfig, services: Services) -> None:
    _, page = to_times(client, desk)
    response = choose(client, page, "2026-11-26T03:00")  # 3 a.m.: outside every coordinator's hours
    assert response.status_code == 409
    assert texts.SLOT_TAKEN in response.text
    with services.db.session() as session:
        assert session.scalars(select(Booking)).first() is None
        assert session.scalars(select(Consultation)).first() is None


def test_deciding_the_time_later_holds_nothing(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    _, page = to_times(client, desk)
    response = choose(client, page, "later")
    assert response.status_code == 200
    assert TIMES_TEXTS["later_note"] in response.text
    with services.db.session() as session:
        assert session.scalars(select(Booking)).first() is None
        [consultation] = session.scalars(select(Consultation)).all()
        log = list_interactions(session=session, contact_id=consultation.contact_id)
        assert f"ご希望の日時：{texts.SLOT_LATER_SUMMARY}" in (log[0].text or "")


def test_sending_the_times_page_without_a_choice_names_the_field(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    _, page = to_times(client, desk)
    response = client.post("/form", data=carried(page) | {"action": "submit"})
    assert response.status_code == 400
    message = TIMES_TEXTS["slot"].format(later=texts.DECIDE_LATER)
    assert f'<li><a href="#slot">{FIELD_NAMES["slot"]}：{message}</a></li>' in response.text
    assert offered(response.text) == offered(page)
    with services.db.session() as session:
        assert session.scalars(select(Consultation)).first() is None


def test_another_day_shows_the_times_around_it(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    _, page = to_times(client, desk)
    search = carried(page, "search")
    response = client.post("/form", data=search | {"around": "2026-12-10", "action": "search"})
    assert response.status_code == 200
    noon = datetime.combine(date(2026, 12, 10), time(12), tzinfo=JST)
    slots = proposed(services, KIRISHIMA_VISIT, around=noon)
    assert offered(response.text)[:-1] == [(picker_value(s.starts_at), label_slot_range(s)) for s in slots]
    assert slots[0].starts_at.astimezone(JST).date().isoformat() == "2026-12-10"
    assert "12/10(木)の前後の空き日時です。" in response.text
    assert 'value="2026-12-10"' in response.text

    broken = client.post("/form", data=search | {"around": "12月10日", "action": "search"})
    assert broken.status_code == 400
    assert f'<a href="#around">{FIELD_NAMES["around"]}：{TIMES_TEXTS["around"]}</a>' in broken.text


def test_no_coordinator_for_the_answers_says_so_and_offers_online(
    client: TestClient, desk: DeskConfig, services: Services, admin_headers: dict[str, str]
) -> None:
    # 霧島市 + ネット販売 + 訪問: nobody takes it; the page does not pretend the calendar is full.
    _, page = to_times(client, desk, category="ec_sales")
    assert TIMES_TEXTS["no_coordinator"].format(later=texts.DECIDE_LATER).split("\n")[0] in page
    assert "空きが見つかりませんでした" not in page
    assert offered(page) == [("later", texts.DECIDE_LATER)]
    assert 'value="later" id="slot" checked' in page

    online = client.post("/form", data=carried(page, "online") | {"action": "online"})
    assert online.status_code == 200
    answers = {"municipality": "46218", "category": "ec_sales", "method": "online"}
    slots = proposed(services, answers)
    assert slots
    assert offered(online.text)[:-1] == [(picker_value(s.starts_at), label_slot_range(s)) for s in slots]
    assert carried(online.text)["method"] == "online"
    sent = choose(client, online.text, offered(online.text)[0][0])
    assert sent.status_code == 200
    items = client.get("/api/consultations", headers=admin_headers).json()["items"]
    assert [i["method_id"] for i in items] == ["online"]


def test_editing_from_the_times_page_shows_every_answer_again(client: TestClient, desk: DeskConfig) -> None:
    fields, page = to_times(client, desk)
    response = client.post("/form", data=carried(page, "edit") | {"action": "edit"})
    assert response.status_code == 200
    edit = response.text
    assert "<h1>ご相談のお申し込み</h1>" in edit and 'class="summary"' not in edit
    assert 'value="有限会社さつま食品"' in edit
    assert '<option value="46218" selected>霧島市</option>' in edit
    assert 'value="onsite" checked' in edit
    assert 'name="consent" value="yes" checked' in edit
    assert "日時の選択へ進む" in edit


def test_phone_and_email_need_no_time(client: TestClient, desk: DeskConfig, services: Services) -> None:
    for method in ("phone", "email"):
        response = post_form(client, valid_fields(desk, method=method), form_token(client))
        assert response.status_code == 200
        assert "<h1>受け付けました</h1>" in response.text
    with services.db.session() as session:
        assert session.scalars(select(Booking)).first() is None


# What every page shows once


class _Elements(HTMLParser):
    """Every element's attributes by id, and the text of each link and error line."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.described: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.errors: dict[str, str] = {}
        self.labels: dict[str, str] = {}  # by the field a label is for, or by a legend's id
        self._open: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            assert values["id"] not in self.by_id, f"two elements with id {values['id']!r}"
            self.by_id[values["id"]] = {"tag": tag, **values}
        self.described.update(values.get("aria-describedby", "").split())
        if tag == "a" and values.get("href", "").startswith("#"):
            self._open, self._text = ("a", values["href"][1:]), []
        elif tag == "p" and values.get("class") == "error":
            self._open, self._text = ("error", values["id"]), []
        elif tag == "label" and "for" in values:
            self._open, self._text = ("label", values["for"]), []
        elif tag == "legend":
            self._open, self._text = ("label", values["id"]), []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("a", "p", "label", "legend"):
            kind, key = self._open
            text = "".join(self._text).strip()
            if kind == "a":
                self.links.append((key, text))
            elif kind == "error":
                self.errors[key] = text
            else:
                self.labels[key] = text
            self._open = None


def test_each_error_names_its_field_links_to_it_and_marks_it_invalid(
    client: TestClient, desk: DeskConfig
) -> None:
    token = form_token(client)
    response = client.post(
        "/form",
        data={
            "csrf_token": token,
            "company_name": "😀",
            "industry": "ZZ",
            "phone": "12",
            "email": "not-an-email",
            "notice_version": desk.privacy_notice.version,
        },
    )
    assert response.status_code == 400
    page = _Elements()
    page.feed(response.text)
    expected = [
        "company_kind", "company_name", "contact_name", "industry", "employees", "municipality",
        "category", "description", "dx_stage", "method", "phone", "email", "consent",
    ]  # fmt: skip
    assert [key for key, _ in page.links] == expected  # in the order of the form
    for key, text in page.links:
        name = FIELD_NAMES[key]
        assert text.startswith(f"{name}："), text  # 「電話番号：…」
        assert page.errors[f"{key}-error"] == text
        target = page.by_id[key]
        assert target["tag"] in ("input", "select", "textarea"), key
        assert target.get("aria-invalid") == "true", key
        assert f"{key}-error" in page.described, key
    assert dict(page.links)["phone"] == f"電話番号：{MESSAGES['phone']}"
    assert dict(page.links)["company_name"] == f"{FIELD_NAMES['company_name']}：{MESSAGES['emoji_only']}"
    for key in expected:  # each name is the one its label shows
        label = page.labels.get(key) or page.labels[f"{key}-legend"]
        assert label.startswith(FIELD_NAMES[key]), (key, label)


def test_the_reference_is_shown_once(client: TestClient, desk: DeskConfig, services: Services) -> None:
    response = post_form(client, valid_fields(desk), form_token(client))
    assert response.status_code == 200
    reference = reference_of(response.text)
    assert response.text.count(reference) == 1
    assert "2営業日以内に" in response.text
    _, page = to_times(client, desk)
    held = choose(client, page, offered(page)[0][0])
    assert held.text.count(reference_of(held.text)) == 1
    with services.db.session() as session:  # the chat's wording, with the reference, is what was logged
        for consultation in session.scalars(select(Consultation)):
            [*_, out] = list_interactions(session=session, contact_id=consultation.contact_id)
            assert f"受付番号：{consultation.reference}" in (out.text or "")


def test_the_favicon_is_the_desks_mark_linked_from_the_form_and_the_simulator(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and len(icon.content) < 1024
    link = '<link rel="icon" href="/favicon.ico" type="image/svg+xml">'
    assert link in client.get("/form").text
    assert link in client.get("/").text


def test_an_answer_with_nothing_visible_is_refused_and_invisible_edges_are_dropped(
    client: TestClient, desk: DeskConfig, services: Services
) -> None:
    token = form_token(client)
    blank = post_form(client, valid_fields(desk, company_name="\u200b\u200b", description="\u3164"), token)
    assert blank.status_code == 400
    assert f"{FIELD_NAMES['company_name']}：{MESSAGES['company_name']}" in blank.text
    assert f"{FIELD_NAMES['description']}：{MESSAGES['description']}" in blank.text
    fields = valid_fields(desk, company_name="\u200b有限会社さつま食品\u200b\ufeff")
    assert post_form(client, fields, token).status_code == 200
    with services.db.session() as session:
        [consultation] = session.scalars(select(Consultation))
    assert consultation.company_name == "有限会社さつま食品"
