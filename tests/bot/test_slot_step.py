"""Choosing a meeting time in the intake: real free slots, holds, the date picker, and their edges."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from bot.lifecycle import expire_holds
from bot.messages import DatePicker, Inbound
from config import DeskConfig
from scheduling.jobs import JobContext, configure_jobs, expire_holds_job
from storage.bookings import Booking
from storage.clock import JST, FixedClock
from storage.database import Database
from storage.models import Consultation
from tests.bot.chat import Chat
from tests.owner import Owner

SLOT_LABEL = re.compile(r"^\d{1,2}/\d{1,2}\((月|火|水|木|金|土|日)(・祝)?\) (\d{2}:\d{2}|終日)$")


@pytest.fixture
def engine(desk: DeskConfig, clock: FixedClock) -> IntakeEngine:
    return IntakeEngine(desk, clock)


def to_method(
    chat: Chat, method: str = "オンライン（Zoom等）", place: str = "霧島市", category: str | None = None
) -> None:
    overrides = {"municipality": place, **({"category": category} if category else {})}
    Owner(chat).walk_to(Step.METHOD, **overrides)
    chat.tap(method)


def slot_labels(chat: Chat) -> list[str]:
    return [b.label for b in chat.buttons() if SLOT_LABEL.match(b.label)]


def bookings(db: Database) -> list[Booking]:
    with db.session() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


def test_an_online_meeting_is_offered_real_slots_and_the_choice_is_held(
    engine: IntakeEngine, db: Database
) -> None:
    chat = Chat(engine, db)
    to_method(chat)
    labels = slot_labels(chat)
    assert "ご都合のよい日時" in chat.text
    assert 1 <= len(labels) <= 5 and len({label.split(" ")[0] for label in labels}) == len(
        labels
    )  # different days
    assert all(
        not label.startswith(("11/25", "11/26(木) 0")) for label in labels
    )  # from the next business day
    picker = [a for m in chat.replies for a in m.actions if isinstance(a, DatePicker)]
    assert picker and picker[0].label == texts.OTHER_TIME and picker[0].min and picker[0].max
    chat.tap(labels[0])
    assert "電話番号" in chat.text
    [held] = bookings(db)
    assert held.status == "held" and held.consultation_id is None and held.method == "online"
    chat.say("0991234567")
    assert f"ご希望の日時：{labels[0]}" in chat.text
    chat.tap(texts.SUBMIT)
    [booked] = bookings(db)
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
    assert booked.consultation_id == consultation.id and booked.status == "requested"


def test_no_slot_falls_in_the_year_end_closure(
    engine: IntakeEngine, db: Database, clock: FixedClock, desk: DeskConfig
) -> None:
    clock.set(datetime(2026, 12, 24, 10, 0, tzinfo=JST))  # the year-end closure is within the horizon
    chat = Chat(engine, db)
    to_method(chat, method="窓口で（来所）")
    days = [label.split("(")[0] for label in slot_labels(chat)]
    assert days
    for day in days:
        month, dom = (int(x) for x in day.split("/"))
        assert not (month == 12 and dom >= 29) and not (month == 1 and dom <= 3), day


def test_two_owners_cannot_hold_the_same_time(engine: IntakeEngine, db: Database) -> None:
    first, second = Chat(engine, db, user="U-first"), Chat(engine, db, user="U-second")
    to_method(first)
    to_method(second)
    same = slot_labels(first)[0]
    assert same in slot_labels(second)
    first.tap(same)
    second.tap(same)
    assert texts.SLOT_TAKEN in second.text and "エラー" not in second.text
    assert second.buttons()  # fresh slots offered at once
    assert [b.status for b in bookings(db)] == ["held"]


def test_the_date_picker_offers_the_nearest_free_times(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(chat)
    picker = next(a for m in chat.replies for a in m.actions if isinstance(a, DatePicker))
    chat.send(Inbound("postback", text="", data=picker.data, params={"datetime": "2026-12-08T15:00"}))
    assert "12/8 15:00ごろの空き日時です" in chat.text
    labels = slot_labels(chat)
    assert labels and any(label.startswith("12/") for label in labels)
    chat.send(Inbound("postback", data=picker.data, params={"datetime": "nonsense"}))
    assert texts.PICKER_INVALID in chat.text


def test_deciding_the_time_later_holds_nothing(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(chat)
    chat.tap(texts.DECIDE_LATER)
    chat.say("0991234567")
    assert f"ご希望の日時：{texts.SLOT_LATER_SUMMARY}" in chat.text
    assert bookings(db) == []


def test_phone_consultations_skip_slots(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(chat, method="電話")
    assert "電話番号" in chat.text and not slot_labels(chat)
    chat.say("0991234567")
    assert "ご希望の日時" not in chat.text


def test_changing_the_method_to_phone_releases_the_hold(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(chat)
    chat.tap(slot_labels(chat)[0])
    chat.say("0991234567")
    chat.tap(texts.EDIT)
    chat.tap("相談方法")
    chat.tap("電話")
    assert "ご入力内容をご確認ください" in chat.text and "ご希望の日時" not in chat.text
    assert [b.status for b in bookings(db)] == ["cancelled"]


def test_changing_the_slot_from_the_summary_moves_the_hold(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(chat)
    first = slot_labels(chat)[0]
    chat.tap(first)
    chat.say("0991234567")
    chat.tap(texts.EDIT)
    chat.tap("希望日時")
    second = next(label for label in slot_labels(chat) if label != first)
    chat.tap(second)
    assert f"ご希望の日時：{second}" in chat.text
    assert sorted(b.status for b in bookings(db)) == ["cancelled", "held"]


def test_a_lapsed_hold_taken_by_someone_else_asks_for_another_time(
    engine: IntakeEngine, db: Database, clock: FixedClock
) -> None:
    slow, quick = Chat(engine, db, user="U-slow"), Chat(engine, db, user="U-quick")
    to_method(slow)
    label = slot_labels(slow)[0]
    slow.tap(label)
    slow.say("0991234567")
    with db.session() as session:  # the hold runs out, as the scheduler's expiry job would mark it
        session.execute(update(Booking).values(hold_expires_at=clock.now()))
        assert expire_holds(session, clock)
    to_method(quick)
    quick.tap(label)
    assert "電話番号" in quick.text
    slow.tap(texts.SUBMIT)
    assert texts.SLOT_LAPSED in slow.text and label not in slot_labels(slow)
    with db.session() as session:
        assert session.scalars(select(Consultation)).first() is None
    slow.tap(slot_labels(slow)[0])
    assert "ご入力内容をご確認ください" in slow.text
    slow.tap(texts.SUBMIT)
    assert "受け付けました" in slow.text


def test_an_island_visit_is_a_whole_day(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(chat, method="会社に来てほしい（訪問）", place="奄美市", category="業務効率化（会計・勤怠等）")
    labels = slot_labels(chat)
    assert texts.ASK_SLOT_WHOLE_DAY in chat.text
    assert labels and all(label.endswith("終日") for label in labels)
    chat.tap(labels[0])
    assert texts.ASK_CONTACT.splitlines()[0] in chat.text
    [held] = bookings(db)
    assert held.status == "held" and held.method == "onsite"
    assert (held.ends_at - held.starts_at).total_seconds() >= 6 * 3600  # the coordinator's whole day


def test_an_island_visit_nobody_can_make_offers_online_at_once(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    # No example coordinator who visits the islands takes DX strategy.
    to_method(chat, method="会社に来てほしい（訪問）", place="徳之島町", category="何から始めるか・DX戦略")
    assert texts.ISLAND_ONLINE in chat.text
    assert [b.label for b in chat.buttons()] == [texts.SWITCH_TO_ONLINE, texts.DECIDE_LATER]
    chat.tap(texts.SWITCH_TO_ONLINE)
    assert "ご都合のよい日時" in chat.text and slot_labels(chat)
    chat.tap(slot_labels(chat)[0])
    [held] = bookings(db)
    assert held.method == "online"


def test_cancelling_or_restarting_gives_the_held_time_back(engine: IntakeEngine, db: Database) -> None:
    for command in ("やめる", "最初から"):
        chat = Chat(engine, db, user=f"U-{command}")
        to_method(chat)
        chat.tap(slot_labels(chat)[0])
        chat.say(command)
        if command == "やめる":
            chat.tap(texts.CANCEL_YES)
    assert [b.status for b in bookings(db)] == ["cancelled", "cancelled"]


def test_moving_a_visit_to_an_island_asks_for_a_new_time(engine: IntakeEngine, db: Database) -> None:
    chat = Chat(engine, db)
    to_method(
        chat, method="会社に来てほしい（訪問）", place="鹿児島市", category="業務効率化（会計・勤怠等）"
    )
    chat.tap(slot_labels(chat)[0])
    chat.say("099-123-4567")
    chat.tap(texts.EDIT)
    chat.tap("所在地")
    chat.say("奄美市")
    assert texts.SLOT_REVIEW in chat.text and texts.ASK_SLOT_WHOLE_DAY in chat.text
    chat.tap(slot_labels(chat)[0])
    assert "ご入力内容をご確認ください" in chat.text and "終日" in chat.text
    assert [b.status for b in bookings(db)] == ["cancelled", "held"]
    assert bookings(db)[1].hold_expires_at is not None


def test_a_sent_request_keeps_its_time_while_a_coordinator_decides(
    engine: IntakeEngine, db: Database, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 27, 16, 0, tzinfo=JST))  # a Friday afternoon; nobody decides until Monday
    chat = Chat(engine, db)
    to_method(chat)
    chat.tap(slot_labels(chat)[-1])  # the latest time offered, well after the coming Tuesday
    [held] = bookings(db)
    assert held.hold_expires_at == datetime(2026, 11, 27, 16, 45, tzinfo=JST)  # while the owner types
    chat.say("0991234567")
    chat.tap(texts.SUBMIT)
    [sent] = bookings(db)
    # Sent: held to the end of the second business day (Monday, Tuesday), as the desk promises an answer.
    assert sent.hold_expires_at == datetime(2026, 12, 2, 0, 0, tzinfo=JST)
    assert sent.starts_at > sent.hold_expires_at
    soon = Chat(engine, db, user="U-soon")
    to_method(soon)
    soon.tap(slot_labels(soon)[0])  # Monday: sooner than the decision's deadline
    soon.say("0991234568")
    soon.tap(texts.SUBMIT)
    first = min(bookings(db), key=lambda b: b.starts_at)
    assert first.consultation_id is not None and first.hold_expires_at == first.starts_at


def held_status(db: Database) -> list[str]:
    return [b.status for b in bookings(db)]


def test_an_abandoned_conversation_gives_its_time_back_soon(
    engine: IntakeEngine, db: Database, clock: FixedClock
) -> None:
    configure_jobs(JobContext(db=db, clock=clock, expire_holds=expire_holds))
    chat = Chat(engine, db)
    to_method(chat)
    chosen = slot_labels(chat)[0]
    chat.tap(chosen)
    assert held_status(db) == ["held"]
    clock.advance(minutes=44)
    expire_holds_job()
    assert held_status(db) == ["held"]
    clock.advance(minutes=2)  # 46 minutes after the owner's last message, and nothing since
    expire_holds_job()
    assert held_status(db) == ["expired"]
    other = Chat(engine, db, user="U-other")
    to_method(other)
    assert chosen in slot_labels(other)  # offered to the next owner again


def test_a_time_stays_held_while_the_owner_keeps_answering(
    engine: IntakeEngine, db: Database, clock: FixedClock
) -> None:
    configure_jobs(JobContext(db=db, clock=clock, expire_holds=expire_holds))
    chat = Chat(engine, db)
    to_method(chat)
    chat.tap(slot_labels(chat)[0])
    for _ in range(3):  # slow answers, each well inside the hold's time
        clock.advance(minutes=30)
        chat.say("ヘルプ")
        expire_holds_job()
    assert held_status(db) == ["held"]
    assert bookings(db)[0].hold_expires_at == clock.now() + timedelta(minutes=45)
    chat.say("0991234567")
    chat.tap(texts.SUBMIT)
    assert "受け付けました" in chat.text and held_status(db) == ["requested"]
    assert bookings(db)[0].consultation_id is not None
