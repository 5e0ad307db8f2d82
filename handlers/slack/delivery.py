"""Delivering the coordinators' cards and messages: each SLACK outbox row of a card shows its consultation's
card as it stands, posted to SLACK_INTAKE_CHANNEL the first time and updated in place (chat.update) ever
after; a row of a message (a reply in the card's thread, a post to the desk, a direct message) is posted
once (handlers/slack/notices.py says what and where).

The claim, retry and parking are the outbox's (storage/outbox.py), as for LINE. Slack has no idempotency
key, so a post whose answer was lost (or whose process died before recording its `ts`) would come twice:
each card carries its consultation id in the message `metadata`, and before posting a card again the
channel's recent history is searched for it and the card found there is adopted. Messages carry their
outbox row's id the same way, looked for in the thread or channel before a second attempt (a direct
message cannot be looked for without a scope of its own: at worst it comes twice). Posts to one channel
are paced to Slack's one a second; a 429 waits out its Retry-After.
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sending import TO_CARD, Notice
from config import DeskConfig
from handlers.line.sync import Wakeup, WriteGate
from handlers.services import Services
from handlers.settings import DeliveryTuning
from handlers.slack.cards import METADATA_TYPE, Card, render_card
from handlers.slack.client import posting_client
from handlers.slack.job_notices import MONTHLY_SUMMARY, render_monthly_post
from handlers.slack.monthly_report import (
    MonthlyReport,
    build_monthly_report,
    month_summary,
    shared_in_thread,
    upload,
)
from handlers.slack.notices import NoPlace, Place, message_metadata, place_of, posted_from, render_notice
from storage.channels import Channel
from storage.clock import Clock
from storage.database import Database
from storage.models import Consultation, OutboxMessage
from storage.outbox import (
    REJECTED,
    SKIPPED,
    DueMessage,
    claim_due_messages,
    delivery_progress,
    mark_failed,
    mark_retry,
    mark_sent,
    record_progress,
    resume_parked,
)
from storage.slack_cards import get_card, record_card

log = logging.getLogger(__name__)
CHANNEL = Channel.SLACK
POST_INTERVAL = 1.0  # seconds between posts to one channel (Slack: about one a second)
HISTORY_PAGES = 3  # pages of 200 messages searched for a card posted before
MAX_RETRY_AFTER = 900.0
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


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    via: str  # posted, updated, adopted


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


class SlackDelivery:
    """Sends what the outbox holds for Slack: one card per consultation, kept up to date."""

    def __init__(
        self,
        *,
        db: Database,
        client: WebClient,
        clock: Clock,
        desk: DeskConfig,
        channel: str,
        tuning: DeliveryTuning,
        gate: WriteGate | None = None,
        post_interval: float = POST_INTERVAL,
    ) -> None:
        self.db = db
        self.client = client
        self.clock = clock
        self.desk = desk
        self.channel = channel
        self.tuning = tuning
        self.gate = gate or WriteGate(enabled=db.is_sqlite)
        self.pacer = Pacer(post_interval)
        # Slack failed since its last answer: the first card that goes through brings the waiting ones forward.
        self._away = False

    def claim(self, limit: int = 1) -> list[DueMessage]:
        """Leases up to `limit` due rows, oldest first."""
        with self.gate.hold(), self.db.session() as session:
            return claim_due_messages(
                session=session,
                channel=CHANNEL,
                now=self.clock.now(),
                lease=timedelta(seconds=self.tuning.lease),
                limit=limit,
            )

    def run_once(self) -> bool:
        """Claims and delivers the oldest due row; False when there was none."""
        due = self.claim(1)
        for message in due:
            self.deliver_safely(message)
        return bool(due)

    def deliver_safely(self, due: DueMessage) -> None:
        try:
            self.deliver(due)
        except Exception as exc:  # noqa: BLE001 - e.g. a lost connection: the row is taken again after its lease
            self._away = True
            log.error("outbox %s: Slack delivery raised %s", due.id, type(exc).__name__)

    def deliver(self, due: DueMessage) -> None:
        """Shows the row's card as it stands now and records where it is, or posts the row's message."""
        notice = _notice_of(due)
        if notice is not None and notice.to != TO_CARD:
            self.deliver_message(due, notice)
            return
        consultation_id = _consultation_of(due)
        rendered = self._render(consultation_id) if consultation_id is not None else None
        if consultation_id is None or rendered is None:
            self._park(due, "no consultation to show", status=SKIPPED)
            return
        card, where = rendered
        try:
            posted = self.show(consultation_id, card, where, retried=self._retried(due, consultation_id))
        except SlackApiError as exc:
            self._not_delivered(due, exc)
            return
        self.record(due, consultation_id, posted)

    def deliver_message(self, due: DueMessage, notice: Notice) -> None:
        """Posts the notice's message where it goes, once, and marks the row sent."""
        with self.db.session() as session:
            try:
                place = place_of(session, self.desk, notice, self.channel)
            except NoPlace as exc:
                if exc.for_now and due.attempts < self.tuning.max_attempts:
                    self._later(due, str(exc))
                else:
                    self._park(due, str(exc), status=SKIPPED)
                return
            message = render_notice(session, self.desk, notice)
        if notice.kind == MONTHLY_SUMMARY and notice.detail.get("month"):
            self.deliver_monthly(due, str(notice.detail["month"]), place)
            return
        if message is None:
            self._park(due, "nothing to show", status=SKIPPED)
            return
        try:
            found = self.find_message(place, due.id) if due.attempts > 1 and place.searchable else None
            if found is None:
                self._post(
                    place.channel, message.text, message.blocks, message_metadata(due.id), place.thread_ts
                )
        except SlackApiError as exc:
            self._not_delivered(due, exc)
            return
        via = "adopted" if found is not None else "posted"
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            mark_sent(session=session, message_id=due.id, via=via, now=now, lease_until=due.lease_until)
            self._back(session, now)
        log.info("outbox %s: %s message %s", due.id, notice.kind, via)

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
                    self._park(due, "posted; its report could not be built")
                    return
                recorded = set(progress.get("files") or [])
                found = shared_in_thread(self.client, place.channel, ts) - recorded if retried else set()
                missing = [f for f in report.files if f.file_name not in recorded | found]
                adopted = adopted or any(f.file_name in found for f in report.files)
                if missing:
                    with self.pacer.post(place.channel):
                        upload(self.client, channel=place.channel, ts=ts, month=month, files=missing)
            except SlackApiError as exc:
                self._not_delivered(due, exc, posted="ts" in progress)
                return
            except (SlackRequestError, OSError) as exc:  # the upload URL did not take the bytes
                self._not_delivered(due, None, posted="ts" in progress, error=type(exc).__name__)
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
        found = self.find_message(place, due.id) if due.attempts > 1 else None
        if found is not None:
            return found, True
        if report is not None:
            summary = report.summary
        else:
            summary = month_summary(db=self.db, desk=self.desk, month=month, now=self.clock.now())
        message = render_monthly_post(summary, attached=report is not None)
        answer = self._post(place.channel, message.text, message.blocks, message_metadata(due.id))
        return str(answer["ts"]), False

    def finish(self, due: DueMessage, progress: dict[str, Any], via: str) -> None:
        """Records the files shared and marks the row sent, in one transaction."""
        now = self.clock.now()
        with self.gate.hold(), self.db.session() as session:
            record_progress(
                session=session, message_id=due.id, progress=progress, lease_until=due.lease_until
            )
            mark_sent(session=session, message_id=due.id, via=via, now=now, lease_until=due.lease_until)
            self._back(session, now)

    def _progress(self, due: DueMessage, progress: dict[str, Any]) -> bool:
        """Records what is done so far; False (and nothing more is done) when the row is no longer ours."""
        with self.gate.hold(), self.db.session() as session:
            ours = record_progress(
                session=session, message_id=due.id, progress=progress, lease_until=due.lease_until
            )
        if not ours:
            log.warning("outbox %s: its lease ran out mid-delivery; left to the next claim", due.id)
        return ours

    def find_message(self, place: Place, outbox_id: int) -> str | None:
        """The `ts` of a message posted from this row before, in its thread or its channel's recent history."""
        if place.thread_ts is not None:
            page = self.client.conversations_replies(
                channel=place.channel, ts=place.thread_ts, limit=200, include_all_metadata=True
            )
        else:
            page = self.client.conversations_history(
                channel=place.channel, limit=200, include_all_metadata=True
            )
        for message in page.get("messages") or []:
            if posted_from(message, outbox_id):
                return str(message["ts"])
        return None

    def show(
        self, consultation_id: int, card: Card, where: tuple[str, str] | None, *, retried: bool
    ) -> Posted:
        """Updates the card where it is, adopts one posted before whose `ts` was never recorded, or posts it."""
        if where is None and retried:
            found = self.find_posted(consultation_id)
            if found is not None:
                log.info("consultation %s: its card was posted before; adopted", consultation_id)
                where = (self.channel, found)
                self._update(where, card)
                return Posted(self.channel, found, "adopted")
        if where is not None:
            self._update(where, card)
            return Posted(where[0], where[1], "updated")
        answer = self._post(self.channel, card.text, card.blocks, card.metadata)
        return Posted(str(answer["channel"]), str(answer["ts"]), "posted")

    def _post(
        self,
        channel: str,
        text: str,
        blocks: Any,
        metadata: Any,
        thread_ts: str | None = None,
    ) -> SlackResponse:
        """One message, paced to the channel's posting limit, with the outbox id in its metadata."""
        with self.pacer.post(channel):
            return self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                blocks=blocks,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )

    def record(self, due: DueMessage, consultation_id: int, posted: Posted) -> None:
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
            mark_sent(
                session=session, message_id=due.id, via=posted.via, now=now, lease_until=due.lease_until
            )
            self._back(session, now)
        log.info("outbox %s: card of consultation %s %s", due.id, consultation_id, posted.via)

    def find_posted(self, consultation_id: int) -> str | None:
        """The `ts` of this consultation's card in the channel's recent history, if it is there."""
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = self.client.conversations_history(
                channel=self.channel, limit=200, include_all_metadata=True, cursor=cursor
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and payload.get("consultation_id") == consultation_id
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    def _update(self, where: tuple[str, str], card: Card) -> None:
        self.client.chat_update(
            channel=where[0], ts=where[1], text=card.text, blocks=card.blocks, metadata=card.metadata
        )

    def _render(self, consultation_id: int) -> tuple[Card, tuple[str, str] | None] | None:
        with self.db.session() as session:
            consultation = session.get(Consultation, consultation_id)
            if consultation is None:
                return None
            card = get_card(session=session, consultation_id=consultation_id)
            where = (card.channel, card.ts) if card is not None else None
            return render_card(session, self.desk, consultation), where

    def _retried(self, due: DueMessage, consultation_id: int) -> bool:
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

    def _back(self, session: Session, now: datetime) -> None:
        """After Slack failed, the first delivery that goes through brings the waiting rows forward."""
        if self._away:
            self._away = False
            resume_parked(session=session, channel=CHANNEL, now=now, created_after=now - RESUME_WITHIN)

    def _later(self, due: DueMessage, error: str) -> None:
        """Tries the row again after its backoff (what it needs is not there yet)."""
        with self.gate.hold(), self.db.session() as session:
            mark_retry(
                session=session,
                message_id=due.id,
                retry_at=self.retry_at(due.attempts, None),
                error=error,
                reply_uncertain=False,
                lease_until=due.lease_until,
            )

    def _park(self, due: DueMessage, error: str, status: str = "failed") -> None:
        with self.gate.hold(), self.db.session() as session:
            mark_failed(
                session=session, message_id=due.id, error=error, status=status, lease_until=due.lease_until
            )
        log.warning("outbox %s: %s after %s attempt(s): %s", due.id, status, due.attempts, error)

    def _not_delivered(
        self, due: DueMessage, exc: SlackApiError | None, *, posted: bool = False, error: str = ""
    ) -> None:
        """Parks what Slack refused, else tries again after the backoff (and Retry-After). With `posted`, the
        message is in Slack already and only its files are missing: given up after the bounded attempts."""
        code = str(exc.response.get("error") or exc.response.status_code) if exc is not None else error
        error = f"posted; its files not attached: {code}" if posted else code
        if code in REFUSED:
            self._park(due, f"refused by Slack: {error}", status=REJECTED)
            return
        if posted and due.attempts >= self.tuning.max_attempts:
            self._park(due, f"gave up after {due.attempts} attempts: {error}")
            return
        # A card is not given up on while Slack is away: its backoff is capped, and Slack's return brings it forward.
        self._away = True
        retry_at = self.retry_at(due.attempts, _retry_after(exc) if exc is not None else None)
        with self.gate.hold(), self.db.session() as session:
            mark_retry(
                session=session,
                message_id=due.id,
                retry_at=retry_at,
                error=error,
                reply_uncertain=False,
                lease_until=due.lease_until,
            )
        log.info("outbox %s: Slack answered %s; next attempt at %s", due.id, error, retry_at.isoformat())

    def retry_at(self, attempts: int, retry_after: float | None) -> datetime:
        """Exponential backoff with jitter, and no sooner than Slack's Retry-After."""
        delay = min(self.tuning.retry_base * 2 ** max(attempts - 1, 0), self.tuning.retry_cap)
        delay *= random.uniform(0.8, 1.2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return self.clock.now() + timedelta(seconds=delay)


def _notice_of(due: DueMessage) -> Notice | None:
    try:
        return Notice.from_dict(due.messages[0]) if due.messages else None
    except (ValueError, TypeError):
        return None


def _consultation_of(due: DueMessage) -> int | None:
    notice: dict[str, Any] = due.messages[0] if due.messages else {}
    value = notice.get("consultation_id")
    return value if isinstance(value, int) else None


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            values = value if isinstance(value, list) else [value]
            try:
                return float(values[0])
            except (TypeError, ValueError, IndexError):
                return None
    return None


class SlackRuntime:
    """The thread that delivers the cards, started and stopped with the web app or `madoguchi worker`."""

    def __init__(self, delivery: SlackDelivery, poll: float) -> None:
        self.delivery = delivery
        self.poll = poll
        self.wakeup = Wakeup()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="slack-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wakeup.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        seen = 0
        while not self._stop.is_set():
            try:
                if self.delivery.run_once():
                    continue
            except Exception as exc:  # noqa: BLE001 - e.g. the database is away for a moment
                log.error("Slack outbox: %s", type(exc).__name__)
                self._stop.wait(1.0)
            seen = self.wakeup.wait(seen, self.poll)


def build_slack_runtime(services: Services) -> SlackRuntime | None:
    """The card delivery of a process whose outbound has the Slack coordinators' sender (None without)."""
    settings = services.settings
    if services.outbound.coordinators is None or not settings.slack_intake_channel:
        return None
    tuning = settings.line_tuning
    delivery = SlackDelivery(
        db=services.db,
        client=posting_client(settings),
        clock=services.clock,
        desk=services.desk,
        channel=settings.slack_intake_channel,
        tuning=tuning,
    )
    return SlackRuntime(delivery, poll=tuning.poll)
