"""A real `madoguchi serve` killed with SIGKILL: nothing acknowledged is lost, nothing is sent twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from storage.database import Database
from storage.models import InboxEvent, OutboxMessage
from tests.idle import wait_idle_at
from tests.line.conftest import LineUser, ServeProcess, server_env
from tests.line.standin import LineStandIn

PUSH = "/v2/bot/message/push"


def wait_all_sent(url: str, count: int, timeout: float = 20.0) -> list[OutboxMessage]:
    db = Database(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with db.session() as session:
                rows = list(session.scalars(select(OutboxMessage)))
                events = list(session.scalars(select(InboxEvent)))
            if len(rows) >= count and all(r.status == "sent" for r in rows):
                assert all(e.status == "processed" for e in events)
                return rows
            assert time.monotonic() < deadline, [
                (
                    r.id,
                    r.status,
                    r.attempts,
                    r.claimed_until,
                    r.next_attempt_at,
                    r.reply_attempted_at,
                    r.last_error,
                )
                for r in rows
                if r.status != "sent"
            ]
            time.sleep(0.05)
    finally:
        db.dispose()


def test_every_acknowledged_event_is_answered_after_a_sigkill(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    url = new_database()
    env = server_env(url, standin.url, tmp_path / "var")
    first = ServeProcess(env, tmp_path).start()
    processes.append(first)
    users = [LineUser(first.url, standin) for _ in range(40)]
    for user in users:
        assert user.post(user.text("相談したい")).status_code == 200
    first.sigkill()
    answered_before_the_kill = len(standin.deliveries)
    second = ServeProcess(env, tmp_path).start()
    processes.append(second)
    rows = wait_all_sent(url, len(users))
    assert len(rows) == len(users)
    wait_idle_at(url)
    for user in users:
        assert len(standin.deliveries_to(user.user_id)) == 1
    assert answered_before_the_kill < len(users)  # the kill did interrupt the work


def test_a_push_accepted_before_a_sigkill_is_retried_with_its_key_and_not_delivered_twice(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    url = new_database()
    env = server_env(url, standin.url, tmp_path / "var") | {
        "MADOGUCHI_LINE_READ_TIMEOUT": "30",
        "MADOGUCHI_LINE_LEASE": "2",
    }
    standin.refuse_reply_tokens()
    standin.hang_after_accepting(PUSH, 60)
    first = ServeProcess(env, tmp_path).start()
    processes.append(first)
    user = LineUser(first.url, standin)
    assert user.post(user.text("相談したい")).status_code == 200
    standin.wait_for_deliveries(user.user_id, 1)
    first.sigkill()  # LINE has the push; the server never heard back
    standin.release_hangs()
    second = ServeProcess(env, tmp_path).start()
    processes.append(second)
    [row] = wait_all_sent(url, 1)
    assert row.delivered_via == "push-409"
    assert len(standin.deliveries_to(user.user_id)) == 1
    pushes = [(status, key) for path, status, key in standin.state.requests if path == PUSH]
    assert pushes[-1] == (409, row.retry_key)
