"""The sending seam with the LINE sender: a domain call queues rows in the caller's transaction, checked
against LINE's limits; rolled back, nothing is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.messages import Button, MessageLimitError, OutMessage
from bot.sending import NoSender, Notice, Outbound, ToContact
from handlers.line.render import MAX_MESSAGES, MAX_QUICK_REPLIES, MAX_TEXT
from handlers.line.sender import LineSender
from handlers.services import build_outbound
from handlers.web.sim_sender import SimulatorSender
from storage.channels import Channel
from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.interactions import delivered_messages
from storage.models import Interaction, OutboxMessage
from tests.line.standin import LineStandIn
from tests.line.test_outage import _deliver_due, _delivery

ALWAYS = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
USER = "U" + "e" * 32


class RolledBack(Exception):
    """What the caller's change raises after queueing, so its transaction is rolled back."""


def counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
        logged = session.scalar(select(func.count()).where(Interaction.direction == "out"))
    return int(rows or 0), int(logged or 0)


def remind(db: Database, outbound: Outbound, messages: list[OutMessage], *, fail: bool = False) -> None:
    """A domain change that sends as part of itself (a reminder, say), and may fail after queueing."""
    with db.session() as session:
        contact = get_or_create_contact(session=session, channel="line", external_id=USER)
        session.flush()
        outbound.to_contact(session=session, contact=contact, messages=messages, reason="reminder")
        if fail:
            raise RolledBack


def test_a_domain_call_queues_in_its_transaction_and_line_gets_it_once(
    db: Database, standin: LineStandIn, clock: FixedClock
) -> None:
    outbound = build_outbound(clock)
    remind(db, outbound, [OutMessage("明日10時のご予約です。"), OutMessage("お待ちしております。")])
    with db.session() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        logged = session.scalars(select(Interaction).order_by(Interaction.id)).all()
        assert (row.channel, row.reason, row.reply_token, row.status) == ("line", "reminder", None, "pending")
        assert [(i.text, i.outbox_id, i.delivered_at) for i in logged] == [
            ("明日10時のご予約です。", row.id, None),
            ("お待ちしております。", row.id, None),
        ]
        assert delivered_messages(session=session, start=ALWAYS[0], end=ALWAYS[1]) == []

    delivery = _delivery(db, standin, clock)
    assert _deliver_due(delivery) == 1
    delivery.api.close()
    [push] = standin.deliveries_to(USER)
    assert (push.kind, push.texts) == ("push", ["明日10時のご予約です。", "お待ちしております。"])
    with db.session() as session:
        sent = delivered_messages(session=session, start=ALWAYS[0], end=ALWAYS[1], channel="line")
        assert [i.text for i in sent] == ["明日10時のご予約です。", "お待ちしております。"]


def test_a_rolled_back_change_sends_nothing(db: Database, standin: LineStandIn, clock: FixedClock) -> None:
    with pytest.raises(RolledBack):
        remind(db, build_outbound(clock), [OutMessage("明日10時のご予約です。")], fail=True)
    assert counts(db) == (0, 0)
    delivery = _delivery(db, standin, clock)
    assert _deliver_due(delivery) == 0
    delivery.api.close()
    assert standin.deliveries_to(USER) == []


def test_what_line_would_refuse_is_not_queued_and_nothing_is_logged(db: Database, clock: FixedClock) -> None:
    outbound = build_outbound(clock)
    buttons = tuple(Button(f"選択肢{i}", f"t|s|{i}") for i in range(MAX_QUICK_REPLIES + 1))
    for refused in ([OutMessage("多すぎるボタン", buttons)], [OutMessage("あ" * (MAX_TEXT + 1))]):
        with pytest.raises(MessageLimitError):
            remind(db, outbound, refused)
    assert counts(db) == (0, 0)


def test_more_messages_than_one_call_carries_are_split_in_order(db: Database, clock: FixedClock) -> None:
    messages = [OutMessage(f"{i}通目") for i in range(MAX_MESSAGES + 2)]
    remind(db, build_outbound(clock), messages)
    with db.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [[m["text"] for m in r.payload["messages"]] for r in rows] == [
            [m.text for m in messages[:MAX_MESSAGES]],
            [m.text for m in messages[MAX_MESSAGES:]],
        ]
        logged = session.scalars(select(Interaction).order_by(Interaction.id)).all()
        assert [i.outbox_id for i in logged] == [rows[0].id] * MAX_MESSAGES + [rows[1].id] * 2


def test_a_channel_without_a_sender_is_refused_by_name(db: Database, clock: FixedClock) -> None:
    outbound = build_outbound(clock)
    with db.session() as session:
        visitor = get_or_create_contact(session=session, channel="simulator", external_id="visitor-1")
        session.flush()
        with pytest.raises(NoSender, match="simulator"):
            outbound.to_contact(
                session=session, contact=visitor, messages=[OutMessage("x")], reason="reminder"
            )
        with pytest.raises(NoSender, match="coordinators"):
            outbound.to_coordinators(
                session=session, notice=Notice("booking_requested", consultation_id=1, booking_id=1)
            )
    assert counts(db) == (0, 0)


def test_a_batch_goes_to_each_contacts_own_channel_and_one_without_a_sender_is_told(
    db: Database, clock: FixedClock
) -> None:
    outbound = Outbound(senders={Channel.LINE: LineSender(clock), Channel.SIMULATOR: SimulatorSender(clock)})
    with db.session() as session:
        line = get_or_create_contact(session=session, channel="line", external_id=USER)
        phone = get_or_create_contact(session=session, channel="simulator", external_id="visitor-1")
        web = get_or_create_contact(session=session, channel="web", external_id="form-1")
        session.flush()
        many = [OutMessage(f"{i}通目") for i in range(MAX_MESSAGES + 1)]
        queued = outbound.to_contacts(
            session=session,
            items=[
                ToContact(line.id, "line", many, "reminder"),
                ToContact(web.id, "web", [OutMessage("届きません")], "reminder"),
                ToContact(phone.id, "simulator", [OutMessage("シミュレーターへ")], "reminder"),
                ToContact(line.id, "line", [], "reminder"),
            ],
        )
        rows = {r.id: r for r in session.scalars(select(OutboxMessage))}
        assert queued[1] is None and queued[3] == []
        assert [len(rows[i].payload["messages"]) for i in queued[0] or []] == [MAX_MESSAGES, 1]
        assert [rows[i].channel for i in queued[2] or []] == ["simulator"]  # its sender's one-by-one path
        logged = session.scalars(select(Interaction).order_by(Interaction.id)).all()
        assert sorted((i.text, i.outbox_id, i.delivered_at) for i in logged if i.channel == "line") == sorted(
            [(m.text, (queued[0] or [])[i // MAX_MESSAGES], None) for i, m in enumerate(many)]
        )
        with pytest.raises(MessageLimitError):  # what LINE would refuse: the whole batch, nothing written
            outbound.to_contacts(
                session=session,
                items=[
                    ToContact(line.id, "line", [OutMessage("よい")], "reminder"),
                    ToContact(line.id, "line", [OutMessage("あ" * (MAX_TEXT + 1))], "reminder"),
                ],
            )
        assert len(session.scalars(select(OutboxMessage)).all()) == 3
