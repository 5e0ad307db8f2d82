"""The scheduler: the desk's jobs with fixed ids, run by APScheduler, and `madoguchi scheduler` as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from bot.engine import IntakeEngine
from bot.reminders import install_reminders
from config import DeskConfig
from handlers.scheduler import build_scheduler
from handlers.services import Services
from scheduling.holds import place_hold
from scheduling.jobs import JOBS, add_jobs, purge_raw_events_job
from scheduling.slots import Slot
from storage.bookings import Booking
from storage.clock import JST, FixedClock
from storage.contacts import get_or_create_contact
from storage.database import Database, make_engine
from storage.form_submissions import FormSubmission, claim_form_token
from storage.inbox import NewEvent, store_events
from storage.models import InboxEvent, OutboxMessage
from storage.reminders import reminders_of
from storage.slack_events import SlackEvent, claim_slack_event
from tests.conftest import TEST_KEY, DatabaseFactory, make_settings
from tests.scheduling.reminder_support import confirmed_booking, line_owner
from tests.scheduling.support import prepare_booking_tables


def test_the_jobs_have_fixed_ids_so_a_restart_replaces_them(services: Services) -> None:
    scheduler = build_scheduler(services)
    scheduler.start(paused=True)
    try:
        build_ids = sorted(job.id for job in scheduler.get_jobs())
        add_jobs(scheduler)  # what a second start-up does
        assert (
            sorted(job.id for job in scheduler.get_jobs())
            == build_ids
            == [
                "digest",
                "escalations",
                "expire-holds",
                "follow-ups",
                "monthly-summary",
                "purge-raw-events",
                "quota",
                "reminders",
                "report-parked",
            ]
        )
        assert all(job.misfire_grace_time >= 60 for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)


def test_the_running_scheduler_expires_a_lapsed_hold(own_services: Services, clock: FixedClock) -> None:
    start = datetime(2026, 12, 3, 10, 0, tzinfo=JST)
    slot = Slot(
        "example-kagoshima", "online", start, start + timedelta(hours=1), start, start + timedelta(hours=1)
    )
    with own_services.db.session() as session:
        contact = get_or_create_contact(session=session, channel="web", external_id="scheduler-test")
        session.flush()
        booking = place_hold(session=session, contact_id=contact.id, slot=slot, clock=clock)
        assert booking is not None
        booking_id = booking.id
    clock.advance(days=1)
    scheduler = build_scheduler(own_services)
    scheduler.start()
    try:
        scheduler.modify_job("expire-holds", next_run_time=datetime.now(JST))
        deadline = time.monotonic() + 10
        status = None
        while status != "expired" and time.monotonic() < deadline:
            time.sleep(0.05)
            with own_services.db.session() as session:
                status = session.scalar(select(Booking.status).where(Booking.id == booking_id))
        assert status == "expired"
    finally:
        scheduler.shutdown(wait=True)


def test_madoguchi_scheduler_runs_until_sigterm(database_url: str, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_", "SLACK_"))},
        "DATABASE_URL": database_url,
        "MADOGUCHI_PII_KEY": TEST_KEY,
        "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "handlers.cli", "scheduler"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "scheduler started" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert "scheduler started: expire-holds, purge-raw-events" in log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert "scheduler stopped" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_purge_job_empties_raw_webhook_bodies_past_their_retention(
    own_services: Services, clock: FixedClock
) -> None:
    old, recent = clock.now() - timedelta(days=31), clock.now() - timedelta(days=29)
    with own_services.db.session() as session:
        for event_id, at in (("01OLD", old), ("01RECENT", recent)):
            store_events(session=session, channel="line", received_at=at,
                         events=[NewEvent(event_id, "Uowner", 1, {"message": {"text": "090-0000-0000"}})])  # fmt: skip
        session.execute(update(InboxEvent).values(status="processed"))
    build_scheduler(own_services)  # configures the jobs for this process
    purge_raw_events_job()
    with own_services.db.session() as session:
        bodies: dict[str, object] = dict(session.execute(select(InboxEvent.event_id, InboxEvent.body)).all())
    assert bodies == {"01OLD": {}, "01RECENT": {"message": {"text": "090-0000-0000"}}}


def test_the_purge_job_forgets_slack_events_past_the_same_retention(
    own_services: Services, clock: FixedClock
) -> None:
    old, recent = clock.now() - timedelta(days=31), clock.now() - timedelta(days=29)
    with own_services.db.session() as session:
        for event_id, at in (("EvOLD", old), ("EvRECENT", recent)):
            assert claim_slack_event(session=session, event_id=event_id, event_type="message", now=at)
    build_scheduler(own_services)
    said = purge_raw_events_job()
    assert said.endswith("1 Slack event(s) forgotten")
    with own_services.db.session() as session:
        assert list(session.scalars(select(SlackEvent.event_id))) == ["EvRECENT"]


def test_the_purge_job_forgets_form_tokens_past_the_same_retention(
    own_services: Services, clock: FixedClock
) -> None:
    old, recent = clock.now() - timedelta(days=31), clock.now() - timedelta(days=29)
    with own_services.db.session() as session:
        for token, at in (("old-form-token", old), ("recent-form-token", recent)):
            assert claim_form_token(session=session, token=token, now=at) is None
    build_scheduler(own_services)
    said = purge_raw_events_job()
    assert "1 form token(s)" in said
    with own_services.db.session() as session:
        assert list(session.scalars(select(FormSubmission.submitted_at))) == [recent]


def test_every_job_is_scheduled_once_with_its_own_grace_and_coalesces(services: Services) -> None:
    scheduler = build_scheduler(services)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert sorted(jobs) == sorted(spec.id for spec in JOBS)
        for spec in JOBS:
            job = jobs[spec.id]
            assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (
                spec.misfire_grace_time,
                spec.coalesce,
                1,
            )
        assert jobs["reminders"].misfire_grace_time == 600  # late after a restart: still run, once
        assert jobs["purge-raw-events"].misfire_grace_time == 6 * 3600
        assert jobs["escalations"].misfire_grace_time == 1800
        assert jobs["follow-ups"].misfire_grace_time == 1800
    finally:
        scheduler.shutdown(wait=False)


def test_the_running_scheduler_sends_a_due_reminder_once(
    fresh_database_url: DatabaseFactory, desk: DeskConfig, var_dir: Path
) -> None:
    url = fresh_database_url(migrated=True)
    engine = make_engine(url)
    prepare_booking_tables(engine, migrate=False)
    engine.dispose()
    clock = FixedClock(datetime(2027, 1, 4, 9, 0, tzinfo=JST))
    db = Database(url)
    services = Services(
        settings=make_settings(url, var_dir), desk=desk, db=db, clock=clock, engine=IntakeEngine(desk, clock)
    )
    install_reminders(desk.reminders)
    line_owner(db, 1, "U" + "e" * 32)
    booking = confirmed_booking(db, clock, 1, datetime(2027, 1, 6, 15, 0, tzinfo=JST))
    clock.set(datetime(2027, 1, 5, 10, 0, tzinfo=JST))  # the day before, at 10:00
    scheduler = build_scheduler(services)
    scheduler.start()
    try:
        scheduler.modify_job("reminders", next_run_time=datetime.now(JST))
        deadline = time.monotonic() + 10
        status = None
        while status != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)
            with db.session() as session:
                status = reminders_of(session=session, booking_id=booking)["day_before"].status
        assert status == "sent"
        scheduler.modify_job("reminders", next_run_time=datetime.now(JST))  # runs again: nothing new
        time.sleep(0.5)
    finally:
        scheduler.shutdown(wait=True)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    db.dispose()
