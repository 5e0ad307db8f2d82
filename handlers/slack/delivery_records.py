"""What the Slack delivery records of its outbox rows: a row sent (with its card's place, or the monthly
post's progress), tried again after its backoff, or parked (refused by Slack, nothing to show, given up);
and, after Slack failed, the parked rows brought forward by the first delivery that goes through."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.line.sync import WriteGate
from handlers.settings import DeliveryTuning
from handlers.slack.pacing import retry_after, retry_at
from handlers.slack.posting import Posted
from storage.channels import Channel
from storage.clock import Clock
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import (
    REJECTED,
    DueMessage,
    mark_failed,
    mark_retry,
    mark_sent,
    record_progress,
    resume_parked,
)
from storage.slack_cards import record_card

# The delivery's one logger, named for the module that holds the whole (handlers/slack/delivery.py).
log = logging.getLogger("handlers.slack.delivery")
CHANNEL = Channel.SLACK
RESUME_WITHIN = timedelta(days=1)
# What resending the same call cannot mend (the others are retried: 5xx, 429, a lost connection)
REFUSED = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "invalid_arguments",
    "msg_too_long",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "missing_scope",
}


class DeliveryRecords:
    """The SLACK outbox rows' side of the delivery: each write one transaction, one SQLite writer at a time."""

    def __init__(self, *, db: Database, clock: Clock, tuning: DeliveryTuning, gate: WriteGate) -> None:
        self.db = db
        self.clock = clock
        self.tuning = tuning
        self.gate = gate
        # Slack failed since its last answer: the first card that goes through brings the waiting ones forward.
        self.away = False

    def card_tried_before(self, due: DueMessage, consultation_id: int) -> bool:
        """Whether a card of this consultation may have reached Slack unrecorded: this row or another of the
        consultation was attempted before."""
        if due.attempts > 1:
            return True
        with self.db.session() as session:
            earlier = session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.channel == CHANNEL,
                    OutboxMessage.consultation_id == consultation_id,
                    OutboxMessage.id != due.id,
                    OutboxMessage.attempts > 0,
                )
                .limit(1)
            ).first()
        return earlier is not None

    def card_sent(self, due: DueMessage, consultation_id: int, posted: Posted) -> None:
        """Stores the card's place and marks the row sent, in one transaction."""
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            record_card(
                session=session,
                consultation_id=consultation_id,
                channel=posted.channel,
                ts=posted.ts,
                now=now,
            )
            self._sent(session, due, posted.via, now)
        log.info("outbox %s: card of consultation %s %s", due.id, consultation_id, posted.via)

    def message_sent(self, due: DueMessage, via: str) -> None:
        """Marks the row of a message sent."""
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            self._sent(session, due, via, now)

    def progress(self, due: DueMessage, progress: dict[str, Any]) -> bool:
        """Records what is done so far; False (and nothing more is done) when the row is no longer ours."""
        with self.gate.hold(), self.db.session() as session:
            ours = record_progress(
                session=session, message_id=due.id, progress=progress, lease_until=due.lease_until
            )
        if not ours:
            log.warning("outbox %s: its lease ran out mid-delivery; left to the next claim", due.id)
        return ours

    def finished(self, due: DueMessage, progress: dict[str, Any], via: str) -> None:
        """Records the files shared and marks the row sent, in one transaction."""
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            record_progress(
                session=session, message_id=due.id, progress=progress, lease_until=due.lease_until
            )
            self._sent(session, due, via, now)

    def later(self, due: DueMessage, error: str) -> None:
        """Tries the row again after its backoff (what it needs is not there yet)."""
        with self.gate.hold(), self.db.session() as session:
            mark_retry(
                session=session,
                message_id=due.id,
                retry_at=retry_at(self.clock, self.tuning, due.attempts, None),
                error=error,
                reply_uncertain=False,
                lease_until=due.lease_until,
            )

    def park(self, due: DueMessage, error: str, status: str = "failed") -> None:
        """Takes the row out of the delivery with its status (failed, skipped, rejected) and why."""
        with self.gate.hold(), self.db.session() as session:
            mark_failed(
                session=session, message_id=due.id, error=error, status=status, lease_until=due.lease_until
            )
        log.warning("outbox %s: %s after %s attempt(s): %s", due.id, status, due.attempts, error)

    def not_delivered(
        self, due: DueMessage, exc: SlackApiError | None, *, posted: bool = False, error: str = ""
    ) -> None:
        """Parks what Slack refused, else tries again after the backoff (and Retry-After). With `posted`, the
        message is in Slack already and only its files are missing: given up after the bounded attempts."""
        code = str(exc.response.get("error") or exc.response.status_code) if exc is not None else error
        error = f"posted; its files not attached: {code}" if posted else code
        if code in REFUSED:
            self.park(due, f"refused by Slack: {error}", status=REJECTED)
            return
        if posted and due.attempts >= self.tuning.max_attempts:
            self.park(due, f"gave up after {due.attempts} attempts: {error}")
            return
        # A card is not given up on while Slack is away: its backoff is capped, and Slack's return brings it forward.
        self.away = True
        next_at = retry_at(
            self.clock, self.tuning, due.attempts, retry_after(exc) if exc is not None else None
        )
        with self.gate.hold(), self.db.session() as session:
            mark_retry(
                session=session,
                message_id=due.id,
                retry_at=next_at,
                error=error,
                reply_uncertain=False,
                lease_until=due.lease_until,
            )
        log.info("outbox %s: Slack answered %s; next attempt at %s", due.id, error, next_at.isoformat())

    def _sent(self, session: Session, due: DueMessage, via: str, now: datetime) -> None:
        """Marks the row sent in the caller's transaction, and brings the waiting rows forward if Slack was away."""
        mark_sent(session=session, message_id=due.id, via=via, now=now, lease_until=due.lease_until)
        if self.away:
            self.away = False
            resume_parked(session=session, channel=CHANNEL, now=now, created_after=now - RESUME_WITHIN)
