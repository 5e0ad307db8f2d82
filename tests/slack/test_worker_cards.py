"""`madoguchi worker` delivers the coordinators' cards too, when Slack is configured: a request submitted
while no web process runs reaches the intake channel once, posted by the worker process."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from bot.engine import IntakeEngine
from bot.sending import Outbound
from config import DeskConfig
from handlers.line.sender import LineSender
from handlers.slack.sender import SlackCoordinatorSender
from storage.channels import Channel
from storage.clock import SystemClock
from storage.database import Database
from storage.models import Consultation, OutboxMessage
from storage.outbox import SENT
from tests.bot.chat import Chat
from tests.conftest import DatabaseFactory
from tests.line.conftest import ServeProcess, processes  # noqa: F401  (the fixture)
from tests.owner import Owner
from tests.slack.appserver import slack_env
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn


def test_the_worker_posts_the_card_of_a_submitted_request_once(
    slack: SlackStandIn,
    desk: DeskConfig,
    fresh_database_url: DatabaseFactory,
    tmp_path: Path,
    processes: list[ServeProcess],  # noqa: F811
) -> None:
    url = fresh_database_url(migrated=True)
    clock = SystemClock()
    outbound = Outbound(senders={Channel.LINE: LineSender(clock)}, coordinators=SlackCoordinatorSender(clock))
    db = Database(url)
    try:
        chat = Chat(IntakeEngine(desk, clock, outbound=outbound), db, user="U-worker-owner")
        Owner(chat).answer_until(None, contact="099-123-4567 owner@example.jp")
        with db.session() as session:
            reference = session.scalars(select(Consultation.reference)).one()
            [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.SLACK))
            row_id = row.id
        assert slack.messages(INTAKE_CHANNEL) == []  # nobody has delivered it yet
        env = slack_env(url, slack.api_url, str(tmp_path / "var"))
        processes.append(ServeProcess(env, tmp_path, command="worker").start())
        slack.wait_for(lambda: slack.messages(INTAKE_CHANNEL), what="the card, posted by the worker")
        deadline = time.monotonic() + 10
        while True:
            with db.session() as session:
                status = session.get(OutboxMessage, row_id).status  # type: ignore[union-attr]
            if status == SENT or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == SENT
        time.sleep(0.5)  # time for a wrong second post
        [card] = slack.messages(INTAKE_CHANNEL)
        assert reference in card["text"]
        assert len(slack.calls("chat.postMessage")) == 1
    finally:
        db.dispose()
