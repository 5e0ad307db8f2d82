"""The LINE drain: stored events are processed once, per user in timestamp order, and their replies delivered.

Every `madoguchi serve` process and `madoguchi worker` runs one: an inbox thread that turns events into
state changes and outbox rows in one transaction each, and a few sender threads that deliver the rows.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bot.engine import IntakeEngine
from handlers.line.client import LineApi
from handlers.line.delivery import CHANNEL, LineDelivery
from handlers.line.events import apply_event, read_event
from handlers.line.recorder import SentRecorder
from handlers.line.sender import LineSender
from handlers.line.sync import Wakeup, WriteGate
from handlers.line.webhook import InboxWriter
from handlers.services import Services
from handlers.settings import DeliveryTuning
from storage.clock import Clock
from storage.database import Database
from storage.inbox import (
    claim_next_event,
    lock_user,
    mark_processed,
    purge_event_body,
    record_failure,
)
from storage.outbox import DueMessage

log = logging.getLogger(__name__)
REPLY_TOKEN_LIFETIME = timedelta(seconds=50)  # LINE's is about a minute; keep a margin for the call itself
ACK_PRIORITY = 0.02  # seconds after a webhook commit during which the drain steps aside between events
DUMMY_REPLY_TOKENS = {"0" * 32, "f" * 32}  # the console's Verify
PER_SENDER = 8  # claimed rows a process holds at most, for each of its senders


def process_name() -> str:
    """Which process handled an event, for the inbox row (host:pid)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def reply_expiry(event_ts: int, received_at: datetime) -> datetime:
    """When a reply token stops being worth trying: ~50 s after the event (or its receipt, if earlier)."""
    start = received_at
    if event_ts > 0:
        start = min(start, datetime.fromtimestamp(event_ts / 1000, UTC))
    return start + REPLY_TOKEN_LIFETIME


class InboxProcessor:
    """Processes stored LINE events one transaction at a time."""

    def __init__(
        self,
        *,
        db: Database,
        engine: IntakeEngine,
        clock: Clock,
        tuning: DeliveryTuning,
        gate: WriteGate,
        loading: LoadingAnimation | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.clock = clock
        self.tuning = tuning
        self.gate = gate
        self.loading = loading
        self.sender = LineSender(clock)

    def process_next(self) -> bool:
        """Claims the next event that is first in line for its user and gives it its effect; False when none."""
        event_id: int | None = None
        try:
            with self.gate.hold(), self.db.session() as session:
                now = self.clock.now()
                row = claim_next_event(
                    session=session,
                    channel=CHANNEL,
                    now=now,
                    ready_before=now - timedelta(seconds=self.tuning.reorder_window),
                )
                if row is None:
                    return False
                event_id = row.id
                lock_user(session=session, user_key=row.user_key)
                event = read_event(row.body if isinstance(row.body, dict) else {})
                if event.reply_token in DUMMY_REPLY_TOKENS:
                    mark_processed(event=row, now=now, by=process_name())
                    return True
                if (
                    self.loading
                    and event.inbound
                    and event.user_id
                    and (now - row.received_at).total_seconds() > self.tuning.loading_after
                ):
                    self.loading.show(event.user_id)
                effect = apply_event(session=session, engine=self.engine, event=event)
                if effect.turn and "forgotten" in effect.turn.events:
                    purge_event_body(event=row, now=now)  # the message that ended a forgotten conversation
                if effect.turn and effect.turn.replies and effect.contact is not None:
                    self.sender.reply(
                        session=session,
                        contact=effect.contact,
                        messages=effect.turn.replies,
                        logged=effect.turn.logged,
                        reply_token=event.reply_token,
                        reply_expires_at=reply_expiry(row.event_ts, row.received_at)
                        if event.reply_token
                        else None,
                        inbox_event_id=row.id,
                        consultation_id=effect.turn.consultation_id,
                    )
                mark_processed(event=row, now=now, by=process_name())
            return True
        except Exception as exc:
            if event_id is None:
                raise
            self._record_failure(event_id, exc)
            return True

    def _record_failure(self, event_id: int, exc: Exception) -> None:
        # Only the type and the code lines: an exception's message may quote what the owner wrote.
        frames = "".join(traceback.format_tb(exc.__traceback__)[-3:])
        log.error("inbox event %s failed with %s\n%s", event_id, type(exc).__name__, frames)
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            parked = record_failure(
                session=session,
                event_id=event_id,
                now=now,
                error=type(exc).__name__,
                retry_after=timedelta(seconds=self.tuning.retry_base),
                retry_cap=timedelta(seconds=self.tuning.retry_cap),
                max_attempts=self.tuning.event_attempts,
            )
        if parked:
            log.error("inbox event %s parked as failed", event_id)


class LoadingAnimation:
    """Best-effort loading animations on a thread of their own, a few a second at most, never holding up the drain."""

    def __init__(self, api: LineApi, per_second: float = 10.0) -> None:
        self.api = api
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="line-loading")
        self._interval = 1.0 / per_second
        self._next_at = 0.0
        self._lock = threading.Lock()

    def show(self, user_id: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next_at:
                return
            self._next_at = now + self._interval
        self._pool.submit(self.api.show_loading, user_id, 5)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LineRuntime:
    """The threads of one process's drain, started and stopped with the web app or `madoguchi worker`."""

    def __init__(
        self,
        *,
        db: Database,
        engine: IntakeEngine,
        api: LineApi,
        clock: Clock,
        tuning: DeliveryTuning,
    ) -> None:
        self.tuning = tuning
        self.db = db
        self.api = api
        self.gate = WriteGate(enabled=db.is_sqlite)
        self.inbox_wakeup = Wakeup()
        self.outbox_wakeup = Wakeup()
        self.loading = LoadingAnimation(api)
        self.processor = InboxProcessor(
            db=db,
            engine=engine,
            clock=clock,
            tuning=self.tuning,
            gate=self.gate,
            loading=self.loading,
        )
        self.recorder = SentRecorder(
            db=db, clock=clock, gate=self.gate, on_recorded=self.outbox_wakeup.notify
        )
        self.delivery = LineDelivery(
            db=db, api=api, clock=clock, tuning=self.tuning, gate=self.gate, recorder=self.recorder
        )
        self.writer = InboxWriter(db=db, clock=clock, gate=self.gate, on_stored=self.inbox_wakeup.notify)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # The claimed rows waiting for a sender, and how many senders are busy; one lock, two conditions.
        self._claimed: deque[DueMessage] = deque()
        self._busy = 0
        lock = threading.Lock()
        self._work = threading.Condition(lock)  # senders wait here for a claimed row
        self._room = threading.Condition(lock)  # the claimer waits here until the queue runs low

    @property
    def sending(self) -> int:
        """How many claimed rows this process holds: waiting for a sender, being delivered, or their outcome
        being recorded."""
        with self._work:
            held = len(self._claimed) + self._busy
        return held + self.recorder.pending

    def start(self, *, webhooks: bool = True, drain: bool = True) -> None:
        """Starts the webhook's writer when this process has one, and the inbox and delivery threads unless
        the draining is left to `madoguchi worker` processes."""
        self._stop.clear()
        if webhooks:
            self.writer.start()
        if not drain:
            log.info("LINE webhooks are stored here; madoguchi worker processes answer them")
            return
        self.recorder.start()
        self._threads = [
            threading.Thread(target=self._run_inbox, name="line-inbox", daemon=True),
            threading.Thread(target=self._run_outbox, name="line-outbox", daemon=True),
            *(
                threading.Thread(target=self._run_sender, name=f"line-send-{n}", daemon=True)
                for n in range(self.tuning.senders)
            ),
        ]
        for thread in self._threads:
            thread.start()
        log.info("LINE drain started (%s sender threads)", self.tuning.senders)

    def stop(self, timeout: float | None = None) -> None:
        """Stops after the current items; a send cut short is taken again when its lease ends."""
        self.writer.stop()
        self._stop.set()
        self.inbox_wakeup.notify()
        self.outbox_wakeup.notify()
        with self._work:
            self._work.notify_all()
            self._room.notify_all()
        limit = timeout if timeout is not None else self.tuning.connect_timeout + self.tuning.read_timeout + 1
        for thread in self._threads:
            thread.join(limit)
        with self._work:
            self._claimed.clear()  # left to their leases: taken again by the next claim, here or elsewhere
        self.recorder.stop(limit)
        self.loading.close()
        log.info("LINE drain stopped")

    def _run_inbox(self) -> None:
        seen = 0
        while not self._stop.is_set():
            if time.monotonic() - self.writer.last_commit < ACK_PRIORITY:
                # Webhooks are arriving: let the acks have the interpreter first; the drain catches up.
                time.sleep(ACK_PRIORITY / 4)
            try:
                if self.processor.process_next():
                    self.outbox_wakeup.notify()
                    continue
            except Exception as exc:  # noqa: BLE001 - e.g. the database is away for a moment
                log.error("inbox drain: %s", type(exc).__name__)
                self._stop.wait(1.0)
            # A waiting event is ready after the reorder window; the poll finds other processes' events.
            seen = self.inbox_wakeup.wait(seen, min(self.tuning.poll, max(self.tuning.reorder_window, 0.05)))

    def _run_outbox(self) -> None:
        # One thread claims, so a new row costs one claim, not one per idle sender; the senders only send.
        # It claims again when fewer rows wait than there are senders, up to PER_SENDER rows a sender held
        # at once (a claim is a transaction, worth many rows). A row whose lease ran out while it waited is
        # not sent on this claim (deliver_in_lease).
        seen = 0
        senders = self.tuning.senders
        most = senders * PER_SENDER
        while not self._stop.is_set():
            with self._room:
                self._room.wait_for(
                    lambda: (
                        self._stop.is_set()
                        or (len(self._claimed) < senders and len(self._claimed) + self._busy < most)
                    )
                )
                room = most - len(self._claimed) - self._busy
            if self._stop.is_set():
                return
            try:
                self.delivery.probe_if_due()
                due = self.delivery.claim(room)
            except Exception as exc:  # noqa: BLE001
                log.error("outbox drain: %s", type(exc).__name__)
                self._stop.wait(1.0)
                continue
            if not due:
                seen = self.outbox_wakeup.wait(seen, self.tuning.poll)
                continue
            with self._work:
                self._claimed.extend(due)  # the oldest first
                self._work.notify(len(due))

    def _run_sender(self) -> None:
        senders = self.tuning.senders
        while True:
            with self._work:
                self._work.wait_for(lambda: bool(self._claimed) or self._stop.is_set())
                if self._stop.is_set():
                    return
                message = self._claimed.popleft()
                self._busy += 1
                if len(self._claimed) < senders:
                    self._room.notify()
            try:
                self.delivery.deliver_in_lease(message)
            except Exception as exc:  # noqa: BLE001 - e.g. the database away while parking it: its lease ends
                log.error("outbox %s: sending raised %s", message.id, type(exc).__name__)
            finally:
                with self._work:
                    self._busy -= 1
                    self._room.notify()


def build_line_runtime(services: Services, tuning: DeliveryTuning | None = None) -> LineRuntime:
    """The drain of a process whose services have a LINE client."""
    if services.line_api is None:
        raise RuntimeError("LINE is not configured")
    return LineRuntime(
        db=services.db,
        engine=services.engine,
        api=services.line_api,
        clock=services.clock,
        tuning=tuning or services.settings.line_tuning,
    )
