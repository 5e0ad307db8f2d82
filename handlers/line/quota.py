"""The quota job's LINE side: reads the month's quota and its use through the Messaging API, and hands the
figures to bot.quota.QuotaWatch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import urllib3
from linebot.v3.messaging import ApiException

from bot.quota import QuotaWatch
from handlers.line.client import LineApi

log = logging.getLogger(__name__)


def quota_reader(api: LineApi | None, watch: QuotaWatch) -> Callable[[datetime], str]:
    """The quota job's step: one reading, recorded (a LINE that does not answer is tried again tomorrow)."""

    def read(now: datetime) -> str:
        if api is None:
            return "LINE is not configured: no quota to read"
        try:
            reading = api.quota()
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            status = getattr(exc, "status", None)
            why = f"HTTP {status}" if status else type(exc).__name__
            log.warning("LINE quota not read: %s", why)
            return f"LINE did not tell the quota ({why}): nothing recorded"
        return watch.record(now, reading.quota, reading.used)

    return read
