"""`madoguchi jobs list` and `madoguchi jobs run NAME [--at ISO8601]` as an operator runs them: a child
process on a real database; what it enqueues reaches the LINE stand-in through the running server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import select

from bot.reminders import install_reminders
from config import load_desk_config
from storage import reminders as store
from storage.clock import FixedClock
from storage.database import Database, make_engine
from storage.models import OutboxMessage
from tests.conftest import DatabaseFactory
from tests.line.conftest import InProcessServer, server_env
from tests.line.standin import LineStandIn
from tests.scheduling.reminder_support import confirmed_booking, line_owner
from tests.scheduling.support import jst, prepare_booking_tables

# The contract's names (DESIGN.md), and the desk's own report of parked messages
JOBS = (
    "reminders",
    "follow-ups",
    "escalations",
    "digest",
    "quota",
    "monthly-summary",
    "expire-holds",
    "purge-raw-events",
    "report-parked",
)


def madoguchi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def database_with_consultations(fresh_database_url: DatabaseFactory) -> str:
    url = fresh_database_url(migrated=True)
    engine = make_engine(url)
    prepare_booking_tables(engine, migrate=False)
    engine.dispose()
    return url


def test_jobs_list_names_every_job_of_the_contract_with_what_it_does(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path
) -> None:
    env = server_env(database_with_consultations(fresh_database_url), standin.url, tmp_path / "var")
    listed = madoguchi(env, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert set(rows) == set(JOBS)
    assert "owners' reminders of confirmed bookings" in rows["reminders"]
    assert "the monthly summary in Slack" in rows["monthly-summary"]


def test_jobs_run_refuses_an_unknown_job_and_a_time_that_is_not_one(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path
) -> None:
    env = server_env(database_with_consultations(fresh_database_url), standin.url, tmp_path / "var")
    unknown = madoguchi(env, "jobs", "run", "reminder")
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr
    bad = madoguchi(env, "jobs", "run", "reminders", "--at", "tomorrow")
    assert bad.returncode == 2 and "not an ISO 8601 time" in bad.stderr


def test_jobs_run_reminders_at_a_time_sends_once_through_the_running_server_and_records_the_real_time(
    fresh_database_url: DatabaseFactory,
    start_server: Callable[..., InProcessServer],
    standin: LineStandIn,
    tmp_path: Path,
) -> None:
    url = database_with_consultations(fresh_database_url)
    server = start_server(database_url=url)  # drains the outbox to the stand-in
    user = "U" + "d" * 32
    line_owner(server.db, 1, user)
    booking = confirmed_booking(
        server.db,
        FixedClock(jst(2027, 1, 4, 9, 0)),
        1,
        jst(2027, 1, 11, 14, 0),  # 成人の日
        meeting_url="https://meet.example.jp/xyz",
    )
    env = server_env(url, standin.url, tmp_path / "var")
    before = datetime.now(UTC)

    early = madoguchi(env, "jobs", "run", "reminders", "--at", "2027-01-10T09:59:00+09:00")
    assert (early.returncode, early.stdout) == (0, "reminders: no reminder due\n"), early.stderr
    ran = madoguchi(env, "jobs", "run", "reminders", "--at", "2027-01-10T10:00:00+09:00")
    assert (ran.returncode, ran.stdout) == (0, "reminders: 1 sent\n"), ran.stderr

    [delivery] = standin.wait_for_deliveries(user, 1)
    assert delivery.kind == "push" and delivery.retry_key
    assert delivery.texts == [
        "【かごしまDX相談窓口】\n明日のご相談のお知らせです。\n日時：1月11日(月・祝) 14:00〜15:00\n"
        "方法：オンライン\n参加URL：https://meet.example.jp/xyz\n"
        "ご都合が悪くなったときは、メニューの「予約確認」から変更・キャンセルできます。"
    ]
    again = madoguchi(env, "jobs", "run", "reminders", "--at", "2027-01-10T10:05:00+09:00")
    assert (again.returncode, again.stdout) == (0, "reminders: no reminder due\n")
    with server.db.session() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        reminder = store.reminders_of(session=session, booking_id=booking)["day_before"]
        # --at moved the job's notion of now only: what was recorded is the wall clock's
        assert row.created_at >= before and reminder.done_at is not None and reminder.done_at >= before
        assert reminder.status == "sent" and reminder.outbox_message_id == row.id
    assert len(standin.deliveries_to(user)) == 1


def test_two_processes_running_the_reminders_at_once_queue_each_reminder_once(
    fresh_database_url: DatabaseFactory, standin: LineStandIn, tmp_path: Path
) -> None:
    url = database_with_consultations(fresh_database_url)
    db = Database(url)
    install_reminders(load_desk_config().reminders)
    clock = FixedClock(jst(2027, 1, 4, 9, 0))
    for i in range(1, 41):
        line_owner(db, i, f"U{i:032x}")
        start = jst(2027, 1, 6, 9, 0) + timedelta(hours=2 * ((i - 1) // 8))  # 09:00 to 17:00
        confirmed_booking(db, clock, i, start, coordinator=f"c{i % 8}")
    env = server_env(url, standin.url, tmp_path / "var")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_", "SLACK_"))}
    command = [
        sys.executable,
        "-m",
        "handlers.cli",
        "jobs",
        "run",
        "reminders",
        "--at",
        "2027-01-05T10:00:00+09:00",
    ]
    procs = [
        subprocess.Popen(
            command, env={**base, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    sent = [int(out.split(": ", 1)[1].split(" sent")[0]) if " sent" in out else 0 for out, _ in outputs]
    assert sum(sent) == 40
    with db.session() as session:
        consultations = cast(list[int], session.scalars(select(OutboxMessage.consultation_id)).all())
    db.dispose()
    assert sorted(consultations) == list(range(1, 41))  # one each, whichever process queued it
