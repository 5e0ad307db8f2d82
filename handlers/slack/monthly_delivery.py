"""The monthly summary's path of the Slack delivery: the month's post, and its report (xlsx, PDF) shared in
the post's thread, each once however often the row is attempted; mixed into SlackDelivery (delivery.py),
whose subclasses may replace `build_report`, `finish` and `_progress` (the tests' crashes and a report that
cannot be built)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from config import DeskConfig
from handlers.slack.delivery_records import DeliveryRecords
from handlers.slack.history import find_message
from handlers.slack.job_notices import render_monthly_post
from handlers.slack.monthly_report import (
    MonthlyReport,
    build_monthly_report,
    month_summary,
    shared_in_thread,
    upload,
)
from handlers.slack.notices import Place, message_metadata
from handlers.slack.pacing import Pacer
from handlers.slack.posting import post_message
from storage.clock import Clock
from storage.database import Database
from storage.outbox import DueMessage, delivery_progress

# The delivery's one logger, named for the module that holds the whole (handlers/slack/delivery.py).
log = logging.getLogger("handlers.slack.delivery")


class MonthlySummaryDelivery:
    """Delivers a monthly summary's row; what it uses is SlackDelivery's."""

    db: Database
    client: WebClient
    clock: Clock
    desk: DeskConfig
    pacer: Pacer
    records: DeliveryRecords

    def deliver_monthly(self, due: DueMessage, month: str, place: Place) -> None:
        """Posts the month's summary and shares its report (xlsx, PDF) in the post's thread, each once: the
        post's `ts` is recorded before the files go, the files once shared, and on a later attempt those an
        earlier one shared without recording them are found in the thread by name. A report that cannot be
        built does not hold up the post: it goes with the figures alone and the row is parked."""
        with self.db.session() as session:
            progress = delivery_progress(session=session, message_id=due.id)
        retried = due.attempts > 1 or "ts" in progress
        with tempfile.TemporaryDirectory(prefix="madoguchi-report-") as directory:
            try:
                report: MonthlyReport | None = self.build_report(month, Path(directory))
            except Exception as exc:  # noqa: BLE001 - a report that cannot be built must not hold up the post
                log.error("outbox %s: the report of %s was not built: %s", due.id, month, type(exc).__name__)
                report = None
            try:
                ts, adopted = progress.get("ts"), False
                if ts is None:
                    ts, adopted = self._post_once(due, place, month, report)
                    progress = {"channel": place.channel, "ts": ts, "files": []}
                    if not self._progress(due, progress):
                        return
                if report is None:
                    self.records.park(due, "posted; its report could not be built")
                    return
                recorded = set(progress.get("files") or [])
                found = shared_in_thread(self.client, place.channel, ts) - recorded if retried else set()
                missing = [f for f in report.files if f.file_name not in recorded | found]
                adopted = adopted or any(f.file_name in found for f in report.files)
                if missing:
                    with self.pacer.post(place.channel):
                        upload(self.client, channel=place.channel, ts=ts, month=month, files=missing)
            except SlackApiError as exc:
                self.records.not_delivered(due, exc, posted="ts" in progress)
                return
            except (SlackRequestError, OSError) as exc:  # the upload URL did not take the bytes
                self.records.not_delivered(due, None, posted="ts" in progress, error=type(exc).__name__)
                return
        progress["files"] = [f.file_name for f in report.files]
        via = "adopted" if adopted else "posted"
        self.finish(due, progress, via)
        log.info("outbox %s: monthly summary of %s %s with its report", due.id, month, via)

    def build_report(self, month: str, directory: Path) -> MonthlyReport:
        """The month's xlsx and PDF, built now (reportlab takes a moment: never in a job's transaction)."""
        return build_monthly_report(
            db=self.db, desk=self.desk, month=month, now=self.clock.now(), directory=directory
        )

    def _post_once(
        self, due: DueMessage, place: Place, month: str, report: MonthlyReport | None
    ) -> tuple[str, bool]:
        """The `ts` of the summary's post, and whether an earlier attempt had posted it (adopted)."""
        found = find_message(self.client, place, due.id) if due.attempts > 1 else None
        if found is not None:
            return found, True
        if report is not None:
            summary = report.summary
        else:
            summary = month_summary(db=self.db, desk=self.desk, month=month, now=self.clock.now())
        message = render_monthly_post(summary, attached=report is not None)
        answer = post_message(
            self.client, self.pacer, place.channel, message.text, message.blocks, message_metadata(due.id)
        )
        return str(answer["ts"]), False

    def finish(self, due: DueMessage, progress: dict[str, Any], via: str) -> None:
        """Records the files shared and marks the row sent, in one transaction."""
        self.records.finished(due, progress, via)

    def _progress(self, due: DueMessage, progress: dict[str, Any]) -> bool:
        """Records what is done so far; False (and nothing more is done) when the row is no longer ours."""
        return self.records.progress(due, progress)
