"""The LINE message quota, read daily: each reading is stored, and at the configured share of the month's
quota (default 80 %) the desk is warned in Slack, once a month."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.sending import TO_DESK, Notice, Outbound
from storage import desk_posts
from storage.clock import JST, Clock
from storage.database import Database

log = logging.getLogger(__name__)

KIND = "quota_warning"


def month_of(moment: datetime) -> str:
    """The Japan-time month of a moment, YYYY-MM."""
    return f"{moment.astimezone(JST):%Y-%m}"


@dataclass(frozen=True)
class QuotaWatch:
    """What the quota job needs besides LINE's answer: where the warning goes, its threshold, the clock."""

    db: Database
    outbound: Outbound
    warning_ratio: float
    recorded: Clock  # what is stored carries the real time, never `jobs run --at`'s

    def record(self, now: datetime, quota: int | None, used: int) -> str:
        """Stores one reading taken at `now`; warns the desk once in the month when it reaches the share."""
        month = month_of(now)
        with self.db.session() as session:
            desk_posts.record_quota(
                session=session, month=month, quota=quota, used=used, now=self.recorded.now()
            )
            summary = f"{used} of {quota if quota is not None else 'unlimited'} messages used in {month}"
            if quota is None or quota <= 0 or used < self.warning_ratio * quota:
                return summary
            if self.outbound.coordinators is None:
                return f"{summary}; no coordinators' channel to warn"
            post = desk_posts.claim_post(
                session=session, job=desk_posts.QUOTA_WARNING, key=month, now=self.recorded.now()
            )
            if post is None:
                return f"{summary}; the desk was warned already this month"
            detail = {"month": month, "quota": quota, "used": used, "ratio": self.warning_ratio}
            rows = self.outbound.to_coordinators(
                session=session, notice=Notice(KIND, detail=detail, to=TO_DESK)
            )
            post.outbox_message_id = rows[0].id if rows else None
        log.warning("LINE quota: %d of %d used in %s; the desk is warned", used, quota, month)
        return f"{summary}; the desk is warned"
