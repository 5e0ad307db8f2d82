"""Many confirmed bookings of LINE owners whose day-before reminders fall due together, and the checks that
each owner got exactly one push: the support of the reminder scale and kill tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, insert, select, text, update

from bot.lifecycle import BookingStatus, hold_slot, request_booking, transition_booking
from bot.reminders import install_reminders, reminder_times
from config import load_desk_config
from scheduling.slots import Slot
from storage import reminders as store
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.crypto import keyring
from storage.database import Database, make_engine
from storage.models import Consultation, Contact, OutboxMessage
from tests.line.conftest import ServeProcess
from tests.line.standin import LineStandIn
from tests.scheduling.support import jst, prepare_booking_tables

PUSH = "/v2/bot/message/push"
CONFIRMED_AT = jst(2027, 2, 1, 9, 0)  # when the coordinators confirmed the bookings (a Monday)
STARTS_AT = jst(2027, 2, 5, 14, 0)  # every meeting: Friday 5 February 14:00
DUE_AT = "2027-02-04T10:00:00+09:00"  # the day before at 10:00: every day-before reminder is due
DUE_TEXT = "明日のご相談のお知らせです。"


def owner(i: int) -> str:
    """The LINE user id of booking i's owner."""
    return f"U{i:032x}"


def confirmed_bookings(url: str, count: int, *, migrate: bool = True) -> list[int]:
    """Migrates the database and makes `count` consultations of as many LINE owners, each with a
    booking confirmed through the life cycle (so its reminders are armed) for the same start, one
    coordinator each."""
    engine = make_engine(url)
    prepare_booking_tables(engine, consultations=count, migrate=migrate)
    engine.dispose()
    install_reminders(load_desk_config().reminders)
    clock = FixedClock(CONFIRMED_AT)
    now = clock.now()
    db = Database(url)
    ids = []
    try:
        for first in range(1, count + 1, 100):  # a hundred bookings a transaction
            with db.session() as session:
                for i in range(first, min(first + 100, count + 1)):
                    contact = get_or_create_contact(session=session, channel="line", external_id=owner(i))
                    session.flush()
                    session.execute(
                        update(Consultation).where(Consultation.id == i).values(contact_id=contact.id)
                    )
                    end = STARTS_AT + timedelta(hours=1)
                    slot = Slot(f"c{i}", "online", STARTS_AT, end, STARTS_AT, end)
                    booking = hold_slot(session=session, consultation_id=i, slot=slot, clock=clock)
                    assert booking is not None
                    assert request_booking(
                        session=session,
                        booking_id=booking.id,
                        consultation_id=i,
                        actor="owner",
                        now=now,
                        hold_until=now + timedelta(days=30),
                    )
                    assert transition_booking(
                        session=session,
                        booking_id=booking.id,
                        to=BookingStatus.CONFIRMED,
                        actor="coordinator",
                        now=now,
                    )
                    ids.append(booking.id)
        with db.session() as session:
            armed = session.scalar(
                select(func.count()).where(
                    store.Reminder.status == store.PENDING, store.Reminder.kind == "day_before"
                )
            )
        assert armed == count
    finally:
        db.dispose()
    return ids


def armed_bookings(url: str, count: int, *, migrate: bool = True) -> list[int]:
    """The same as `confirmed_bookings`, written straight into storage in a few statements (the life
    cycle's thirty statements a booking would take minutes for thousands on a busy machine): the
    contacts, the confirmed bookings, and the reminder rows confirming them arms, timed by
    bot.reminders.reminder_times."""
    engine = make_engine(url)
    prepare_booking_tables(engine, consultations=count, migrate=migrate)
    engine.dispose()
    config = load_desk_config().reminders
    end = STARTS_AT + timedelta(hours=1)
    db = Database(url)
    try:
        with db.session() as session:
            ring = keyring()
            session.execute(
                insert(Contact),
                [
                    {
                        "id": i + 1,
                        "channel": "line",
                        "external_id": owner(i),
                        "external_id_hash": ring.lookup_hash(owner(i)),
                    }
                    for i in range(1, count + 1)
                ],
            )
            session.execute(
                update(Consultation).values(contact_id=Consultation.id + 1).where(Consultation.id <= count)
            )
            session.execute(
                insert(Booking),
                [
                    {
                        "id": i,
                        "consultation_id": i,
                        "coordinator_id": f"c{i}",
                        "starts_at": STARTS_AT,
                        "ends_at": end,
                        "blocked_from": STARTS_AT,
                        "blocked_until": end,
                        "method": "online",
                        "status": BookingStatus.CONFIRMED,
                        "created_at": CONFIRMED_AT,
                        "updated_at": CONFIRMED_AT,
                    }
                    for i in range(1, count + 1)
                ],
            )
            booking = Booking(starts_at=STARTS_AT, ends_at=end)
            due = reminder_times(booking, config)
            session.execute(
                insert(store.Reminder),
                [
                    {
                        "booking_id": i,
                        "kind": kind,
                        "status": store.PENDING,
                        "due_at": due_at,
                        "for_starts_at": STARTS_AT,
                        "created_at": CONFIRMED_AT,
                    }
                    for i in range(1, count + 1)
                    for kind, due_at in due.items()
                ],
            )
            if not db.is_sqlite:  # the ids were given: the sequences follow them
                for table in ("contact", "booking"):
                    session.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    finally:
        db.dispose()
    return list(range(1, count + 1))


def child_env(env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_", "SLACK_"))}
    return {**base, **env, "PYTHONUNBUFFERED": "1"}


def run_reminders(env: dict[str, str], at: str = DUE_AT) -> subprocess.Popen[str]:
    """`madoguchi jobs run reminders --at AT` as a child process (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "jobs", "run", "reminders", "--at", at],
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sent_count(output: str) -> int:
    """The reminders a run says it sent (its summary: `reminders: 500 sent, …`)."""
    for part in output.strip().split(": ", 1)[-1].split(", "):
        if part.endswith(" sent"):
            return int(part.split()[0])
    return 0


def queued_count(db: Database) -> int:
    """How many outbox rows there are, read without waiting for a writer (SQLite: a deferred, read-only
    transaction; WAL readers do not wait for the write lock)."""
    with db.engine.connect().execution_options(sqlite_read_only=True) as conn:
        return int(conn.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def outbox_rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def wait_all_sent(db: Database, count: int, timeout: float) -> list[OutboxMessage]:
    """Waits until `count` outbox rows exist and all are sent; the rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = outbox_rows(db)
        if len(rows) >= count and all(r.status == "sent" for r in rows):
            return rows
        statuses = Counter(r.status for r in rows)
        assert time.monotonic() < deadline, f"{len(rows)} rows of {count}: {dict(statuses)}"
        time.sleep(0.1)


def reminder_statuses(db: Database) -> Counter[tuple[str, str]]:
    with db.session() as session:
        return Counter(
            (kind, status)
            for kind, status in session.execute(select(store.Reminder.kind, store.Reminder.status))
        )


def assert_each_owner_pushed_once(standin: LineStandIn, count: int) -> None:
    """The stand-in's record: `count` accepted pushes, one per owner and per retry key, each a reminder."""
    pushes = [d for d in standin.deliveries if d.kind == "push"]
    by_user = Counter(d.user_id for d in pushes)
    by_key = Counter(d.retry_key for d in pushes)
    assert len(pushes) == count, f"{len(pushes)} pushes for {count} reminders"
    assert set(by_user) == {owner(i) for i in range(1, count + 1)}
    assert max(by_user.values()) == 1 and max(by_key.values()) == 1
    assert all(DUE_TEXT in d.texts[0] for d in pushes)


def start_together(procs: list[ServeProcess], timeout: float = 90.0) -> list[ServeProcess]:
    """Starts `madoguchi serve` and `worker` processes at once (not one after another: on a busy machine
    each takes seconds), and waits until every server answers and every worker's drain has started."""
    for proc in procs:
        args = [sys.executable, "-m", "handlers.cli", proc.command]
        if proc.command == "serve":
            args += ["--port", str(proc.port), "--no-scheduler", *proc.extra]
        with proc.log.open("ab") as out:
            proc.proc = subprocess.Popen(
                args, env=proc.env, cwd=proc.workdir, stdout=out, stderr=subprocess.STDOUT
            )
    for proc in procs:
        if proc.command == "serve":
            proc.wait_healthy(timeout)
        else:
            deadline = time.monotonic() + timeout
            while "LINE drain started" not in proc.log.read_text():
                assert proc.proc is not None and proc.proc.poll() is None, proc.log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the worker did not start"
                time.sleep(0.1)
    return procs
