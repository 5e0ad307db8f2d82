"""Requests nobody acted on: a reply in the card's thread mentioning the assignee after 4 working hours, then a
post mentioning the approvers the next working day, each once however often the sweep runs, caught up by
what is due after downtime, and none for a request a coordinator took up. Delivered by the real slack_sdk
against the stand-in; the sweep's notion of now is injected."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.decisions import approve
from bot.engine import IntakeEngine
from bot.escalations import Escalator, due_times
from bot.sending import Outbound
from config import DeskConfig, load_desk_config
from config.scheduling import Closures, WeeklyHours
from config.slack import SlackConfig
from handlers.slack.delivery import SlackDelivery
from scheduling.working_time import add_working_hours
from storage.bookings import Booking
from storage.clock import JST, FixedClock
from storage.database import Database
from storage.escalations import APPROVERS, ASSIGNEE, COVERED, SENT, Escalation
from storage.models import Consultation
from tests.line.test_jobs_cli import madoguchi
from tests.slack import test_card_actions as cards
from tests.slack import test_relay as relay_tests
from tests.slack.appserver import slack_env
from tests.slack.standin import INTAKE_CHANNEL, MANAGER, SlackStandIn
from tests.slack.test_card_actions import Desk
from tests.slack.test_cards import submitted


def approver_desk() -> DeskConfig:
    return load_desk_config().model_copy(update={"slack": SlackConfig(approvers=(MANAGER,))})


@pytest.fixture
def desk() -> DeskConfig:
    """The shipped desk, with an approver."""
    return approver_desk()


# A server with Slack and LINE whose desk has an approver, and an owner's request with its card posted.
approver_app, line, sender = relay_tests.approver_app, cards.line, cards.sender


def jst(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


def drain(delivery: SlackDelivery) -> None:
    while delivery.run_once():
        pass


def replies(slack: SlackStandIn) -> list[str]:
    [card] = [m for m in slack.messages(INTAKE_CHANNEL)]
    return [m["text"] for m in slack.thread(INTAKE_CHANNEL, card["ts"])]


def escalations(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        rows = session.scalars(select(Escalation).order_by(Escalation.id))
        return [(r.kind, r.status) for r in rows]


def assignee_id(db: Database, desk: DeskConfig) -> str:
    with db.session() as session:
        booking = session.scalars(select(Booking)).one()
        coordinator = desk.scheduling.coordinator(booking.coordinator_id)
        assert coordinator is not None and coordinator.slack_user_id
        return coordinator.slack_user_id


def test_working_hours_skip_lunch_nights_weekends_and_holidays() -> None:
    weekly = WeeklyHours()  # 09:00-12:00 and 13:00-17:00 on weekdays
    assert add_working_hours(jst(2026, 11, 25, 10), 4, weekly=weekly) == jst(2026, 11, 25, 15)
    assert add_working_hours(jst(2026, 11, 27, 16), 4, weekly=weekly) == jst(2026, 11, 30, 12)  # Fri → Mon
    assert add_working_hours(jst(2026, 11, 20, 18), 1, weekly=weekly) == jst(2026, 11, 24, 10)  # 11/23 祝
    assert add_working_hours(jst(2026, 12, 28, 16), 2, weekly=weekly, closures=Closures()) == jst(
        2027, 1, 4, 10
    )  # the year-end closure


def test_the_assignee_then_the_approvers_are_told_once_each(
    engine: IntakeEngine,
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    clock: FixedClock,
    desk: DeskConfig,
) -> None:
    submitted(engine, db)  # Wednesday 11/25 10:00
    mine = assignee_id(db, desk)
    escalator = Escalator(db=db, outbound=outbound, desk=desk, recorded=clock)
    assert escalator.run(jst(2026, 11, 25, 14, 59)).reminded == 0
    assert escalator.run(jst(2026, 11, 25, 15, 0)).reminded == 1
    assert escalator.run(jst(2026, 11, 25, 15, 5)).reminded == 0
    drain(delivery)
    [reminder] = replies(slack)
    assert reminder.startswith(f"<@{mine}> ") and "4時間" in reminder
    assert escalator.run(jst(2026, 11, 26, 14, 59)).escalated == 0
    assert escalator.run(jst(2026, 11, 26, 15, 0)).escalated == 1
    assert escalator.run(jst(2026, 11, 27, 9, 0)).escalated == 0
    drain(delivery)
    assert len(replies(slack)) == 2
    assert replies(slack)[1].startswith(f"<@{MANAGER}> ") and f"<@{mine}>" in replies(slack)[1]
    assert escalations(db) == [(ASSIGNEE, SENT), (APPROVERS, SENT)]
    assert len(slack.messages(INTAKE_CHANNEL)) == 1  # in the card's thread


def test_after_downtime_only_the_approvers_post_goes_naming_the_assignee(
    engine: IntakeEngine,
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    clock: FixedClock,
    desk: DeskConfig,
) -> None:
    submitted(engine, db)
    escalator = Escalator(db=db, outbound=outbound, desk=desk, recorded=clock)
    run = escalator.run(jst(2026, 11, 30, 9, 0))  # the scheduler was down since Wednesday
    assert (run.reminded, run.escalated, run.covered) == (0, 1, 1)
    drain(delivery)
    [post] = replies(slack)
    assert f"<@{MANAGER}>" in post and f"<@{assignee_id(db, desk)}>" in post
    assert escalations(db) == [(ASSIGNEE, COVERED), (APPROVERS, SENT)]
    assert escalator.run(jst(2026, 12, 1, 9, 0)).summary().startswith("0 assignee reminder(s), 0 escalation")


def test_a_request_a_coordinator_took_up_is_not_brought_up(
    engine: IntakeEngine,
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    clock: FixedClock,
    desk: DeskConfig,
) -> None:
    submitted(engine, db)
    with db.session() as session:
        booking = session.scalars(select(Booking)).one()
        assert approve(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking.id,
            actor="U0EXYAMADA",
            now=clock.now(),
            calendars=engine.calendars,
        )
    escalator = Escalator(db=db, outbound=outbound, desk=desk, recorded=clock)
    run = escalator.run(jst(2026, 12, 1, 9, 0))
    assert (run.reminded, run.escalated) == (0, 0)
    drain(delivery)
    assert replies(slack) == []
    assert escalations(db) == []


def test_the_due_times_follow_the_configured_delay(desk: DeskConfig, db: Database) -> None:
    config = desk.escalations.model_copy(
        update={"remind_after_working_hours": 1, "escalate_after_working_days": 2}
    )
    later = desk.model_copy(update={"escalations": config})
    assert due_times(later, jst(2026, 11, 25, 10)) == (jst(2026, 11, 25, 11), jst(2026, 11, 27, 11))
    with db.session() as session:
        assert session.scalars(select(Consultation)).first() is None


def test_jobs_run_escalations_at_a_time_posts_once_through_the_running_server(
    approver_app: Desk, slack: SlackStandIn, tmp_path: Path
) -> None:
    server = approver_app.server
    with server.db.session() as session:
        submitted_at = session.scalars(select(Consultation.submitted_at)).one()
    remind_at, escalate_at = due_times(approver_desk(), submitted_at)
    env = slack_env(server.db.url, slack.api_url, str(tmp_path / "var-cli"))
    env["MADOGUCHI_CONFIG"] = str(tmp_path / "desk.yaml")
    for moment, expected in ((remind_at, 1), (remind_at, 1), (escalate_at, 2)):
        ran = madoguchi(env, "jobs", "run", "escalations", "--at", moment.isoformat())
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("escalations: ")

        def replied(n: int = expected) -> bool:
            return len(replies(slack)) >= n

        slack.wait_for(replied, what="the thread reply")
    time.sleep(0.5)
    posted = replies(slack)
    assert len(posted) == 2 and f"<@{MANAGER}>" in posted[1]
