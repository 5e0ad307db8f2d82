"""Delivering outbox rows to LINE: reply while the token is fresh, else push with the row's retry key."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.messages import MessageLimitError
from handlers.line.client import LineApi, Outcome, Result
from handlers.line.recorder import SentRecorder
from handlers.line.render import render_messages
from handlers.line.sync import WriteGate
from handlers.settings import DeliveryTuning
from storage.channels import Channel
from storage.clock import Clock
from storage.database import Database
from storage.outbox import (
    FAILED,
    REJECTED,
    SKIPPED,
    Delivered,
    DueMessage,
    claim_due_messages,
    forget_reply_token,
    mark_failed,
    mark_retry,
    mark_sent,
    requeue_oldest_parked,
    resume_parked,
)

log = logging.getLogger(__name__)
CHANNEL = Channel.LINE
MAX_RETRY_AFTER = timedelta(minutes=15)
# What shows that LINE is there again: it read the request and answered it (not 5xx, not 429, not silence).
ANSWERED = (Outcome.DELIVERED, Outcome.DUPLICATE, Outcome.TOKEN_REFUSED, Outcome.REJECTED)


class LineDelivery:
    """Sends what the outbox holds for LINE, exactly once as far as LINE lets anyone know."""

    def __init__(
        self,
        *,
        db: Database,
        api: LineApi,
        clock: Clock,
        tuning: DeliveryTuning,
        gate: WriteGate,
        recorder: SentRecorder | None = None,
    ) -> None:
        """`recorder`: where deliveries are handed over to be recorded in groups (a running drain's);
        without one each is recorded at once, in its own transaction."""
        self.db = db
        self.recorder = recorder
        self.api = api
        self.clock = clock
        self.tuning = tuning
        self.gate = gate
        # Owed from the start: rows parked before this process began wait for LINE's first answer to it.
        self._resume_owed = True
        self._resumed_at: datetime | None = None
        self._called_at: datetime | None = None
        self._probe_at = clock.now() + timedelta(seconds=tuning.resume_interval)
        self._state = threading.Lock()

    @property
    def resume_window(self) -> timedelta:
        """How old a parked row may be and still go out again by itself (LINE keeps a retry key 24 hours)."""
        return timedelta(seconds=self.tuning.resume_within)

    def claim(self, limit: int) -> list[DueMessage]:
        """Leases up to `limit` due rows (first in line for their contact)."""
        with self.gate.hold(), self.db.session() as session:
            return claim_due_messages(
                session=session,
                channel=CHANNEL,
                now=self.clock.now(),
                lease=timedelta(seconds=self.tuning.lease),
                limit=limit,
                parked_since=self.clock.now() - self.resume_window,
            )

    def deliver_in_lease(self, due: DueMessage) -> None:
        """deliver_safely, unless the row's lease ran out while it waited for a sender: another claim may have
        it then, and it is left to that claim (or to the next one)."""
        if self.clock.now() >= due.lease_until:
            log.info("outbox %s: its lease ran out before a sender was free; left to the next claim", due.id)
            return
        self.deliver_safely(due)

    def deliver_safely(self, due: DueMessage) -> None:
        """Sends one claimed row; an unexpected error leaves it to its lease, and parks it at the last attempt."""
        try:
            self.deliver(due)
        except Exception as exc:  # noqa: BLE001
            log.error("outbox %s: delivery raised %s", due.id, type(exc).__name__)
            if due.attempts >= self.tuning.max_attempts:
                self._failed(due, f"delivery raised {type(exc).__name__}")

    def deliver(self, due: DueMessage) -> None:
        """Sends one claimed row and records the outcome."""
        try:
            messages = render_messages(due.messages)
        except (MessageLimitError, KeyError, TypeError, ValueError) as exc:
            self._failed(due, f"not sendable on LINE: {type(exc).__name__}", status=REJECTED)
            return
        if due.reply_token:
            result = self._call(self.api.reply, due.reply_token, messages)
            if result.outcome is Outcome.DELIVERED:
                self._sent(due, "reply")
                return
            if result.outcome is Outcome.TOKEN_REFUSED and due.reply_uncertain:
                # The token is refused while still fresh: the earlier attempt whose answer was lost used it.
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
            # A reply may have arrived (a 5xx or a timeout, or a process that died mid-call) and its token is
            # stale now: a lost answer is worse than a rare duplicate, so it is pushed, and the row says so.
            log.info(
                "outbox %s: reply unconfirmed and its token stale; pushing (a duplicate is possible)", due.id
            )
        if not due.reachable or not due.recipient:
            self._failed(due, "the contact is not reachable (unfollowed)", status=SKIPPED)
            return
        result = self._call(self.api.push, due.recipient, messages, due.retry_key)
        if result.outcome in (Outcome.DELIVERED, Outcome.DUPLICATE):
            via = "push" if result.outcome is Outcome.DELIVERED else "push-409"
            self._sent(due, via, duplicate_possible=due.reply_uncertain)
            return
        self._not_delivered(due, result, reply_uncertain=due.reply_uncertain)

    def _call(self, send: Callable[..., Result], *args: Any) -> Result:
        """Makes one call to LINE; the first answer after failures resumes what was parked meanwhile."""
        result = send(*args)
        answered = result.outcome in ANSWERED
        now = self.clock.now()
        with self._state:
            self._called_at = now
            if not answered:
                self._resume_owed = True
                return result
            # A flapping LINE resumes the queue at most once an interval, so backoff still holds.
            back = self._resume_owed and (
                self._resumed_at is None
                or now - self._resumed_at >= timedelta(seconds=self.tuning.resume_interval)
            )
            if back:
                self._resume_owed, self._resumed_at = False, now
        if back:
            try:
                self.resume_parked()
            except Exception as exc:  # noqa: BLE001 - e.g. the database is away: the next answer tries again
                log.error("outbox: resuming parked messages raised %s", type(exc).__name__)
                with self._state:
                    self._resume_owed = True
        return result

    def resume_parked(self) -> int:
        """Sends again, at once, what waits for LINE: rows parked as failed, and rows in backoff."""
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            resumed = resume_parked(
                session=session,
                channel=CHANNEL,
                now=now,
                created_after=now - self.resume_window,
            )
        if resumed:
            log.warning("LINE answers again: %s parked message(s) queued to be sent again", resumed)
        return resumed

    def probe_if_due(self) -> int | None:
        """After `resume_interval` with no call to LINE, re-queues the oldest parked row to see whether LINE
        answers again (its answer resumes the others); returns its id, or None."""
        now = self.clock.now()
        interval = timedelta(seconds=self.tuning.resume_interval)
        with self._state:
            if now < self._probe_at:
                return None
            self._probe_at = now + interval
            if self._called_at is not None and now - self._called_at < interval:
                return None
        with self.gate.hold(), self.db.session() as session:
            probe = requeue_oldest_parked(
                session=session, channel=CHANNEL, now=now, created_after=now - self.resume_window
            )
        if probe is not None:
            with self._state:
                self._resume_owed = True  # its answer resumes the others
            log.info("outbox %s: parked; sent again to see whether LINE answers", probe)
        return probe

    def _sent(self, due: DueMessage, via: str, *, duplicate_possible: bool = False) -> None:
        if self.recorder is not None:
            self.recorder.add(Delivered(due.id, via, due.lease_until, duplicate_possible))
            log.info("outbox %s: delivered by %s (attempt %s)", due.id, via, due.attempts)
            return
        with self.gate.hold(), self.db.session() as session:
            mark_sent(
                session=session,
                message_id=due.id,
                via=via,
                now=self.clock.now(),
                lease_until=due.lease_until,
                duplicate_possible=duplicate_possible,
            )
        if duplicate_possible:
            log.warning("outbox %s: delivered by %s; the owner may also have had it as a reply", due.id, via)
        else:
            log.info("outbox %s: delivered by %s (attempt %s)", due.id, via, due.attempts)

    def _failed(self, due: DueMessage, error: str, status: str = FAILED) -> None:
        with self.gate.hold(), self.db.session() as session:
            mark_failed(
                session=session, message_id=due.id, error=error, status=status, lease_until=due.lease_until
            )
        log.warning("outbox %s: %s after %s attempt(s): %s", due.id, status, due.attempts, error)

    def _not_delivered(self, due: DueMessage, result: Result, *, reply_uncertain: bool) -> None:
        if result.outcome is Outcome.REJECTED:
            self._failed(due, f"refused by LINE: {result.detail}", status=REJECTED)
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
