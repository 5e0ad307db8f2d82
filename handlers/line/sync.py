"""Thread coordination for the LINE drain: wake-ups, and one SQLite writer at a time in this process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Wakeup:
    """Tells waiting threads that there is new work, without losing a signal sent while they were busy."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Waits until a signal newer than `seen` or the timeout; returns the generation to pass next time."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout)
            return self._generation


class WriteGate:
    """Serialises this process's writers on SQLite, the webhook's store first.

    SQLite has one writer at a time; a writer that finds the lock taken sleeps in SQLite's busy
    handler for up to tens of milliseconds, which is what an ack cannot afford. Queuing here instead
    hands the lock over at once, and lets a waiting store go before the drain's next transaction.
    PostgreSQL locks rows, so the gate is open there.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    @contextmanager
    def hold(self, urgent: bool = False) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            self._urgent_waiting += urgent
            try:
                self._cond.wait_for(lambda: not self._busy and (urgent or not self._urgent_waiting))
            finally:
                self._urgent_waiting -= urgent
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
