"""The scheduler: periodic jobs with stable ids, run by exactly one process.

What must happen exactly once (a reminder, a message) lives in database rows written with the change
that causes it; these jobs only sweep those tables. Jobs get no arguments (APScheduler's stores pickle
arguments in clear), open their own session, and one failing item never stops the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session

from storage.clock import Clock
from storage.database import Database
from storage.form_submissions import purge_form_submissions
from storage.inbox import purge_raw_bodies
from storage.slack_events import purge_slack_events

log = logging.getLogger(__name__)

FORM_TOKENS_KEPT = timedelta(days=2)  # whatever the retention: a form's cookie keeps its token a day


@dataclass
class JobContext:
    """What the jobs work with; the composition root sets it before the scheduler starts."""

    db: Database
    clock: Clock
    # The life cycle's sweep (bot.lifecycle.expire_holds): every status change is the life cycle's.
    expire_holds: Callable[[Session, Clock], list[int]]
    raw_event_retention_days: int = 30
    # The reminders sweep (bot.reminders.ReminderSender.run): sends what is due at the given time.
    send_reminders: Callable[[datetime], str] | None = None
    # The coordinators' morning digest (bot.digest.DigestSender.run), as of the given time.
    send_digest: Callable[[datetime], str] | None = None
    # Reads the LINE message quota and warns the desk at its threshold (bot.quota.QuotaWatch).
    read_quota: Callable[[datetime], str] | None = None
    # The summary of the month before the given time's (bot.monthly_summary.MonthlySummarySender.run).
    post_monthly_summary: Callable[[datetime], str] | None = None
    # Reports newly parked outbox rows to the desk (bot.parked_report.ParkedReporter.run).
    report_parked: Callable[[datetime], str] | None = None
    # The escalations sweep (bot.escalations.Escalator.run): requests nobody acted on, at the given time.
    send_escalations: Callable[[datetime], str] | None = None
    # The follow-ups sweep (bot.follow_ups.FollowUpSender.run): nudges and surveys due at the given time.
    send_follow_ups: Callable[[datetime], str] | None = None
    # Offers coordinators to record the outcome of what took place (bot.outcomes.offer_outcome_records),
    # called by the follow-ups job after its own sweep when set; what it did, in a line.
    offer_outcomes: Callable[[datetime], str] | None = None


_context: JobContext | None = None


def configure_jobs(context: JobContext) -> None:
    global _context
    _context = context


def _ctx() -> JobContext:
    if _context is None:
        raise RuntimeError("scheduler jobs are not configured")
    return _context


def expire_holds_job() -> str:
    """Gives back every held slot whose hold has run out."""
    ctx = _ctx()
    with ctx.db.session() as session:
        expired = ctx.expire_holds(session, ctx.clock)
    if expired:
        log.info("expired %d holds", len(expired))
    return f"{len(expired)} hold(s) expired"


def purge_raw_events_job() -> str:
    """Deletes raw webhook bodies older than the retention period (they are personal data), and the Slack
    events received and the web form tokens sent before it."""
    ctx = _ctx()
    now = ctx.clock.now()
    cutoff = now - timedelta(days=ctx.raw_event_retention_days)
    total = 0
    while True:
        with ctx.db.session() as session:
            purged = purge_raw_bodies(session=session, older_than=cutoff, now=now)
        total += purged
        if not purged:
            break
    with ctx.db.session() as session:  # the Slack event ids kept against retries and replays
        slack = purge_slack_events(session=session, received_before=cutoff)
    with ctx.db.session() as session:  # kept against a form sent twice: its token lives in its cookie a day
        forms = purge_form_submissions(session=session, submitted_before=min(cutoff, now - FORM_TOKENS_KEPT))
    if total or slack or forms:
        log.info("purged %d raw webhook bodies, %d form tokens and %d Slack event rows", total, forms, slack)
    return f"{total} raw webhook bod(ies) purged, {forms} form token(s) and {slack} Slack event(s) forgotten"


def reminders_job() -> str:
    """Sends the owners' reminders that are due (and records those that no longer mean anything)."""
    ctx = _ctx()
    if ctx.send_reminders is None:
        raise RuntimeError("the reminders job is not configured")
    summary = ctx.send_reminders(ctx.clock.now())
    log.info("reminders: %s", summary)
    return summary


def _at_now(name: str, step: Callable[[datetime], str] | None) -> str:
    if step is None:
        raise RuntimeError(f"the {name} job is not configured")
    summary = step(_ctx().clock.now())
    log.info("%s: %s", name, summary)
    return summary


def digest_job() -> str:
    """Queues the coordinators' morning digest (on the desk's working days, once per coordinator a day)."""
    return _at_now("digest", _ctx().send_digest)


def quota_job() -> str:
    """Reads the LINE message quota; warns the desk once a month at its threshold."""
    return _at_now("quota", _ctx().read_quota)


def monthly_summary_job() -> str:
    """Posts the previous month's summary to the intake channel, once per month."""
    return _at_now("monthly-summary", _ctx().post_monthly_summary)


def report_parked_job() -> str:
    """Reports the outbox rows parked since the last report to the desk, once each."""
    return _at_now("report-parked", _ctx().report_parked)


def escalations_job() -> str:
    """Brings up the requests nobody acted on: the assignee, then the approvers, each once."""
    ctx = _ctx()
    if ctx.send_escalations is None:
        raise RuntimeError("the escalations job is not configured")
    summary = ctx.send_escalations(ctx.clock.now())
    log.info("escalations: %s", summary)
    return summary


def follow_ups_job() -> str:
    """Nudges intakes left unfinished (giving their held time back) and asks owners whose consultation took
    place how it went; then the outcome offers, when configured."""
    ctx = _ctx()
    if ctx.send_follow_ups is None:
        raise RuntimeError("the follow-ups job is not configured")
    now = ctx.clock.now()
    summary = ctx.send_follow_ups(now)
    if ctx.offer_outcomes is not None:
        summary += f"; outcomes: {ctx.offer_outcomes(now)}"
    log.info("follow-ups: %s", summary)
    return summary


@dataclass(frozen=True)
class JobSpec:
    """A job: its fixed id (also its name for `madoguchi jobs run`), when it runs, and how late it may
    still start."""

    id: str
    func: Callable[[], str]
    trigger: str
    options: dict[str, int | str]
    # How late a start may be and still run; runs missed meanwhile are coalesced into one. The sweeps
    # catch up by what is due in the database, so one late run does all that a missed one would have.
    misfire_grace_time: int = 300
    coalesce: bool = True
    description: str = ""


JOBS = (
    JobSpec(
        "expire-holds",
        expire_holds_job,
        "interval",
        {"minutes": 1},
        misfire_grace_time=300,
        description="gives back lapsed holds",
    ),
    JobSpec(
        "purge-raw-events",
        purge_raw_events_job,
        "cron",
        {"hour": 3, "minute": 17},
        misfire_grace_time=6 * 3600,  # a daily purge: later that night is as good
        description="deletes raw webhook bodies, Slack event ids and sent form tokens past their retention",
    ),
    JobSpec(
        "reminders",
        reminders_job,
        "interval",
        {"minutes": 1},
        misfire_grace_time=600,
        description="owners' reminders of confirmed bookings",
    ),
    JobSpec(
        "follow-ups",
        follow_ups_job,
        "interval",
        {"minutes": 5},
        misfire_grace_time=1800,  # a nudge or a survey half an hour late is as good; the next run catches up
        description="nudges for abandoned intakes, satisfaction surveys",
    ),
    JobSpec(
        "escalations",
        escalations_job,
        "interval",
        {"minutes": 5},
        misfire_grace_time=1800,  # a late sweep is as good: it does what the database says is due
        description="requests nobody acted on: the assignee, then the approvers",
    ),
    JobSpec(
        "digest",
        digest_job,
        "cron",
        {"day_of_week": "mon-fri", "hour": 8, "minute": 30},  # the job skips holidays and closures
        misfire_grace_time=3 * 3600,  # late that morning is still worth it; the row keeps it to one a day
        description="the coordinators' morning digest",
    ),
    JobSpec(
        "quota",
        quota_job,
        "cron",
        {"hour": 9, "minute": 7},
        misfire_grace_time=12 * 3600,
        description="the LINE message quota",
    ),
    JobSpec(
        "monthly-summary",
        monthly_summary_job,
        "cron",
        {"day": 1, "hour": 9, "minute": 0},
        misfire_grace_time=24 * 3600,  # later on the 1st is as good; after that, `jobs run` posts it
        description="the monthly summary in Slack",
    ),
    JobSpec(
        "report-parked",
        report_parked_job,
        "interval",
        {"minutes": 5},
        misfire_grace_time=600,
        description="reports newly parked messages to the desk, once each",
    ),
)
JOBS_BY_NAME = {job.id: job for job in JOBS}


class UnknownJob(LookupError):
    """No job has that name."""


def run_job(name: str) -> str:
    """Runs one job once, now (on the configured context's clock); what it did, in a line."""
    job = JOBS_BY_NAME.get(name)
    if job is None:
        raise UnknownJob(f"no job named {name!r} (madoguchi jobs list)")
    return job.func()


def add_jobs(scheduler: BaseScheduler) -> None:
    """Adds the desk's jobs with fixed ids, so a restart replaces them instead of adding copies."""
    for job in JOBS:
        scheduler.add_job(
            job.func,
            job.trigger,
            id=job.id,
            replace_existing=True,
            misfire_grace_time=job.misfire_grace_time,
            coalesce=job.coalesce,
            max_instances=1,
            **job.options,
        )
