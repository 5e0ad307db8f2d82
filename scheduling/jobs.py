"""The scheduler: periodic jobs with stable ids, run by exactly one process.

What must happen exactly once (a reminder, a message) lives in database rows written with the change
that causes it; these jobs only sweep those tables. Jobs get no arguments (APScheduler's stores pickle
arguments in clear), open their own session, and one failing item never stops the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session

from storage.clock import Clock
from storage.database import Database
from storage.inbox import purge_raw_bodies

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What the jobs work with; the composition root sets it before the scheduler starts."""

    db: Database
    clock: Clock
    # The life cycle's sweep (bot.lifecycle.expire_holds): every status change is the life cycle's.
    expire_holds: Callable[[Session, Clock], list[int]]
    raw_event_retention_days: int = 30


_context: JobContext | None = None


def configure_jobs(context: JobContext) -> None:
    global _context
    _context = context


def _ctx() -> JobContext:
    if _context is None:
        raise RuntimeError("scheduler jobs are not configured")
    return _context


def expire_holds_job() -> None:
    """Gives back every held slot whose hold has run out."""
    ctx = _ctx()
    with ctx.db.session() as session:
        expired = ctx.expire_holds(session, ctx.clock)
    if expired:
        log.info("expired %d holds", len(expired))


def purge_raw_events_job() -> None:
    """Deletes raw webhook bodies older than the retention period (they are personal data)."""
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
    if total:
        log.info("purged %d raw webhook bodies", total)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], None]
    trigger: str
    options: dict[str, int]


JOBS = (
    JobSpec("expire-holds", expire_holds_job, "interval", {"minutes": 1}),
    JobSpec("purge-raw-events", purge_raw_events_job, "cron", {"hour": 3, "minute": 17}),
)


def add_jobs(scheduler: BaseScheduler) -> None:
    """Adds the desk's jobs with fixed ids, so a restart replaces them instead of adding copies."""
    for job in JOBS:
        scheduler.add_job(
            job.func,
            job.trigger,
            id=job.id,
            replace_existing=True,
            misfire_grace_time=300,
            coalesce=True,
            max_instances=1,
            **job.options,
        )
