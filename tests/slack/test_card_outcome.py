"""対応記録を入力 from the card, end to end: once a confirmed booking's time has passed the card offers the
button (bot.outcomes.offer_outcome_records, once), the signed click opens the modal, the signed submission
stores the record (the summary encrypted) and the booking is done; a referral is put to the owner on LINE
and counts only after 同意する; the card and the admin API show the answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot import outcome_texts
from bot.outcomes import offer_outcome_records
from config import DeskConfig
from handlers.slack import outcome_texts as texts
from handlers.slack import texts as slack_texts
from handlers.slack.cards import APPROVE
from handlers.slack.outcome import (
    METHOD,
    MINUTES,
    NEXT_ACTION,
    NEXT_DATE,
    ONSITE,
    PARTNERS,
    PROGRAMMES,
    RESULT,
    SUMMARY,
    VENDORS,
)
from handlers.slack.outcome_card import OUTCOME
from storage.bookings import Booking
from storage.clock import SystemClock
from storage.conversations import get_conversation
from storage.crypto import as_stored
from storage.models import Consultation
from storage.outcomes import OutcomeRecord, ReferralConsent
from tests.line.conftest import InProcessServer
from tests.line.standin import Delivery, LineStandIn
from tests.slack.appserver import SlackSender
from tests.slack.signing import interaction_body
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_card_actions import CONFIRMED_WORDS, Desk, assigned, line, sender  # noqa: F401

SUMMARY_TEXT = "会計ソフトの比較をご説明し、クラウド会計の試用を提案しました。"
QUESTION_WORDS = "お伝えしてもよろしいでしょうか"


@pytest.fixture
def desk_app(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,  # noqa: F811
    sender: Callable[[str], SlackSender],  # noqa: F811
) -> Desk:
    server = slack_servers(LINE_API_BASE_URL=line.url)
    return Desk(server, slack, line, sender(server.url))


def card_now(desk_app: Desk) -> dict[str, Any]:
    [card] = desk_app.slack.messages(INTAKE_CHANNEL)
    return card


def card_actions(card: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]


def met_and_passed(desk_app: Desk, desk: DeskConfig) -> str:
    """The assigned coordinator approves; the meeting is then moved into the past and the sweep offers
    the record. The coordinator's Slack id."""
    mine, _ = assigned(desk, desk_app.booking())
    desk_app.click(mine, APPROVE)
    desk_app.slack.wait_for(lambda: desk_app.owner_heard(CONFIRMED_WORDS), what="the owner told")
    booking = desk_app.booking()
    back = booking.ends_at - SystemClock().now() + timedelta(hours=1)
    with desk_app.server.db.session() as session:
        session.execute(
            update(Booking)
            .where(Booking.id == booking.id)
            .values(
                starts_at=booking.starts_at - back,
                ends_at=booking.ends_at - back,
                blocked_from=booking.blocked_from - back,
                blocked_until=booking.blocked_until - back,
            )
        )
    with desk_app.server.db.session() as session:
        offered = offer_outcome_records(session, desk_app.server.services.outbound, SystemClock().now())
    assert offered == 1
    desk_app.slack.wait_for(lambda: OUTCOME in card_actions(card_now(desk_app)), what="the button")
    desk_app.card = card_now(desk_app)
    return mine


def open_modal(desk_app: Desk, user: str) -> dict[str, Any]:
    before = len(desk_app.slack.open_modals(user))
    desk_app.click(user, OUTCOME)
    desk_app.slack.wait_for(lambda: len(desk_app.slack.open_modals(user)) > before, what="the modal")
    return desk_app.slack.open_modals(user)[-1].as_slack()


def filled(
    view: dict[str, Any],
    *,
    minutes: str = "90",
    partners: tuple[str, ...] = (),
    vendors: str = "",
    result: str = "referred",
) -> dict[str, Any]:
    def one(value: str) -> dict[str, Any]:
        return {"selected_option": {"value": value}}

    values: dict[str, Any] = {
        METHOD[0]: {METHOD[1]: {"type": "static_select", **one("onsite")}},
        MINUTES[0]: {MINUTES[1]: {"type": "number_input", "value": minutes}},
        SUMMARY[0]: {SUMMARY[1]: {"type": "plain_text_input", "value": SUMMARY_TEXT}},
        RESULT[0]: {RESULT[1]: {"type": "static_select", **one(result)}},
        PROGRAMMES[0]: {
            PROGRAMMES[1]: {"type": "multi_static_select", "selected_options": [{"value": "digital_ai"}]}
        },
        NEXT_ACTION[0]: {NEXT_ACTION[1]: {"type": "plain_text_input", "value": "見積の比較"}},
        NEXT_DATE[0]: {NEXT_DATE[1]: {"type": "datepicker", "selected_date": "2026-12-20"}},
        ONSITE[0]: {ONSITE[1]: {"type": "radio_buttons", **one("yes")}},
        PARTNERS[0]: {
            PARTNERS[1]: {
                "type": "multi_static_select",
                "selected_options": [{"value": p} for p in partners],
            }
        },
        VENDORS[0]: {VENDORS[1]: {"type": "plain_text_input", "value": vendors}},
    }
    return {**view, "state": {"values": values}}


def submit(desk_app: Desk, user: str, view: dict[str, Any]) -> httpx.Response:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0KAGOSHIMA", "domain": "madoguchi-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0KAGOSHIMA"},
        "api_app_id": "A0MADOGUCHI",
        "token": "legacy-verification-token",
        "trigger_id": desk_app.slack.issue_trigger_id(user),
        "view": view,
    }
    response = desk_app.sender.post(
        interaction_body(payload), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    return response


def records(desk_app: Desk) -> list[OutcomeRecord]:
    with desk_app.server.db.session() as session:
        return list(session.scalars(select(OutcomeRecord)))


def questions(desk_app: Desk) -> list[Delivery]:
    owner = desk_app.owner.user_id
    return [d for d in desk_app.line.deliveries_to(owner) if any(QUESTION_WORDS in t for t in d.texts)]


def card_says(desk_app: Desk, words: str) -> None:
    desk_app.slack.wait_for(lambda: words in repr(card_now(desk_app)["blocks"]), what=f"the card: {words}")


def admin_detail(desk_app: Desk) -> dict[str, Any]:
    consultation_id = desk_app.booking().consultation_id
    response = httpx.get(
        f"{desk_app.server.url}/api/consultations/{consultation_id}",
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert response.status_code == 200
    return dict(response.json())


def test_the_card_offers_the_record_once_the_time_has_passed_and_stores_what_was_entered(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine = met_and_passed(desk_app, desk)
    with desk_app.server.db.session() as session:  # once per booking
        assert offer_outcome_records(session, desk_app.server.services.outbound, SystemClock().now()) == 0
    view = open_modal(desk_app, mine)
    assert view["title"]["text"] == texts.TITLE
    submit(desk_app, mine, filled(view, result="continuing"))
    assert desk_app.note_to(mine) == [texts.RECORDED]
    [record] = records(desk_app)
    assert (record.method, record.minutes, record.result, record.onsite) == ("onsite", 90, "continuing", True)
    assert record.summary == SUMMARY_TEXT and record.programmes == ["digital_ai"]
    assert record.next_action == "見積の比較" and str(record.next_action_on) == "2026-12-20"
    assert record.recorded_by == mine and record.partners == [] and record.vendors == []
    with desk_app.server.db.session() as session:  # the summary is encrypted at rest
        stored = session.scalar(select(as_stored(OutcomeRecord.summary.expression)))
    assert stored and SUMMARY_TEXT not in stored
    assert desk_app.booking().status == "done"
    card_says(desk_app, "継続支援")
    card = card_now(desk_app)
    assert OUTCOME not in card_actions(card) and "現地訪問" in repr(card["blocks"])
    assert SUMMARY_TEXT not in repr(card["blocks"])
    assert questions(desk_app) == []  # no referral: nothing to ask
    [item] = admin_detail(desk_app)["outcomes"]
    assert item["summary"] == SUMMARY_TEXT and item["result"] == "continuing"
    assert item["consent"]["status"] == "none" and item["current"] is True


def test_a_second_submission_stores_one_record(desk_app: Desk, desk: DeskConfig) -> None:
    mine = met_and_passed(desk_app, desk)
    view = filled(open_modal(desk_app, mine))
    submit(desk_app, mine, view)
    submit(desk_app, mine, view)
    notes = desk_app.note_to(mine, 2)
    # one of each: the notes are posted after each answer, so under load the second may come first
    assert sorted(notes) == sorted([texts.RECORDED, texts.ALREADY])
    assert len(records(desk_app)) == 1


def test_someone_who_may_not_act_records_nothing(desk_app: Desk, desk: DeskConfig) -> None:
    mine = met_and_passed(desk_app, desk)
    _, other = assigned(desk, desk_app.booking())
    view = filled(open_modal(desk_app, other))
    submit(desk_app, other, view)
    assert desk_app.note_to(other) == [slack_texts.NOT_YOURS]
    assert records(desk_app) == [] and desk_app.booking().status == "confirmed"
    assert mine != other


def test_minutes_that_are_not_a_number_are_shown_under_the_field(desk_app: Desk, desk: DeskConfig) -> None:
    mine = met_and_passed(desk_app, desk)
    response = submit(desk_app, mine, filled(open_modal(desk_app, mine), minutes="1時間"))
    assert response.json() == {
        "response_action": "errors",
        "errors": {MINUTES[0]: texts.PROBLEMS["minutes"]},
    }
    assert records(desk_app) == []


def test_a_referral_is_asked_on_line_and_counts_after_the_owner_agrees(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine = met_and_passed(desk_app, desk)
    view = filled(open_modal(desk_app, mine), partners=("yorozu",), vendors="株式会社さつまシステム")
    submit(desk_app, mine, view)
    assert desk_app.note_to(mine) == [texts.RECORDED + "\n" + texts.ASKED_OWNER]
    desk_app.line.wait_for(lambda: questions(desk_app), what="the consent question")
    [question] = questions(desk_app)
    assert "鹿児島県よろず支援拠点" in question.texts[-1] and "株式会社さつまシステム" in question.texts[-1]
    card_says(desk_app, texts.CONSENT_STATES["asked"])
    detail = admin_detail(desk_app)
    assert detail["outcomes"][0]["consent"]["status"] == "asked"
    assert detail["outcomes"][0]["referred"] == {"partners": [], "vendors": []}

    answered = desk_app.owner.tap(question, outcome_texts.CONSENT_AGREE)
    assert answered.texts == [outcome_texts.CONSENT_AGREED]
    card_says(desk_app, texts.CONSENT_STATES["agree"])
    [item] = admin_detail(desk_app)["outcomes"]
    assert item["consent"]["status"] == "agree" and item["consent"]["answered_at"]
    assert item["referred"] == {"partners": ["yorozu"], "vendors": ["株式会社さつまシステム"]}

    again = desk_app.owner.tap(question, outcome_texts.CONSENT_DISAGREE)  # a second answer changes nothing
    assert again.texts == [
        outcome_texts.CONSENT_ALREADY.format(answer=outcome_texts.CONSENT_AGREE, phone=desk.desk.phone)
    ]
    with desk_app.server.db.session() as session:
        [consent] = session.scalars(select(ReferralConsent))
    assert consent.answer == "agree"


def test_an_owner_who_does_not_agree_is_not_referred(desk_app: Desk, desk: DeskConfig) -> None:
    mine = met_and_passed(desk_app, desk)
    submit(desk_app, mine, filled(open_modal(desk_app, mine), partners=("kisc", "cci_kagoshima")))
    desk_app.line.wait_for(lambda: questions(desk_app), what="the consent question")
    [question] = questions(desk_app)
    desk_app.owner.say("相談したい")  # a new conversation begun before answering: it stays where it is
    answered = desk_app.owner.tap(question, outcome_texts.CONSENT_DISAGREE)
    assert answered.texts == [outcome_texts.CONSENT_DISAGREED]
    with desk_app.server.db.session() as session:
        contact_id = session.get(Consultation, desk_app.booking().consultation_id).contact_id  # type: ignore[union-attr]
        conversation = get_conversation(session=session, contact_id=contact_id)
    assert conversation is not None and conversation.flow == "intake"
    card_says(desk_app, texts.CONSENT_STATES["disagree"])
    [item] = admin_detail(desk_app)["outcomes"]
    assert item["consent"]["status"] == "disagree"
    assert item["partners"] == ["kisc", "cci_kagoshima"] and item["referred"]["partners"] == []


def test_an_unknown_or_stale_consent_answer_changes_nothing(desk_app: Desk, desk: DeskConfig) -> None:
    mine = met_and_passed(desk_app, desk)
    submit(desk_app, mine, filled(open_modal(desk_app, mine), partners=("kit",)))
    desk_app.line.wait_for(lambda: questions(desk_app), what="the consent question")
    with desk_app.server.db.session() as session:
        [consent] = session.scalars(select(ReferralConsent))
    reply = desk_app.owner.send(desk_app.owner.postback(f"r{consent.id + 100}|referral|agree"))
    assert reply.texts == [outcome_texts.CONSENT_UNKNOWN.format(phone=desk.desk.phone)]
    time.sleep(0.3)
    with desk_app.server.db.session() as session:
        [consent] = session.scalars(select(ReferralConsent))
    assert consent.answer is None
    assert admin_detail(desk_app)["outcomes"][0]["consent"]["status"] == "asked"
