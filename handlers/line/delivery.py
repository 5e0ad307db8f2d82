"""Delivering outbox rows to LINE: reply while the token is fresh, else push with the row's retry key."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from bot.messages import MessageLimitError
from handlers.line.client import LineApi, Outcome, Result
from handlers.line.render import render_messages
from handlers.line.sync import WriteGate
from handlers.line.tuning import LineTuning
from storage.clock import Clock
from storage.database import Database
from storage.outbox import (
    SKIPPED,
    DueMessage,
    claim_due_messages,
    forget_reply_token,
    mark_failed,
    mark_retry,
    mark_sent,
)

log = logging.getLogger(__name__)
CHANNEL = "line"
MAX_RETRY_AFTER = timedelta(minutes=15)


class LineDelivery:
    """Sends what the outbox holds for LINE, exactly once as far as LINE lets anyone know."""

    def __init__(
        self, *, db: Database, api: LineApi, clock: Clock, tuning: LineTuning, gate: WriteGate
    ) -> None:
        self.db = db
        self.api = api
        self.clock = clock
        self.tuning = tuning
        self.gate = gate

    def claim(self, limit: int) -> list[DueMessage]:
        """Leases up to `limit` due rows (first in line for their contact)."""
        with self.gate.hold(), self.db.session() as session:
            return claim_due_messages(
                session=session,
                channel=CHANNEL,
                now=self.clock.now(),
                lease=timedelta(seconds=self.tuning.lease),
                limit=limit,
            )

    def deliver_safely(self, due: DueMessage) -> None:
        """Sends one claimed row; an unexpected error leaves it to its lease, and parks it at the last attempt."""
        try:
            self.deliver(due)
        except Exception as exc:  # noqa: BLE001
            log.error("outbox %s: delivery raised %s", due.id, type(exc).__name__)
            if due.attempts >= self.tuning.max_attempts:
                self._failed(due, f"delivery raised {type(exc).__name__}")

    def deliver_due(self, limit: int = 8) -> int:
        """Claims up to `limit` due rows and sends them one after the other; returns how many were claimed."""
        due = self.claim(limit)
        for message in due:
            self.deliver_safely(message)
        return len(due)

    def deliver(self, due: DueMessage) -> None:
        """Sends one claimed row and records the outcome."""
        try:
            messages = render_messages(due.messages)
        except (MessageLimitError, KeyError, TypeError, ValueError) as exc:
            self._failed(due, f"not sendable on LINE: {type(exc).__name__}")
            return
        if due.reply_token:
            result = self.api.reply(due.reply_token, messages)
            if result.outcome is Outcome.DELIVERED:
                self._sent(due, "reply")
                return
            if result.outcome is Outcome.TOKEN_REFUSED and due.reply_uncertain:
                # An earlier attempt whose answer was lost most likely used the token: pushing could double it.
                self._sent(due, "reply-uncertain")
                return
            if result.outcome is not Outcome.TOKEN_REFUSED:
                self._not_delivered(
                    due, result, reply_uncertain=due.reply_uncertain or result.outcome is Outcome.UNKNOWN
                )
                return
            with self.gate.hold(), self.db.session() as session:
                still_ours = forget_reply_token(
                    session=session, message_id=due.id, lease_until=due.lease_until
                )
            if not still_ours:
                log.warning("outbox %s: claimed again while this attempt ran; left to that claim", due.id)
                return
        elif due.reply_uncertain:
            self._failed(
                due, "a reply may have arrived before its token expired; not pushed, to avoid a duplicate"
            )
            return
        if not due.reachable or not due.recipient:
            self._failed(due, "the contact is not reachable (unfollowed)", status=SKIPPED)
            return
        result = self.api.push(due.recipient, messages, due.retry_key)
        if result.outcome in (Outcome.DELIVERED, Outcome.DUPLICATE):
            self._sent(due, "push" if result.outcome is Outcome.DELIVERED else "push-409")
            return
        self._not_delivered(due, result, reply_uncertain=False)

    def _sent(self, due: DueMessage, via: str) -> None:
        with self.gate.hold(), self.db.session() as session:
            mark_sent(
                session=session, message_id=due.id, via=via, now=self.clock.now(), lease_until=due.lease_until
            )
        log.info("outbox %s: delivered by %s (attempt %s)", due.id, via, due.attempts)

    def _failed(self, due: DueMessage, error: str, status: str = "failed") -> None:
        with self.gate.hold(), self.db.session() as session:
            mark_failed(
                session=session, message_id=due.id, error=error, status=status, lease_until=due.lease_until
            )
        log.warning("outbox %s: %s after %s attempt(s): %s", due.id, status, due.attempts, error)

    def _not_delivered(self, due: DueMessage, result: Result, *, reply_uncertain: bool) -> None:
        if result.outcome is Outcome.REJECTED:
            self._failed(due, f"refused by LINE: {result.detail}")
            return
        if due.attempts >= self.tuning.max_attempts:
            self._failed(due, f"gave up after {due.attempts} attempts: {result.detail}")
            return
        retry_at = self.retry_at(due.attempts, result)
        with self.gate.hold(), self.db.session() as session:
            mark_retry(
                session=session,
                message_id=due.id,
                retry_at=retry_at,
                error=result.detail,
                reply_uncertain=reply_uncertain,
                lease_until=due.lease_until,
            )
        log.info(
            "outbox %s: attempt %s not confirmed (%s), next at %s",
            due.id,
            due.attempts,
            result.detail,
            retry_at.isoformat(),
        )

    def retry_at(self, attempts: int, result: Result) -> datetime:
        """Exponential backoff with jitter, and no sooner than LINE's Retry-After."""
        delay = min(self.tuning.retry_base * 2 ** max(attempts - 1, 0), self.tuning.retry_cap)
        delay *= random.uniform(0.8, 1.2)
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, MAX_RETRY_AFTER.total_seconds()))
        return self.clock.now() + timedelta(seconds=delay)
