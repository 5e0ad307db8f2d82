"""The scheduler process's wiring: APScheduler with the desk's jobs, in `madoguchi scheduler` or `serve`.

Jobs live in memory and are added at start-up with fixed ids: they are periodic sweeps over database
rows, so nothing is lost with the process and nothing is pickled. Run exactly one scheduler.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.digest import DigestSender
from bot.escalations import Escalator
from bot.follow_ups import FollowUpSender
from bot.lifecycle import expire_holds
from bot.monthly_summary import MonthlySummarySender
from bot.outcomes import offer_outcome_records
from bot.parked_report import ParkedReporter
from bot.quota import QuotaWatch
from bot.reminders import ReminderSender
from handlers.line.quota import quota_reader
from handlers.services import Services
from scheduling.jobs import JobContext, add_jobs, configure_jobs
from storage.clock import JST, Clock

log = logging.getLogger(__name__)


def job_context(services: Services, clock: Clock | None = None) -> JobContext:
    """What the jobs work with; `clock` is the jobs' notion of now (`jobs run --at`), the services' clock
    stays what records and sends."""
    reminders = ReminderSender(
        db=services.db,
        outbound=services.outbound,
        config=services.desk.reminders,
        desk_name=services.desk.desk.short_name,
        recorded=services.clock,
    )
    digest = DigestSender(
        db=services.db, outbound=services.outbound, desk=services.desk, recorded=services.clock
    )
    summary = MonthlySummarySender(
        db=services.db, outbound=services.outbound, desk=services.desk, recorded=services.clock
    )
    parked = ParkedReporter(db=services.db, outbound=services.outbound, recorded=services.clock)
    quota = QuotaWatch(
        db=services.db,
        outbound=services.outbound,
        warning_ratio=services.desk.desk_jobs.quota_warning_ratio,
        recorded=services.clock,
    )
    escalator = Escalator(
        db=services.db, outbound=services.outbound, desk=services.desk, recorded=services.clock
    )
    follow_ups = FollowUpSender(
        db=services.db,
        outbound=services.outbound,
        config=services.desk.follow_ups,
        quiet_hours=services.desk.reminders,
        closures=services.desk.scheduling.closures,
        desk_name=services.desk.desk.short_name,
        recorded=services.clock,
    )
    return JobContext(
        db=services.db,
        clock=clock or services.clock,
        expire_holds=expire_holds,
        raw_event_retention_days=services.settings.raw_event_retention_days,
        send_reminders=lambda now: reminders.run(now).summary(),
        send_digest=digest.run,
        read_quota=quota_reader(services.line_api, quota),
        post_monthly_summary=summary.run,
        report_parked=parked.run,
        send_escalations=lambda now: escalator.run(now).summary(),
        send_follow_ups=lambda now: follow_ups.run(now).summary(),
        offer_outcomes=lambda now: _offer_outcomes(services, now),
    )


def _offer_outcomes(services: Services, now: datetime) -> str:
    """Shows 対応記録を入力 on the card of each confirmed booking whose time has passed, once."""
    with services.db.session() as session:
        offered = offer_outcome_records(session, services.outbound, now)
    return f"{offered} card(s) offered 対応記録を入力"


def build_scheduler(services: Services, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler in Japan time with every desk job added (not started)."""
    configure_jobs(job_context(services))
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=JST)
    add_jobs(scheduler)
    return scheduler
