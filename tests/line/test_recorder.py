"""Deliveries recorded in groups by a running drain: each contact's messages still arrive in order and once,
the log counts them, and a process that dies with deliveries not yet recorded sends nothing twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import handlers.line.recorder as recorder_module
from bot.messages import OutMessage
from handlers.line.sender import LineSender
from handlers.line.worker import LineRuntime, build_line_runtime
from handlers.services import Services, build_services
from handlers.settings import Settings
from storage.clock import SystemClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.models import Interaction, OutboxMessage
from tests.line.conftest import server_env
from tests.line.standin import LineStandIn

PUSH = "/v2/bot/message/push"
USERS = [f"U{i:032x}" for i in range(1, 7)]


@pytest.fixture
def drains(
    standin: LineStandIn, new_database: Callable[[], str], tmp_path: Path
) -> Iterator[Callable[[], LineRuntime]]:
    """Starts drains (each its process's services, as `madoguchi worker` has) on one database."""
    url = new_database()
    started: list[tuple[Services, LineRuntime]] = []
    env = server_env(url, standin.url, tmp_path / "var") | {"MADOGUCHI_LINE_LEASE": "1"}

    def start() -> LineRuntime:
        services = build_services(Settings(_env_file=None, **env))  # type: ignore[call-arg, arg-type]
        runtime = build_line_runtime(services)
        runtime.start(webhooks=False)
        started.append((services, runtime))
        return runtime

    yield start
    for services, runtime in started:
        runtime.stop(timeout=5)
        runtime.api.close()
        services.db.dispose()


def queue_pushes(db: Database, per_user: int) -> None:
    """Queues `per_user` pushes to each user, one outbox row each, numbered in order."""
    sender = LineSender(SystemClock())
    with db.session() as session:
        for user in USERS:
            contact = get_or_create_contact(session=session, channel="line", external_id=user)
            session.flush()
            for n in range(1, per_user + 1):
                sender.to_contact(
                    session=session, contact=contact, messages=[OutMessage(f"{n}")], reason="test"
                )


def rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_each_contacts_messages_arrive_in_order_once_and_are_counted(
    drains: Callable[[], LineRuntime], standin: LineStandIn
) -> None:
    runtime = drains()
    queue_pushes(runtime.db, per_user=5)
    wait_until(lambda: all(r.status == "sent" for r in rows(runtime.db)), "every row sent")
    for user in USERS:
        assert [d.texts for d in standin.deliveries_to(user)] == [[f"{n}"] for n in range(1, 6)]
    with runtime.db.session() as session:
        logged = list(session.scalars(select(Interaction).where(Interaction.direction == "out")))
    assert len(logged) == 5 * len(USERS)
    assert all(i.delivered_at is not None for i in logged)  # the month's report counts them


def test_deliveries_not_recorded_when_the_process_died_go_out_once_with_their_retry_keys(
    drains: Callable[[], LineRuntime], standin: LineStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_gone(**_: object) -> set[int]:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(recorder_module, "mark_sent_many", database_gone)
    dying = drains()
    queue_pushes(dying.db, per_user=1)
    wait_until(lambda: len(standin.deliveries) == len(USERS), "LINE has every push")
    dying.stop(timeout=5)  # what it handed over was never written: as if it had been killed
    assert all(r.status == "pending" and r.sent_at is None for r in rows(dying.db))

    monkeypatch.undo()
    second = drains()  # takes the rows again once their leases end
    wait_until(lambda: all(r.status == "sent" for r in rows(second.db)), "every row sent after the restart")
    assert all(r.delivered_via == "push-409" for r in rows(second.db))  # LINE knew their retry keys
    for user in USERS:
        assert len(standin.deliveries_to(user)) == 1
    assert standin.statuses(PUSH).count(409) == len(USERS)
