"""同意しない and 中止 through the LINE webhook: what the owner typed is gone from the whole database (the
interaction log, the answers, the raw webhook bodies, the copies of the replies), the counts stay."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, select

from bot import texts
from bot.intake import Step
from storage.crypto import Keyring
from storage.database import Database
from storage.models import Consent, Conversation, InboxEvent, Interaction, OutboxMessage
from tests.line.conftest import InProcessServer, LineUser
from tests.line.standin import Delivery, LineStandIn
from tests.owner import LineChannel, Owner
from tests.privacy import count_tables, find_in_database


def scan(db: Database, keyring: Keyring, needles: list[str]) -> list[str]:
    with db.engine.connect() as conn:
        assert count_tables(conn) >= 10
        return find_in_database(conn, keyring, needles)


def settle(db: Database, timeout: float = 10.0) -> None:
    """Waits until every event is handled and every outbox row is sent (mark_sent follows the delivery)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as session:
            events = session.scalar(select(func.count()).where(InboxEvent.status == "pending"))
            rows = session.scalar(select(func.count()).where(OutboxMessage.status == "pending"))
        if not events and not rows:
            return
        time.sleep(0.02)
    raise AssertionError("the inbox or the outbox did not settle")


def directions(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(Interaction.direction, func.count()).group_by(Interaction.direction))
        return {direction: count for direction, count in rows}


def reply_count(user: LineUser, standin: LineStandIn) -> int:
    return sum(len(d.messages) for d in standin.deliveries_to(user.user_id))


def test_cancelling_on_line_deletes_everything_typed(
    start_server: Callable[..., InProcessServer], standin: LineStandIn, keyring: Keyring
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    last: Delivery = user.say("相談を申し込みたいです")
    Owner(LineChannel(user, last)).walk_to(
        Step.CATEGORY,
        company="株式会社しらす企画",
        contact_name="薩摩 次郎",
        municipality="国分",
        employees="6〜20人",
    )
    user.say("戻る")
    last = user.say("戻る")
    assert "いまの回答：霧島市" in "\n".join(last.texts)  # a read-back of what was typed, sent and kept
    settle(server.db)
    typed = ["相談を申し込みたいです", "しらす企画", "薩摩 次郎", "国分"]
    assert scan(server.db, keyring, typed)

    last = user.say("やめる")
    settle(server.db)
    done = user.tap(last, texts.CANCEL_YES)
    assert done.texts == [texts.CANCELLED]
    settle(server.db)

    assert scan(server.db, keyring, [*typed, "霧島市"]) == []
    events = 12  # every message in, and every reply out, is still counted
    assert directions(server.db) == {"in": events, "out": reply_count(user, standin)}
    with server.db.session() as session:
        assert session.scalars(select(Conversation)).first() is None
        bodies = session.scalars(select(InboxEvent)).all()
        assert len(bodies) == events and all(e.body == {} and e.purged_at for e in bodies)


def test_declining_on_line_deletes_what_was_typed(
    start_server: Callable[..., InProcessServer], standin: LineStandIn, keyring: Keyring
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    user.say("相談を申し込みたいです")
    last = user.say("有限会社くすのき商会ですが、料金はかかりますか")
    last = user.tap(last, texts.CONSENT_NO)
    assert "ここまでのやりとりの内容は削除しました" in last.texts[0]
    settle(server.db)

    assert scan(server.db, keyring, ["相談を申し込みたいです", "くすのき商会", "料金はかかりますか"]) == []
    assert directions(server.db)["in"] == 3
    with server.db.session() as session:
        assert [c.accepted for c in session.scalars(select(Consent))] == [False]
