"""An owner's cancellation from 予約確認 after the desk confirmed: the booking leaves the coordinator's
calendar (a real Radicale CalDAV server), the time is free again, the card is refreshed and the thread
says what happened, through the outbox, in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import texts
from bot.bookings import OWNER_CANCELLED, booking_when
from bot.decisions import approve
from bot.engine import IntakeEngine
from bot.sending import TO_CARD, TO_THREAD
from config import DeskConfig, load_desk_config
from config.scheduling import CalendarSettings
from handlers.slack.delivery import SlackDelivery
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from tests.scheduling.support import RadicaleServer
from tests.scheduling.test_propose import new_caldav_calendar
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_cards import rows, submitted


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def desk(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch) -> DeskConfig:
    """The shipped desk, every coordinator's calendar on the CalDAV server."""
    shipped = load_desk_config()
    calendar = CalendarSettings.model_validate(new_caldav_calendar(radicale, monkeypatch, "desk"))
    coordinators = tuple(c.model_copy(update={"calendar": calendar}) for c in shipped.scheduling.coordinators)
    return shipped.model_copy(
        update={"scheduling": shipped.scheduling.model_copy(update={"coordinators": coordinators})}
    )


def the_booking(db: Database) -> Booking:
    with db.session() as session:
        return session.scalars(select(Booking)).one()


def test_a_cancelled_booking_leaves_the_calendar_and_the_desk_is_told(
    engine: IntakeEngine,
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    clock: FixedClock,
    desk: DeskConfig,
) -> None:
    chat = submitted(engine, db)
    booking = the_booking(db)
    with db.session() as session:
        assert approve(
            session=session,
            desk=desk,
            outbound=engine.outbound,
            booking_id=booking.id,
            actor="U0EXYAMADA",
            now=clock.now(),
            calendars=engine.calendars,
        )
    confirmed = the_booking(db)
    assert confirmed.status == "confirmed" and confirmed.external_uid
    window = (confirmed.starts_at - timedelta(hours=1), confirmed.ends_at + timedelta(hours=1))
    busy = engine.calendars.calendars[confirmed.coordinator_id].provider.fetch_busy(*window)
    assert [(b.starts_at, b.ends_at) for b in busy] == [(confirmed.starts_at, confirmed.ends_at)]

    chat.say(texts.MENU_BOOKINGS)
    chat.tap(texts.BOOKING_CANCEL)
    chat.tap(texts.BOOKING_CANCEL_YES)
    assert "キャンセルしました" in chat.text
    cancelled = the_booking(db)
    assert cancelled.status == "cancelled" and cancelled.external_uid is None
    assert engine.calendars.calendars[confirmed.coordinator_id].provider.fetch_busy(*window) == []

    notices = [r.payload["messages"][0] for r in rows(db)]
    assert [(n["kind"], n["to"]) for n in notices][-2:] == [
        (OWNER_CANCELLED, TO_CARD),
        (OWNER_CANCELLED, TO_THREAD),
    ]
    while delivery.run_once():
        pass
    [card] = slack.messages(INTAKE_CHANNEL)
    assert "キャンセルされました" in repr(card["blocks"])
    [note] = [m["text"] for m in slack.thread(INTAKE_CHANNEL, card["ts"])]
    assert note == f"お客様が予約確認（LINE）からご予約を取り消しました：{booking_when(cancelled)}"
