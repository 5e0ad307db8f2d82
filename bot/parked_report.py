"""Messages the outbox gave up on (parked as failed after its bounded retries, or refused), reported to the
desk's Slack channel once: one post per newly parked batch, with counts only, and each row recorded as
reported so it is never counted again."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.sending import TO_DESK, Notice, Outbound
from storage import desk_posts
from storage.clock import Clock
from storage.database import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

KIND = "parked_report"


@dataclass(frozen=True)
class ParkedReporter:
    db: Database
    outbound: Outbound
    recorded: Clock

    def run(self, now: datetime) -> str:
        """Reports what was parked since the last report (nothing when nothing was)."""
        if self.outbound.coordinators is None:
            return "no coordinators' channel is configured: nothing reported"
        with self.db.session() as session:
            parked = dict(desk_posts.unreported_parked(session=session))
            mine = desk_posts.mark_reported(session=session, outbox_ids=list(parked), now=self.recorded.now())
            # A report that could not be posted itself is recorded, not reported again and again.
            reports = set(
                session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.id.in_(mine), OutboxMessage.reason == KIND)
                )
            )
            counted = [(row_id, parked[row_id]) for row_id in mine if row_id not in reports]
            if not counted:
                return "nothing newly parked"
            by_channel = Counter(channel for _, channel in counted)
            detail = {"count": len(counted), "by_channel": dict(sorted(by_channel.items()))}
            self.outbound.to_coordinators(session=session, notice=Notice(KIND, detail=detail, to=TO_DESK))
        log.warning("outbox: %d newly parked message(s) reported to the desk", len(counted))
        return f"{len(counted)} newly parked message(s) reported"
