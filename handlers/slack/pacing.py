"""How fast the Slack delivery goes: posts to one channel paced to Slack's one a second, and a row not
delivered tried again after an exponential backoff, no sooner than the Retry-After of Slack's 429."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from handlers.settings import DeliveryTuning
from storage.clock import Clock

POST_INTERVAL = 1.0  # seconds between posts to one channel (Slack: about one a second)
MAX_RETRY_AFTER = 900.0


class Pacer:
    """At most one post to a channel in `interval` seconds, counted from when the last one was answered (the
    client may have retried it after a 429), across this process's threads."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @contextmanager
    def post(self, channel: str) -> Iterator[None]:
        """Waits for the channel's turn, holds it while the post is made, and starts the interval after it."""
        with self._lock:
            turn = self._locks.setdefault(channel, threading.Lock())
        with turn:
            wait = self._next.get(channel, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._next[channel] = time.monotonic() + self.interval


def retry_at(clock: Clock, tuning: DeliveryTuning, attempts: int, retry_after: float | None) -> datetime:
    """Exponential backoff with jitter, and no sooner than Slack's Retry-After."""
    delay = min(tuning.retry_base * 2 ** max(attempts - 1, 0), tuning.retry_cap)
    delay *= random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return clock.now() + timedelta(seconds=delay)


def retry_after(exc: SlackApiError) -> float | None:
    """The seconds of the answer's Retry-After header, if it has one that reads as a number."""
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            values = value if isinstance(value, list) else [value]
            try:
                return float(values[0])
            except (TypeError, ValueError, IndexError):
                return None
    return None
