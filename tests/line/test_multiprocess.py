"""Two `madoguchi worker` processes draining one inbox on PostgreSQL: each event handled once, in order."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.clock import SystemClock
from storage.contacts import find_contact
from storage.database import Database
from storage.inbox import NewEvent, store_events
from storage.models import InboxEvent, Interaction, OutboxMessage
from tests.line.conftest import LineUser, ServeProcess, server_env
from tests.line.standin import LineStandIn

pytestmark = pytest.mark.postgres_only  # SKIP LOCKED across processes: run in `make test`'s PostgreSQL pass


def test_two_workers_drain_one_inbox_once_and_in_order(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    url = new_database()
    standin.set_delay(0.01)
    users = [LineUser("unused", standin) for _ in range(25)]
    base = int(time.time() * 1000)
    events = [
        NewEvent(e["webhookEventId"], user.user_id, e["timestamp"], e)
        for user in users
        for i in range(4)
        for e in [user.text(f"発言{i}", ts=base + i)]
    ]
    random.Random(7).shuffle(events)
    db = Database(url)
    try:
        with db.session() as session:
            stored = store_events(
                session=session, channel="line", events=events, received_at=SystemClock().now()
            )
        assert stored == 100
        env = server_env(url, standin.url, tmp_path / "var")
        processes += [ServeProcess(env, tmp_path, command="worker").start() for _ in range(2)]
        handled_by = check_drained(db, users)
    finally:
        db.dispose()
    assert len(handled_by) == 2, handled_by  # both processes took part
    for user in users:
        assert len(standin.deliveries_to(user.user_id)) == 4


def check_drained(db: Database, users: list[LineUser]) -> set[str | None]:
    """Waits until every event is answered; checks each was handled once and each user's in order."""
    deadline = time.monotonic() + 30
    while True:
        with db.session() as session:
            sent = session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
        if sent == 100:
            break
        assert time.monotonic() < deadline, f"{sent} of 100 sent"
        time.sleep(0.1)
    with db.session() as session:
        handled_by = {e.claimed_by for e in session.scalars(select(InboxEvent))}
        assert session.scalar(select(func.count(func.distinct(OutboxMessage.inbox_event_id)))) == 100
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 100
        for user in users:
            contact = find_contact(session=session, channel="line", external_id=user.user_id)
            assert contact is not None
            said = session.scalars(
                select(Interaction.text)
                .where(Interaction.contact_id == contact.id, Interaction.direction == "in")
                .order_by(Interaction.id)
            )
            assert list(said) == ["発言0", "発言1", "発言2", "発言3"]
    return handled_by


def test_a_web_process_that_leaves_the_answers_to_a_worker(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    env = server_env(new_database(), standin.url, tmp_path / "var")
    web = ServeProcess(env, tmp_path, extra=("--no-drain",)).start()
    processes.append(web)
    user = LineUser(web.url, standin)
    assert user.post(user.text("相談したい")).status_code == 200
    # Stored, but nobody in the web process answers: it started no drain (it says so), and the event waits
    # unclaimed. (Waiting for the queues to be idle would wait for ever: answering is the worker's job.)
    assert "LINE webhooks are stored here; madoguchi worker processes answer them" in web.log.read_text()
    db = Database(env["DATABASE_URL"])
    try:
        with db.session() as session:
            [event] = session.scalars(select(InboxEvent)).all()
            assert (event.status, event.claimed_by, event.attempts) == ("pending", None, 0)
    finally:
        db.dispose()
    assert standin.deliveries_to(user.user_id) == []
    processes.append(ServeProcess(env, tmp_path, command="worker").start())
    [answer] = standin.wait_for_deliveries(user.user_id, 1)
    assert answer.kind == "reply" and "個人情報" in answer.texts[0]
