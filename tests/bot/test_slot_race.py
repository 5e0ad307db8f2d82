"""Fifty owners tap the same time at once, each through the whole conversation on its own connection:
exactly one holds it, every other is offered fresh times at once, and nobody sees an error."""

from __future__ import annotations

import threading

from sqlalchemy import select

from bot import texts
from bot.engine import IntakeEngine
from config import DeskConfig
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from tests.bot.chat import Chat
from tests.bot.test_slot_step import slot_labels, to_method
from tests.conftest import DatabaseFactory

OWNERS = 50


def test_fifty_owners_picking_one_slot(
    fresh_database_url: DatabaseFactory, desk: DeskConfig, clock: FixedClock
) -> None:
    url = fresh_database_url(migrated=True)
    db = (
        Database(url, pool_size=OWNERS + 5, max_overflow=0) if not url.startswith("sqlite") else Database(url)
    )
    engine = IntakeEngine(desk, clock)
    chats = [Chat(engine, db, user=f"U-race-{i}") for i in range(OWNERS)]
    for chat in chats:
        to_method(chat)
    wanted = slot_labels(chats[0])[0]
    assert all(wanted in slot_labels(chat) for chat in chats)

    barrier = threading.Barrier(OWNERS)
    errors: list[BaseException] = []

    def pick(chat: Chat) -> None:
        try:
            barrier.wait(timeout=30)
            chat.tap(wanted)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=pick, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    winners = [chat for chat in chats if "電話番号" in chat.text]
    losers = [chat for chat in chats if texts.SLOT_TAKEN in chat.text]
    assert len(winners) == 1 and len(losers) == OWNERS - 1
    assert all(slot_labels(chat) and wanted not in slot_labels(chat) for chat in losers)
    with db.session() as session:
        held = list(session.scalars(select(Booking).where(Booking.status == "held")))
    assert len(held) == 1
    db.dispose()
