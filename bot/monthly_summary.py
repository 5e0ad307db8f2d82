"""The monthly summary posted to the intake channel on the 1st at 09:00 JST: the previous Japan-time
month's consultations by status, method, category and region, the appointments held, the on-site visits
against the target, the survey average and the median response time, with the month's report (xlsx, PDF)
attached. Once per month: a row with a unique (job, key) is written with the outbox row, so a re-run posts
a missed month and never doubles a posted one.

The notice names the month only: the figures and the files come from the monthly report's aggregation,
counted and built when the post is delivered (handlers/slack/monthly_report.py), so the job's transaction
stays short and the post and its files agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.sending import TO_DESK, Notice, Outbound
from config import DeskConfig
from storage import desk_posts
from storage.clock import JST, Clock, month_bounds
from storage.database import Database
from storage.models import Consultation

log = logging.getLogger(__name__)

KIND = "monthly_summary"


def previous_month(now: datetime) -> str:
    """The Japan-time month before the one `now` is in, YYYY-MM."""
    local = now.astimezone(JST)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def received(session: Session, month: str) -> int:
    """Consultations submitted in the Japan-time month (the report's 受付件数)."""
    start, end = month_bounds(month)
    query = select(func.count(Consultation.id)).where(
        Consultation.submitted_at >= start, Consultation.submitted_at < end
    )
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class MonthlySummarySender:
    db: Database
    outbound: Outbound
    desk: DeskConfig
    recorded: Clock

    def run(self, now: datetime) -> str:
        """Posts the summary of the month before `now`'s, unless it was posted already."""
        month = previous_month(now)
        if self.outbound.coordinators is None:
            return "no coordinators' channel is configured: nothing posted"
        with self.db.session() as session:
            post = desk_posts.claim_post(
                session=session, job=desk_posts.MONTHLY_SUMMARY, key=month, now=self.recorded.now()
            )
            if post is None:
                return f"the summary of {month} was posted already: nothing posted"
            count = received(session, month)
            rows = self.outbound.to_coordinators(
                session=session, notice=Notice(KIND, detail={"month": month}, to=TO_DESK)
            )
            post.outbox_message_id = rows[0].id if rows else None
        log.info("monthly summary of %s queued", month)
        return f"the summary of {month} is posted ({count} consultation(s))"
