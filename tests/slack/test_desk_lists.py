"""`/madoguchi today|week|pending|find` over signed HTTP, answered through the response_url only to the one
who typed it (their own lists for a coordinator, the whole desk for an approver, nothing for others), and
the App Home tab with the coordinator's upcoming appointments and waiting requests."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from bot.bookings import booking_when
from config import DeskConfig
from handlers.slack.texts import NOT_REGISTERED, TODAY_EMPTY
from storage.models import Consultation
from tests.slack import test_card_actions as cards
from tests.slack import test_relay as relay_tests
from tests.slack.appserver import home_opened
from tests.slack.standin import INTAKE_CHANNEL, MANAGER, SlackStandIn
from tests.slack.test_card_actions import Desk, assigned

# A server whose desk has an approver, an owner's request with its card posted (the shared fixtures).
approver_app, line, sender = relay_tests.approver_app, cards.line, cards.sender
STRANGER = relay_tests.STRANGER


def ask(desk_app: Desk, user: str, text: str) -> str:
    """Types the command; what came back through its response_url (the ack itself says nothing)."""
    slack: SlackStandIn = desk_app.slack
    url = slack.issue_response_url(INTAKE_CHANNEL, user)
    body = urlencode(
        {
            "command": "/madoguchi",
            "text": text,
            "user_id": user,
            "channel_id": INTAKE_CHANNEL,
            "team_id": "T0KAGOSHIMA",
            "trigger_id": "",
            "response_url": url,
        }
    ).encode()
    answer = desk_app.sender.post(body, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200 and not answer.text.strip()
    slack.wait_for(lambda: slack.responses(url), what="the answer")
    [said] = slack.responses(url)
    assert said["response_type"] == "ephemeral"
    return str(said["text"])


def request(desk_app: Desk) -> tuple[str, str]:
    with desk_app.server.db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
        return consultation.reference, consultation.company_name or ""


def test_the_lists_answer_the_coordinator_their_own_and_the_approver_the_whole_desk(
    approver_app: Desk, desk: DeskConfig
) -> None:
    booking = approver_app.booking()
    mine, other = assigned(desk, booking)
    reference, company = request(approver_app)
    when = booking_when(booking)
    assert "(" in when and ")" in when  # the weekday, as the card shows it

    pending = ask(approver_app, mine, "pending")
    assert reference in pending and company in pending and when in pending and "担当：" not in pending
    week = ask(approver_app, mine, "week")
    assert f"{when} {reference} {company}" in week and "確認待ち" in week
    assert TODAY_EMPTY in ask(approver_app, mine, "today")
    assert reference not in ask(approver_app, other, "pending")  # not theirs

    desk_wide = ask(approver_app, MANAGER, "pending")
    coordinator = desk.scheduling.coordinator(booking.coordinator_id)
    assert coordinator is not None
    assert reference in desk_wide and f"担当：{coordinator.name}" in desk_wide

    found = ask(approver_app, other, f"find {company[1:4]}")
    assert reference in found and "新規受付" in found
    assert "該当する相談はありません" in ask(approver_app, mine, "find 存在しない会社名")
    assert ask(approver_app, STRANGER, "pending") == NOT_REGISTERED
    assert approver_app.slack.calls("chat.postMessage")[1:] == []  # nothing posted beyond the card


def test_the_home_tab_shows_the_coordinators_appointments_and_waiting_requests(
    approver_app: Desk, desk: DeskConfig
) -> None:
    booking = approver_app.booking()
    mine, other = assigned(desk, booking)
    reference, _ = request(approver_app)
    for user in (mine, other):
        assert approver_app.sender.event(home_opened(user)).status_code == 200
    slack = approver_app.slack
    slack.wait_for(lambda: slack.home(mine) is not None and slack.home(other) is not None, what="the homes")
    home = repr(slack.home(mine).as_slack())  # type: ignore[union-attr]
    assert "これからの予定" in home and f"{booking_when(booking)} {reference}" in home
    assert "対応待ちの相談（あなたの担当）" in home
    assert reference not in repr(slack.home(other).as_slack())  # type: ignore[union-attr]
