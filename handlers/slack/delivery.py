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

This module claims the rows, takes each down its path (a card, a message; the monthly summary's is
monthly_delivery.py) and runs the thread that does it. Its parts: history.py finds an earlier post,
posting.py makes the paced post and the card's update, pacing.py holds the pace, the backoff and
Retry-After, and delivery_records.py writes each row's outcome (sent, retried, parked, Slack's return).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sending import TO_CARD, Notice
from config import DeskConfig
from handlers.line.sync import Wakeup, WriteGate
from handlers.services import Services
from handlers.settings import DeliveryTuning
from handlers.slack.cards import Card, render_card
from handlers.slack.client import posting_client
from handlers.slack.delivery_records import CHANNEL, DeliveryRecords
from handlers.slack.history import find_card, find_message
from handlers.slack.job_notices import MONTHLY_SUMMARY
from handlers.slack.monthly_delivery import MonthlySummaryDelivery
from handlers.slack.notices import NoPlace, message_metadata, place_of, render_notice
from handlers.slack.pacing import POST_INTERVAL, Pacer
from handlers.slack.posting import Posted, post_message, update_card
from storage.clock import Clock
from storage.database import Database
from storage.models import Consultation
from storage.outbox import SKIPPED, DueMessage, claim_due_messages
from storage.slack_cards import get_card

log = logging.getLogger(__name__)


class SlackDelivery(MonthlySummaryDelivery):
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
        self.records = DeliveryRecords(db=db, clock=clock, tuning=tuning, gate=self.gate)

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
            self.records.away = True
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
            self.records.park(due, "no consultation to show", status=SKIPPED)
            return
        card, where = rendered
        try:
            posted = self.show(
                consultation_id, card, where, retried=self.records.card_tried_before(due, consultation_id)
            )
        except SlackApiError as exc:
            self.records.not_delivered(due, exc)
            return
        self.records.card_sent(due, consultation_id, posted)

    def deliver_message(self, due: DueMessage, notice: Notice) -> None:
        """Posts the notice's message where it goes, once, and marks the row sent."""
        with self.db.session() as session:
            try:
                place = place_of(session, self.desk, notice, self.channel)
            except NoPlace as exc:
                if exc.for_now and due.attempts < self.tuning.max_attempts:
                    self.records.later(due, str(exc))
                else:
                    self.records.park(due, str(exc), status=SKIPPED)
                return
            message = render_notice(session, self.desk, notice)
        if notice.kind == MONTHLY_SUMMARY and notice.detail.get("month"):
            self.deliver_monthly(due, str(notice.detail["month"]), place)
            return
        if message is None:
            self.records.park(due, "nothing to show", status=SKIPPED)
            return
        try:
            found = (
                find_message(self.client, place, due.id) if due.attempts > 1 and place.searchable else None
            )
            if found is None:
                post_message(
                    self.client,
                    self.pacer,
                    place.channel,
                    message.text,
                    message.blocks,
                    message_metadata(due.id),
                    place.thread_ts,
                )
        except SlackApiError as exc:
            self.records.not_delivered(due, exc)
            return
        via = "adopted" if found is not None else "posted"
        self.records.message_sent(due, via)
        log.info("outbox %s: %s message %s", due.id, notice.kind, via)

    def show(
        self, consultation_id: int, card: Card, where: tuple[str, str] | None, *, retried: bool
    ) -> Posted:
        """Updates the card where it is, adopts one posted before whose `ts` was never recorded, or posts it."""
        if where is None and retried:
            found = find_card(self.client, self.channel, consultation_id)
            if found is not None:
                log.info("consultation %s: its card was posted before; adopted", consultation_id)
                where = (self.channel, found)
                update_card(self.client, where, card)
                return Posted(self.channel, found, "adopted")
        if where is not None:
            update_card(self.client, where, card)
            return Posted(where[0], where[1], "updated")
        answer = post_message(self.client, self.pacer, self.channel, card.text, card.blocks, card.metadata)
        return Posted(str(answer["channel"]), str(answer["ts"]), "posted")

    def _render(self, consultation_id: int) -> tuple[Card, tuple[str, str] | None] | None:
        with self.db.session() as session:
            consultation = session.get(Consultation, consultation_id)
            if consultation is None:
                return None
            card = get_card(session=session, consultation_id=consultation_id)
            where = (card.channel, card.ts) if card is not None else None
            return render_card(session, self.desk, consultation), where


def _notice_of(due: DueMessage) -> Notice | None:
    try:
        return Notice.from_dict(due.messages[0]) if due.messages else None
    except (ValueError, TypeError):
        return None


def _consultation_of(due: DueMessage) -> int | None:
    notice: dict[str, Any] = due.messages[0] if due.messages else {}
    value = notice.get("consultation_id")
    return value if isinstance(value, int) else None


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
