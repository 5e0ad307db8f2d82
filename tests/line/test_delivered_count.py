"""A reply parked by a LINE outage is not counted as sent until LINE has it, and is counted once after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from storage.database import Database
from storage.interactions import count_delivered_messages, delivered_messages
from storage.models import Interaction
from storage.outbox import mark_sent
from tests.idle import wait_servers_idle
from tests.line.conftest import InProcessServer, LineUser, RunningClock
from tests.line.standin import LineStandIn
from tests.line.test_outage import OUTAGE_TUNING, SPEED, all_sent, contact_id, line_counts, outbox, wait_until

ALWAYS = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def sent_texts(db: Database, contact: int) -> list[str]:
    """What a report counts as sent to the contact."""
    with db.session() as session:
        rows = delivered_messages(session=session, start=ALWAYS[0], end=ALWAYS[1], channel="line")
        return [row.text or "" for row in rows if row.contact_id == contact]


def outbound_log(db: Database, contact: int) -> list[Interaction]:
    with db.session() as session:
        query = select(Interaction).where(Interaction.contact_id == contact, Interaction.direction == "out")
        return list(session.scalars(query.order_by(Interaction.id)))


def test_a_parked_reply_counts_as_sent_only_once_line_has_it(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    clock = RunningClock(SPEED)
    tuning = OUTAGE_TUNING | {"MADOGUCHI_LINE_MAX_ATTEMPTS": "2", "MADOGUCHI_LINE_RESUME_INTERVAL": "20"}
    server = start_server(clock=clock, **tuning)
    standin.begin_outage(hang=1.0, accepting_pushes=False)
    user = LineUser(server.url, standin)
    assert user.post(user.text("相談したい")).status_code == 200
    wait_until(lambda: line_counts(server)["outbox_failed"] == 1, 15, "the answer parked")

    contact = contact_id(server.db, user)
    (parked,) = outbox(server.db)
    assert parked.status == "failed" and parked.reason == "reply"
    logged = outbound_log(server.db, contact)
    assert [row.text for row in logged] == [m["text"] for m in parked.payload["messages"]]
    assert {(row.outbox_id, row.delivered_at) for row in logged} == {(parked.id, None)}
    assert sent_texts(server.db, contact) == []  # logged, but not sent: a report does not count it
    assert standin.deliveries_to(user.user_id) == []

    standin.end_outage()  # the probe finds LINE again, and the parked answer goes out
    wait_until(lambda: all_sent(server.db, 1), 20, "the parked answer sent")
    wait_servers_idle(server)
    (sent,) = outbox(server.db)
    assert len(standin.deliveries_to(user.user_id)) == 1
    assert sent_texts(server.db, contact) == [m["text"] for m in sent.payload["messages"]]
    assert {row.delivered_at for row in outbound_log(server.db, contact)} == {sent.sent_at}

    with server.db.session() as session:  # a second report of the same delivery changes nothing
        assert sent.sent_at is not None
        assert not mark_sent(session=session, message_id=sent.id, via="push", now=clock.now())
        counts = count_delivered_messages(session=session, start=ALWAYS[0], end=ALWAYS[1])
    assert counts["line"] == len(sent.payload["messages"])
    assert len(sent_texts(server.db, contact)) == len(sent.payload["messages"])
