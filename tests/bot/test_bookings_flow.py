"""予約確認 with plain events: view, cancel (the time free for the next owner at once), another time, nothing
booked, and entering it in the middle of the intake (the intake goes on where it was)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from bot.lifecycle import BookingStatus, transition_booking
from config import DeskConfig
from scheduling.labels import label_moment
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.models import Consultation, ConsultationEvent, Conversation
from tests.bot.chat import Chat
from tests.owner import Owner


@pytest.fixture
def engine(desk: DeskConfig, clock: FixedClock) -> IntakeEngine:
    return IntakeEngine(desk, clock)


def booked(engine: IntakeEngine, db: Database, user: str = "U-booked", **answers: object) -> Chat:
    """An owner who submitted an online consultation with the first time offered."""
    chat = Chat(engine, db, user=user)
    Owner(chat).answer_until(None, **answers)
    assert "受け付けました" in chat.text
    return chat


def bookings(db: Database) -> list[Booking]:
    with db.session() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


def consultation(db: Database) -> Consultation:
    with db.session() as session:
        return session.scalars(select(Consultation)).one()


def conversation(db: Database, chat: Chat) -> Conversation | None:
    with db.session() as session:
        rows = list(session.scalars(select(Conversation)))
        return next((r for r in rows if r.contact_id == contact_id(db, chat)), None)


def contact_id(db: Database, chat: Chat) -> int:
    with db.session() as session:
        return get_or_create_contact(session=session, channel=chat.channel, external_id=chat.user).id


def slot_labels(chat: Chat) -> list[str]:
    return [b.label for b in chat.buttons() if re.match(r"^\d{1,2}/\d{1,2}\(", b.label)]


def test_the_booking_is_shown_with_its_day_method_place_and_status(
    engine: IntakeEngine, db: Database, clock: FixedClock
) -> None:
    chat = booked(engine, db)
    [booking] = bookings(db)
    chat.say("予約確認")
    assert f"日時：{label_moment(booking.starts_at)}" in chat.text  # the day with its weekday (and 祝)
    assert "方法：オンライン（Zoom等）" in chat.text and "場所：オンライン" in chat.text
    assert "状況：仮のご予約（受付済み・確認待ち）" in chat.text
    assert consultation(db).reference in chat.text
    labels = [b.label for b in chat.buttons()]
    assert labels == [texts.BOOKING_CANCEL, texts.BOOKING_MOVE, texts.BOOKINGS_BACK]
    # Confirmed by a coordinator, it reads 確定.
    with db.session() as session:
        transition_booking(
            session=session,
            booking_id=booking.id,
            to=BookingStatus.CONFIRMED,
            actor="coordinator",
            now=clock.now(),
        )
    chat.tap(texts.BOOKINGS_BACK)
    assert texts.BOOKINGS_CLOSED in chat.text and [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    assert conversation(db, chat) is None
    chat.tap(texts.START_BUTTON)  # a new request from there
    assert "前回と同じ会社の情報を使いますか" in chat.text
    chat.say("やめる")
    chat.tap(texts.CANCEL_YES)
    chat.say("予約確認")
    assert "状況：確定" in chat.text


def test_cancelling_asks_first_then_frees_the_time_for_the_next_owner_at_once(
    engine: IntakeEngine, db: Database
) -> None:
    chat = booked(engine, db)
    [booking] = bookings(db)
    taken = label_moment(booking.starts_at)
    other = Chat(engine, db, user="U-next-owner")
    Owner(other).walk_to(Step.SLOT)
    assert taken not in slot_labels(other)  # held for the first owner

    chat.say("予約確認")
    chat.tap(texts.BOOKING_CANCEL)
    assert "キャンセルしますか" in chat.text and taken in chat.text
    chat.tap(texts.BOOKING_CANCEL_NO)
    assert texts.BOOKING_NOT_CANCELLED in chat.text and "状況：" in chat.text
    assert bookings(db)[0].status == "requested"
    chat.tap(texts.BOOKING_CANCEL)
    chat.tap(texts.BOOKING_CANCEL_YES)
    assert "キャンセルしました" in chat.text and taken in chat.text
    assert [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    assert bookings(db)[0].status == "cancelled"
    assert consultation(db).status == "withdrawn"
    with db.session() as session:
        kinds = [e.kind for e in session.scalars(select(ConsultationEvent).order_by(ConsultationEvent.id))]
    assert "booking_cancelled" in kinds and "withdrawn" in kinds
    assert conversation(db, chat) is None

    other.say("あ")  # any answer asks again, with the times free now
    assert taken in slot_labels(other)
    other.tap(taken)
    assert "電話番号" in other.text

    chat.say("予約確認")  # nothing left
    assert "いまご確認いただけるご予約はありません" in chat.text


def test_the_time_can_be_changed_through_the_slot_step(engine: IntakeEngine, db: Database) -> None:
    chat = booked(engine, db)
    [before] = bookings(db)
    chat.say("予約確認")
    chat.tap(texts.BOOKING_MOVE)
    assert f"いまの日時：{label_moment(before.starts_at)}" in chat.text
    offered = slot_labels(chat)
    assert offered and label_moment(before.starts_at) not in offered
    labels = [b.label for b in chat.buttons()]
    assert texts.KEEP_TIME in labels and texts.DECIDE_LATER not in labels
    chat.tap(texts.KEEP_TIME)
    assert texts.BOOKING_NOT_MOVED in chat.text and bookings(db)[0].starts_at == before.starts_at

    chat.tap(texts.BOOKING_MOVE)
    new = slot_labels(chat)[-1]
    chat.tap(new)
    assert texts.BOOKING_MOVED in chat.text and f"日時：{new}" in chat.text
    [after] = bookings(db)
    assert after.id == before.id and after.status == "requested"  # moved, not replaced
    assert label_moment(after.starts_at) == new
    with db.session() as session:
        assert "booking_moved" in [e.kind for e in session.scalars(select(ConsultationEvent))]
    # The old time is free again for someone else.
    other = Chat(engine, db, user="U-next-owner")
    Owner(other).walk_to(Step.SLOT)
    assert label_moment(before.starts_at) in slot_labels(other)


def test_with_nothing_booked_it_says_so_and_offers_to_consult(
    engine: IntakeEngine, db: Database, desk: DeskConfig
) -> None:
    chat = Chat(engine, db)
    chat.say("予約確認")
    assert "いまご確認いただけるご予約はありません" in chat.text and desk.desk.phone in chat.text
    assert [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    assert conversation(db, chat) is None
    # A request by phone has no time to show: it is named, received, the desk to get in touch.
    Owner(chat).answer_until(None, method="電話")
    chat.say("予約確認")
    assert "日時の決まったご予約はありません" in chat.text
    assert f"受付番号：{consultation(db).reference}" in chat.text and "ご連絡します" in chat.text
    assert [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    chat.tap(texts.START_BUTTON)
    assert "前回と同じ会社の情報を使いますか" in chat.text


def test_entering_it_mid_intake_and_leaving_it_resumes_the_intake(engine: IntakeEngine, db: Database) -> None:
    chat = booked(engine, db)
    owner = Owner(chat)
    owner.walk_to(Step.DESCRIPTION)
    assert texts.ASK_DESCRIPTION.split("{")[0] in chat.text
    chat.say("予約確認")
    assert "状況：仮のご予約" in chat.text
    row = conversation(db, chat)
    assert row is not None and row.flow == "bookings" and row.answers.get("company_name") == "さつま商店"
    chat.say("戻る")
    assert texts.BACK_TO_INTAKE in chat.text
    assert chat.replies[-1].text.startswith(texts.ASK_DESCRIPTION.split("{")[0])
    row = conversation(db, chat)
    assert row is not None and row.flow == "intake" and row.step == Step.DESCRIPTION
    # 戻る inside the intake still knows the questions answered before 予約確認.
    chat.say("戻る")
    assert texts.ASK_CATEGORY2 in chat.text
    owner.answer_until(None)
    assert "受け付けました" in chat.text
    assert len(bookings(db)) == 2


def test_cancelling_a_booking_mid_intake_then_goes_on_with_the_intake(
    engine: IntakeEngine, db: Database
) -> None:
    chat = booked(engine, db)
    chat.say("相談したい")
    Owner(chat, started=True).walk_to(Step.INDUSTRY)
    chat.say("予約確認")
    chat.tap(texts.BOOKING_CANCEL)
    chat.tap(texts.BOOKING_CANCEL_YES)
    assert "キャンセルしました" in chat.text and texts.BACK_TO_INTAKE in chat.text
    assert texts.ASK_INDUSTRY in chat.replies[-1].text
    assert bookings(db)[0].status == "cancelled"
    chat.tap("製造業")
    assert "所在地" in chat.text
    chat.say("予約確認")  # nothing booked now: the intake goes on
    assert "いまご確認いただけるご予約はありません" in chat.text and "所在地" in chat.replies[-1].text


def test_a_booking_declined_meanwhile_is_not_cancelled_twice(
    engine: IntakeEngine, db: Database, clock: FixedClock
) -> None:
    chat = booked(engine, db)
    [booking] = bookings(db)
    chat.say("予約確認")
    chat.tap(texts.BOOKING_CANCEL)
    with db.session() as session:
        transition_booking(
            session=session,
            booking_id=booking.id,
            to=BookingStatus.DECLINED,
            actor="coordinator",
            now=clock.now(),
        )
    chat.tap(texts.BOOKING_CANCEL_YES)
    assert texts.BOOKING_GONE in chat.text
    assert bookings(db)[0].status == "declined" and consultation(db).status == "submitted"


def test_several_bookings_are_listed_and_one_is_chosen(engine: IntakeEngine, db: Database) -> None:
    chat = booked(engine, db)
    Owner(chat).answer_until(None)
    first, second = sorted(bookings(db), key=lambda b: b.starts_at)
    chat.say("予約確認")
    assert "ご予約が2件あります" in chat.text
    labels = [b.label for b in chat.buttons()]
    assert labels == [label_moment(first.starts_at), label_moment(second.starts_at), texts.BOOKINGS_DONE]
    chat.tap(label_moment(second.starts_at))
    assert f"日時：{label_moment(second.starts_at)}" in chat.text
    chat.tap(texts.BOOKINGS_BACK)
    assert "ご予約が2件あります" in chat.text
    chat.tap(texts.BOOKINGS_DONE)
    assert texts.BOOKINGS_CLOSED in chat.text


def test_bookings_again_inside_it_starts_it_over_and_keeps_the_parked_intake(
    engine: IntakeEngine, db: Database
) -> None:
    chat = booked(engine, db)
    Owner(chat).walk_to(Step.EMPLOYEES)
    chat.say("予約確認")
    chat.tap(texts.BOOKING_MOVE)
    chat.say("予約確認")  # from the times back to the booking
    assert "状況：仮のご予約" in chat.text and texts.BOOKING_MOVE in [b.label for b in chat.buttons()]
    chat.say("最初から")  # the same inside 予約確認: its start, not the intake's
    assert "状況：仮のご予約" in chat.text
    chat.say("相談する")  # the menu's 相談する: back to the parked intake, its answers kept
    assert texts.BACK_TO_INTAKE in chat.text and texts.ASK_EMPLOYEES in chat.replies[-1].text
    row = conversation(db, chat)
    assert row is not None and row.flow == "intake" and row.answers["company_name"] == "さつま商店"


def test_consult_inside_bookings_entered_from_no_flow_starts_a_new_intake(
    engine: IntakeEngine, db: Database
) -> None:
    chat = booked(engine, db)
    chat.say("予約確認")
    chat.say("相談する")
    assert "前回と同じ会社の情報を使いますか" in chat.text
    row = conversation(db, chat)
    assert row is not None and row.flow == "intake" and row.flags is not None and not row.flags.get("parked")
