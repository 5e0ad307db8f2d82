"""Recording deliveries in groups: the senders hand over what LINE accepted and go on to the next row, and
one thread writes what they handed over, many rows a transaction.

A row handed over stays pending and leased until its group is written: no other claim takes it, and its
contact's next row waits behind it, so the order holds. A process that dies first leaves it to be claimed
again once the lease ends and pushed again with the same retry key, which LINE answers 409: recorded as
sent, delivered once. A group is written 20 ms after its first row was handed over, with what arrived
meanwhile (and what arrives while one is written goes in the next).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from handlers.line.sync import WriteGate
from storage.clock import Clock
from storage.database import Database
from storage.outbox import Delivered, mark_sent_many

log = logging.getLogger(__name__)
MAX_GROUP = 500  # rows a transaction
RETRY_AFTER = 1.0  # seconds, after a failed write (the database away for a moment)
# Seconds a first row waits for others to join its group: the next row of its contact waits as long, at most.
LINGER = 0.02


class SentRecorder:
    """Writes handed-over deliveries on a thread of its own, in groups."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        gate: WriteGate,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.gate = gate
        self.on_recorded = on_recorded
        self._waiting: list[Delivered] = []
        self._writing = 0
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="line-recorder", daemon=True)
        self._thread.start()

    def add(self, delivered: Delivered) -> None:
        """Hands over a delivery LINE accepted, to be recorded with the next group."""
        with self._changed:
            self._waiting.append(delivered)
            self._changed.notify_all()

    @property
    def pending(self) -> int:
        """How many handed-over deliveries are not recorded yet."""
        with self._changed:
            return len(self._waiting) + self._writing

    def stop(self, timeout: float) -> None:
        """Writes what was handed over (one try if the database is away: those rows go out again with their
        retry keys once their leases end), then stops."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._waiting) or self._stopping)
                if not self._waiting:
                    return
                # A moment for others to join: a transaction a row would cost more than the rows themselves.
                self._changed.wait_for(lambda: len(self._waiting) >= MAX_GROUP or self._stopping, LINGER)
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                self._writing = len(group)
            written = self._write(group)
            with self._changed:
                self._writing = 0
                if written:
                    continue
                if self._stopping:
                    log.error(
                        "outbox: %s delivered row(s) left unrecorded at stop", len(group) + len(self._waiting)
                    )
                    self._waiting = []
                    return
                self._waiting[:0] = group
                self._changed.wait_for(lambda: self._stopping, RETRY_AFTER)  # not sooner for rows handed over

    def _write(self, group: list[Delivered]) -> bool:
        now = self.clock.now()
        try:
            with self.gate.hold(), self.db.session() as session:
                ours = mark_sent_many(session=session, delivered=group, now=now)
        except Exception as exc:  # noqa: BLE001 - e.g. the database is away: the group is written again
            log.error("outbox: recording %s delivered row(s) raised %s", len(group), type(exc).__name__)
            return False
        for d in group:
            if d.message_id not in ours:
                log.warning(
                    "outbox %s: claimed again while this attempt ran; left to that claim", d.message_id
                )
            elif d.duplicate_possible:
                log.warning(
                    "outbox %s: delivered by %s; the owner may also have had it as a reply",
                    d.message_id,
                    d.via,
                )
        if self.on_recorded is not None:
            self.on_recorded()
        return True
