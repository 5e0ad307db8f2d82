"""The owners' reminders with real processes: several senders and a `jobs run reminders` on one database,
a run killed mid-batch, a sender killed after LINE accepted a push. Every owner is pushed exactly once
(the stand-in records each push by recipient and by retry key, and answers 409 to a repeated key)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Connection, func, select, text

from storage.database import Database
from storage.models import OutboxMessage
from tests.conftest import DatabaseFactory
from tests.line.conftest import ServeProcess, server_env
from tests.line.reminder_load import (
    PUSH,
    armed_bookings,
    assert_each_owner_pushed_once,
    confirmed_bookings,
    outbox_rows,
    queued_count,
    reminder_statuses,
    run_reminders,
    sent_count,
    start_together,
    wait_all_sent,
)
from tests.line.standin import LineStandIn


@pytest.mark.postgres_only  # several processes draining one outbox: SKIP LOCKED, PostgreSQL's pass
def test_500_reminders_due_together_reach_each_owner_once_through_three_sending_processes(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    url = fresh_database_url(migrated=True)
    armed_bookings(url, 500, migrate=False)
    # The production lease, longer than a call may take (read timeout): no row claimed again while its
    # push is on its way, so each is pushed once (with the tests' short lease a slow call on a busy
    # machine is pushed again, answered 409: no second message, but not what this test counts).
    env = server_env(url, standin.url, tmp_path / "var") | {
        "MADOGUCHI_LINE_LEASE": "30",
        "MADOGUCHI_LINE_READ_TIMEOUT": "10",
    }
    senders = [
        ServeProcess(env, tmp_path),
        ServeProcess(env, tmp_path),
        ServeProcess(env, tmp_path, "worker"),
    ]
    processes += senders  # two `serve --no-scheduler` and a `worker`
    start_together(senders)
    # Two runs at once, as a second scheduler started by mistake would do: each reminder goes once.
    runs = [run_reminders(env), run_reminders(env)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum(sent_count(out) for out, _ in outputs) == 500, outputs
    db = Database(url)
    try:
        rows = wait_all_sent(db, 500, timeout=120)
        assert len(rows) == 500 and {r.delivered_via for r in rows} == {"push"}
        assert reminder_statuses(db) == {("day_before", "sent"): 500, ("soon", "pending"): 500}
    finally:
        db.dispose()
    assert_each_owner_pushed_once(standin, 500)


def test_reminders_due_together_reach_each_owner_once_through_a_server(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    url = fresh_database_url(migrated=True)
    confirmed_bookings(url, 100, migrate=False)
    env = server_env(url, standin.url, tmp_path / "var")
    processes.append(ServeProcess(env, tmp_path))
    start_together(processes)
    out, err = run_reminders(env).communicate(timeout=180)
    assert sent_count(out) == 100, (out, err)
    db = Database(url)
    try:
        assert len(wait_all_sent(db, 100, timeout=120)) == 100
        assert reminder_statuses(db)[("day_before", "sent")] == 100
    finally:
        db.dispose()
    assert_each_owner_pushed_once(standin, 100)


@contextmanager
def writers_stalled(db: Database) -> Iterator[Connection]:
    """Holds what the reminders job must write until the block ends (it waits mid-batch meanwhile):
    PostgreSQL's reminder and outbox tables locked against writes. Read through the connection given."""
    with db.engine.connect() as conn:
        conn.begin()
        # In the order the job writes them (the outbox rows, then the reminders): two of its transactions run at
        # once, and a lock taken the other way round would deadlock with the one halfway through.
        conn.execute(text("LOCK TABLE outbox_message, reminder IN EXCLUSIVE MODE"))
        try:
            yield conn
        finally:
            conn.rollback()


def test_a_reminders_run_killed_mid_batch_and_run_again_sends_each_reminder_once(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    count = 2000  # transactions of 250 bookings: the kill lands with most of them still to go
    url = fresh_database_url(migrated=True)
    armed_bookings(url, count, migrate=False)
    env = server_env(url, standin.url, tmp_path / "var")
    processes.append(ServeProcess(env, tmp_path))
    start_together(processes)
    db = Database(url)
    try:
        run = run_reminders(env)
        standin.wait_for(lambda: queued_count(db) > 0, timeout=120, what="the first reminders queued")
        if db.is_sqlite:  # its one write lock goes back to the run between transactions, whoever waits
            run.kill()  # SIGKILL, with the first transactions committed and most of the batch to go
            run.communicate(timeout=10)
            queued = queued_count(db)
        else:
            with writers_stalled(db) as held:  # the run now waits inside its next transaction
                queued = int(held.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
                run.kill()  # SIGKILL
                run.communicate(timeout=10)
        assert 0 < queued < count, queued  # the kill did interrupt the batch
        assert len(outbox_rows(db)) == queued  # what the killed transaction had written is gone
        out, err = run_reminders(env).communicate(timeout=180)
        assert sent_count(out) == count - queued, (out, err)
        assert len(wait_all_sent(db, count, timeout=120)) == count
        assert reminder_statuses(db)[("day_before", "sent")] == count
        again, _ = run_reminders(env).communicate(timeout=180)
        assert again == "reminders: no reminder due\n"
    finally:
        db.dispose()
    assert_each_owner_pushed_once(standin, count)


def test_a_sender_killed_after_line_accepted_the_reminders_leaves_each_owner_one_message(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    count = 4
    url = fresh_database_url(migrated=True)
    confirmed_bookings(url, count, migrate=False)
    # A lease longer than the wait until the kill: no second claim of the row in the same process.
    env = server_env(url, standin.url, tmp_path / "var") | {
        "MADOGUCHI_LINE_READ_TIMEOUT": "30",
        "MADOGUCHI_LINE_LEASE": "10",
    }
    db = Database(url)
    # The worker process where PostgreSQL lets several share the outbox; on SQLite the one server sends.
    sender = "serve" if db.is_sqlite else "worker"
    standin.hang_after_accepting(PUSH, 60)  # LINE records each push, then its answer never comes
    first = ServeProcess(env, tmp_path, command=sender)
    processes.append(first)
    start_together([first])
    try:
        out, err = run_reminders(env).communicate(timeout=180)
        assert sent_count(out) == count, (out, err)
        standin.wait_for(
            lambda: len(standin.deliveries) == count, timeout=60, what="LINE accepting the pushes"
        )
        first.sigkill()  # LINE has them; the rows were never marked sent
        assert {r.status for r in outbox_rows(db)} == {"pending"}
        standin.release_hangs()
        processes.append(ServeProcess(env, tmp_path, command=sender))
        start_together(processes[-1:])
        rows = wait_all_sent(db, count, timeout=90)
    finally:
        db.dispose()
    assert {r.delivered_via for r in rows} == {"push-409"}  # sent again with its key, recorded as sent
    pushes = [(status, key) for path, status, key in standin.state.requests if path == PUSH]
    repeated = [cast(str, key) for status, key in pushes if status == 409]  # 409 answers a repeated key
    assert sorted(repeated) == sorted(cast(str, r.retry_key) for r in rows)
    assert_each_owner_pushed_once(standin, count)
