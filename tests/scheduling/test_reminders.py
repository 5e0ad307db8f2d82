"""Reminders of confirmed bookings: each sent exactly once (a second run, two schedulers, a crash
mid-batch), only what is still meaningful after downtime, never for a cancelled or moved time, not in the
quiet hours, not to an owner who blocked the account; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bot.lifecycle import BookingStatus, move_booking, transition_booking
from bot.reminders import DAY_BEFORE, SOON, ReminderSender, install_reminders, uninstall_reminders
from bot.sending import BatchSender, Outbound, ToContact
from config.reminders import RemindersConfig
from handlers.line.sender import LineSender
from scheduling.slots import Slot
from storage import reminders as store
from storage.channels import Channel
from storage.clock import FixedClock, SystemClock
from storage.database import Database
from storage.models import Consultation, Contact, Interaction, OutboxMessage
from tests.scheduling.reminder_support import confirmed_booking, line_owner
from tests.scheduling.support import jst

CONFIG = RemindersConfig(
    desk_address="鹿児島市山下町1-1 3階", desk_map_url="https://maps.example.jp/desk", online_meeting_url=""
)


@pytest.fixture(autouse=True)
def reminders_installed() -> Iterator[None]:
    install_reminders(CONFIG)
    yield
    uninstall_reminders()


@pytest.fixture
def db(any_engine: Engine) -> Database:
    return Database(any_engine.url.render_as_string(hide_password=False), engine=any_engine)


def sender(db: Database, outbound: Outbound | None = None) -> ReminderSender:
    return ReminderSender(
        db=db,
        outbound=outbound or Outbound(senders={Channel.LINE: LineSender(SystemClock())}),
        config=CONFIG,
        desk_name="かごしまDX相談窓口",
        recorded=SystemClock(),
    )


def pushed(db: Database) -> list[tuple[int | None, str]]:
    """The outbox rows: (consultation, text)."""
    with db.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(row.consultation_id, row.payload["messages"][0]["text"]) for row in rows]


def statuses(db: Database, booking_id: int) -> dict[str, str]:
    with db.session() as session:
        return {
            kind: r.status for kind, r in store.reminders_of(session=session, booking_id=booking_id).items()
        }


@pytest.fixture
def clock() -> FixedClock:
    """Monday 2027-01-04 09:00 in Japan."""
    return FixedClock(jst(2027, 1, 4, 9, 0))


def test_each_reminder_is_sent_once_at_its_time_and_a_second_run_sends_nothing(
    db: Database, clock: FixedClock
) -> None:
    line_owner(db, 1, "U" + "1" * 32)
    booking = confirmed_booking(
        db, clock, 1, jst(2027, 1, 11, 14, 0), meeting_url="https://meet.example.jp/abc"
    )
    job = sender(db)
    assert job.run(jst(2027, 1, 10, 9, 59)).sent == 0  # not yet
    assert job.run(jst(2027, 1, 10, 10, 0)).sent == 1
    assert job.run(jst(2027, 1, 10, 10, 1)).sent == 0
    assert statuses(db, booking) == {DAY_BEFORE: "sent", SOON: "pending"}
    assert job.run(jst(2027, 1, 11, 12, 0)).sent == 1
    assert job.run(jst(2027, 1, 11, 12, 0)).sent == 0
    texts = [text for _, text in pushed(db)]
    assert texts == [
        "【かごしまDX相談窓口】\n明日のご相談のお知らせです。\n日時：1月11日(月・祝) 14:00〜15:00\n"
        "方法：オンライン\n参加URL：https://meet.example.jp/abc\n"
        "ご都合が悪くなったときは、メニューの「予約確認」から変更・キャンセルできます。",
        "【かごしまDX相談窓口】\nまもなくご相談のお時間です。\n日時：1月11日(月・祝) 14:00〜15:00\n"
        "方法：オンライン\n参加URL：https://meet.example.jp/abc\n"
        "お時間になりましたら、上のURLからご参加ください。",
    ]


def test_a_visit_to_the_desk_is_told_the_address_and_the_map(db: Database, clock: FixedClock) -> None:
    line_owner(db, 1, "U" + "2" * 32)
    confirmed_booking(db, clock, 1, jst(2027, 1, 6, 13, 30), method="visit_desk")
    assert sender(db).run(jst(2027, 1, 6, 11, 30)).outcomes == {"sent": 1, "skipped": 1}
    [(_, text)] = pushed(db)
    assert (
        "日時：1月6日(水) 13:30〜14:30\n場所：かごしまDX相談窓口の窓口\n住所：鹿児島市山下町1-1 3階\n" in text
    )
    assert "地図：https://maps.example.jp/desk\nお気をつけてお越しください。" in text


def test_after_downtime_only_the_latest_due_reminder_goes_and_the_others_are_recorded(
    db: Database, clock: FixedClock
) -> None:
    line_owner(db, 1, "U" + "3" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 6, 11, 0))
    run = sender(db).run(jst(2027, 1, 6, 9, 30))  # down since before yesterday's 10:00
    assert run.outcomes == {"sent": 1, "skipped": 1}
    assert statuses(db, booking) == {DAY_BEFORE: "skipped", SOON: "sent"}
    [(_, text)] = pushed(db)
    assert text.startswith(
        "【かごしまDX相談窓口】\nまもなくご相談のお時間です。\n日時：1月6日(水) 11:00〜12:00"
    )


def test_a_day_before_reminder_sent_late_on_the_day_says_today(db: Database, clock: FixedClock) -> None:
    line_owner(db, 1, "U" + "4" * 32)
    confirmed_booking(db, clock, 1, jst(2027, 1, 6, 16, 0))
    assert sender(db).run(jst(2027, 1, 6, 8, 0)).sent == 1  # the day-before one, late; the 2 h one not due
    [(_, text)] = pushed(db)
    assert "本日のご相談のお知らせです。" in text


def test_a_reminder_whose_meeting_has_begun_is_dropped_not_sent(db: Database, clock: FixedClock) -> None:
    line_owner(db, 1, "U" + "5" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 6, 11, 0))
    assert sender(db).run(jst(2027, 1, 6, 11, 5)).outcomes == {"dropped": 2}
    assert statuses(db, booking) == {DAY_BEFORE: "dropped", SOON: "dropped"}
    assert pushed(db) == []


def test_a_reminder_whose_time_passed_before_the_confirmation_is_not_sent(
    db: Database, clock: FixedClock
) -> None:
    line_owner(db, 1, "U" + "6" * 32)
    clock.set(jst(2027, 1, 5, 12, 0))  # confirmed after the day-before reminder's 10:00
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 6, 15, 0))
    assert statuses(db, booking) == {DAY_BEFORE: "covered", SOON: "pending"}
    job = sender(db)
    assert job.run(jst(2027, 1, 5, 12, 1)).sent == 0
    assert job.run(jst(2027, 1, 6, 13, 0)).outcomes == {"sent": 1}
    assert len(pushed(db)) == 1


def test_a_booking_cancelled_a_second_before_its_reminder_gets_none(db: Database, clock: FixedClock) -> None:
    line_owner(db, 1, "U" + "7" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 8, 14, 0))
    with db.session() as session:
        assert transition_booking(
            session=session,
            booking_id=booking,
            to=BookingStatus.CANCELLED,
            actor="owner",
            now=jst(2027, 1, 7, 10, 0) - timedelta(seconds=1),
        )
    assert sender(db).run(jst(2027, 1, 7, 10, 0)).sent == 0
    assert sender(db).run(jst(2027, 1, 8, 12, 0)).sent == 0
    assert statuses(db, booking) == {DAY_BEFORE: "cancelled", SOON: "cancelled"}
    assert pushed(db) == []


def test_a_booking_cancelled_behind_the_life_cycles_back_is_still_not_reminded(
    db: Database, clock: FixedClock
) -> None:
    """The sweep itself checks the booking it locked, whatever the effects did."""
    line_owner(db, 1, "U" + "8" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 8, 14, 0))
    with db.session() as session:
        session.execute(update(store.Booking).where(store.Booking.id == booking).values(status="cancelled"))
    assert sender(db).run(jst(2027, 1, 7, 10, 0)).outcomes == {"cancelled": 2}
    assert pushed(db) == []


def test_a_booking_moved_a_second_before_its_reminder_is_reminded_of_the_new_time_only(
    db: Database, clock: FixedClock
) -> None:
    line_owner(db, 1, "U" + "9" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 8, 14, 0))
    job = sender(db)
    assert job.run(jst(2027, 1, 7, 10, 0)).sent == 1  # the day before the first time
    new_start = jst(2027, 1, 13, 15, 0)
    with db.session() as session:
        assert move_booking(
            session=session,
            booking_id=booking,
            slot=Slot(
                "a",
                "online",
                new_start,
                new_start + timedelta(hours=1),
                new_start,
                new_start + timedelta(hours=1),
            ),
            clock=FixedClock(jst(2027, 1, 8, 12, 0) - timedelta(seconds=1)),
        )
    assert job.run(jst(2027, 1, 8, 12, 0)).sent == 0  # the old time's 2 h reminder: gone
    assert job.run(jst(2027, 1, 12, 10, 0)).sent == 1
    assert job.run(jst(2027, 1, 13, 13, 0)).sent == 1
    texts = [text for _, text in pushed(db)]
    assert len(texts) == 3
    assert "1月8日(金) 14:00" in texts[0]
    assert all("1月13日(水) 15:00〜16:00" in text for text in texts[1:])


def test_nothing_is_sent_in_the_quiet_hours_and_it_goes_when_they_end(
    db: Database, clock: FixedClock
) -> None:
    line_owner(db, 1, "U" + "a" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 6, 9, 0))
    job = sender(db)
    assert job.run(jst(2027, 1, 5, 10, 0)).sent == 1  # the day before, in the day
    quiet = job.run(jst(2027, 1, 6, 7, 0))  # 2 h before a 09:00 meeting: 07:00, quiet
    assert quiet.quiet and quiet.sent == 0
    assert job.run(jst(2027, 1, 5, 23, 30)).quiet
    assert statuses(db, booking)[SOON] == "pending"
    assert job.run(jst(2027, 1, 6, 8, 0)).sent == 1
    assert len(pushed(db)) == 2


def test_an_owner_who_blocked_the_account_is_not_pushed_to(db: Database, clock: FixedClock) -> None:
    contact_id = line_owner(db, 1, "U" + "b" * 32)
    booking = confirmed_booking(db, clock, 1, jst(2027, 1, 6, 15, 0))
    with db.session() as session:
        session.execute(update(Contact).where(Contact.id == contact_id).values(reachable=False))  # unfollow
    assert sender(db).run(jst(2027, 1, 5, 10, 0)).outcomes == {"unreachable": 1}
    assert statuses(db, booking)[DAY_BEFORE] == "unreachable"
    assert pushed(db) == []


class Crash(BaseException):
    """The process dying mid-batch (not an error the batch would catch)."""


class CrashingSender(LineSender):
    """A LINE sender whose process dies after queueing `after` reminders, in the middle of a batch."""

    def __init__(self, after: int) -> None:
        super().__init__(SystemClock())
        self.left = after

    def to_contacts(self, *, session: Session, items: Sequence[ToContact]) -> list[list[int]]:
        if len(items) > self.left:
            super().to_contacts(session=session, items=items[: self.left])  # part of the batch written
            session.flush()
            raise Crash
        self.left -= len(items)
        return super().to_contacts(session=session, items=items)


def many_bookings(db: Database, clock: FixedClock, count: int) -> list[int]:
    ids = []
    for i in range(count):
        line_owner(db, i + 1, f"U{i:032x}")
        start = jst(2027, 1, 6, 9, 0) + timedelta(hours=2 * (i // 4))
        ids.append(confirmed_booking(db, clock, i + 1, start, coordinator=f"c{i % 4}"))
    return ids


def test_a_crash_mid_batch_sends_the_rest_at_the_next_run_and_nothing_twice(
    db: Database, clock: FixedClock
) -> None:
    bookings = many_bookings(db, clock, 8)
    with pytest.raises(Crash):
        crashing = sender(db, Outbound(senders={Channel.LINE: CrashingSender(after=3)}))
        crashing.run(jst(2027, 1, 5, 10, 0), together=2)  # two bookings a transaction: dies in the second
    assert len(pushed(db)) == 2  # what was committed before the crash (the third's is rolled back)
    assert sender(db).run(jst(2027, 1, 5, 10, 1)).sent == 6
    assert sender(db).run(jst(2027, 1, 5, 10, 2)).sent == 0
    assert sorted(cast(int, c) for c, _ in pushed(db)) == list(range(1, 9))
    assert all(statuses(db, b)[DAY_BEFORE] == "sent" for b in bookings)


def test_more_bookings_due_than_one_page_are_all_sent_once(db: Database, clock: FixedClock) -> None:
    bookings = many_bookings(db, clock, 9)
    run = sender(db).run(jst(2027, 1, 5, 10, 0), batch=4, together=3)  # three pages, parts of three
    assert run.sent == 9
    assert sorted(cast(int, c) for c, _ in pushed(db)) == list(range(1, 10))
    assert all(statuses(db, b)[DAY_BEFORE] == "sent" for b in bookings)


class FailingFor(LineSender):
    """A sender that fails for one consultation's owner (a bug, a message LINE would refuse)."""

    def __init__(self, consultation_id: int) -> None:
        super().__init__(SystemClock())
        self.failing = consultation_id

    def to_contacts(self, *, session: Session, items: Sequence[ToContact]) -> list[list[int]]:
        if any(item.consultation_id == self.failing for item in items):
            raise RuntimeError("cannot send this one")
        return super().to_contacts(session=session, items=items)


def test_a_booking_that_fails_leaves_the_others_of_its_transaction_sent_and_stays_owed(
    db: Database, clock: FixedClock
) -> None:
    bookings = many_bookings(db, clock, 8)
    run = sender(db, Outbound(senders={Channel.LINE: FailingFor(3)})).run(jst(2027, 1, 5, 10, 0), together=4)
    assert (run.sent, run.failed) == (7, 1)
    assert sorted(cast(int, c) for c, _ in pushed(db)) == [1, 2, 4, 5, 6, 7, 8]
    assert statuses(db, bookings[2])[DAY_BEFORE] == "pending"  # tried again at the next run
    assert sender(db).run(jst(2027, 1, 5, 10, 1)).sent == 1


def test_two_schedulers_at_once_send_each_reminder_once(
    any_engine: Engine, db: Database, clock: FixedClock
) -> None:
    many_bookings(db, clock, 24)
    url = any_engine.url.render_as_string(hide_password=False)
    others = [Database(url) for _ in range(2)]  # two processes' own engines and connections
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def run(other: Database) -> None:
        barrier.wait()
        sent.append(sender(other).run(jst(2027, 1, 5, 10, 0)).sent)

    threads = [threading.Thread(target=run, args=(other,)) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for other in others:
        other.dispose()
    assert sum(sent) == 24
    assert sorted(cast(int, c) for c, _ in pushed(db)) == list(range(1, 25))


def cancel(session: Session, booking_id: int) -> None:
    assert transition_booking(
        session=session,
        booking_id=booking_id,
        to=BookingStatus.CANCELLED,
        actor="owner",
        now=jst(2027, 1, 5, 10, 0) - timedelta(seconds=1),
    )


def test_on_postgresql_a_cancellation_waits_for_a_reminder_being_sent_and_the_other_way_round(
    postgres_engine: Engine, clock: FixedClock
) -> None:
    db = Database(postgres_engine.url.render_as_string(hide_password=False), engine=postgres_engine)
    line_owner(db, 1, "U" + "f" * 32)
    line_owner(db, 2, "U" + "e" * 32)
    sending_first = confirmed_booking(db, clock, 1, jst(2027, 1, 6, 15, 0))
    cancelling_first = confirmed_booking(db, clock, 2, jst(2027, 1, 6, 16, 0), coordinator="b")
    job = sender(db)
    due = jst(2027, 1, 5, 10, 0)

    def in_thread(work: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting for the booking's lock
        return thread

    # The reminder is being sent (its transaction holds the booking): the cancellation waits, then lands.
    with db.sessions() as session, session.begin():
        assert job.remind(session, sending_first, due) == {"sent": 1}

        def cancel_it() -> None:
            with db.session() as other:
                cancel(other, sending_first)

        waiting = in_thread(cancel_it)
    waiting.join(10)
    assert statuses(db, sending_first) == {DAY_BEFORE: "sent", SOON: "cancelled"}

    # The cancellation came first (not committed yet): the reminder waits, then finds nothing to send.
    outcomes: list[object] = []
    with db.sessions() as session, session.begin():
        cancel(session, cancelling_first)

        def remind_it() -> None:
            with db.session() as other:
                outcomes.append(job.remind(other, cancelling_first, due))

        waiting = in_thread(remind_it)
    waiting.join(10)
    assert outcomes == [{}]  # the cancellation set its reminders aside: nothing was pending any more
    assert statuses(db, cancelling_first) == {DAY_BEFORE: "cancelled", SOON: "cancelled"}
    assert [c for c, _ in pushed(db)] == [1]


class OneAtATime:
    """The LINE sender without its batch path: the job queues its reminders one to_contact at a time."""

    def __init__(self, clock: FixedClock) -> None:
        self.line = LineSender(clock)
        self.channel = self.line.channel
        self.capacity = self.line.capacity

    def to_contact(self, **kwargs: Any) -> list[OutboxMessage]:
        return self.line.to_contact(**kwargs)


class RolledBack(Exception):
    """Raised to roll back a transaction whose writes were read."""


def written(db: Database, outbound: Outbound, booking_ids: list[int]) -> list[list[tuple[object, ...]]]:
    """What one transaction of the job writes for the bookings (read back, then rolled back): the outbox
    rows, the interaction log and the reminders, the rows linked by consultation rather than by id."""
    moment = FixedClock(jst(2027, 1, 5, 10, 0) + timedelta(seconds=5))
    job = ReminderSender(
        db=db, outbound=outbound, config=CONFIG, desk_name="かごしまDX相談窓口", recorded=moment
    )
    seen: list[list[tuple[object, ...]]] = []
    with pytest.raises(RolledBack), db.session() as session:
        job.remind_many(session, booking_ids, jst(2027, 1, 5, 10, 0))
        session.flush()
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.consultation_id)).all()
        of = {r.id: r.consultation_id for r in rows}
        assert len({r.retry_key for r in rows}) == len(rows)
        seen.append(
            [
                (
                    r.channel,
                    r.reason,
                    r.contact_id,
                    r.consultation_id,
                    r.inbox_event_id,
                    r.payload,
                    r.reply_token,
                    r.reply_expires_at,
                    r.status,
                    r.attempts,
                    r.next_attempt_at,
                    r.created_at,
                    r.claimed_until,
                    r.sent_at,
                    r.duplicate_possible,
                )  # fmt: skip
                for r in rows
            ]
        )
        logged = session.scalars(select(Interaction).order_by(Interaction.consultation_id)).all()
        seen.append(
            [
                (
                    i.at,
                    i.channel,
                    i.direction,
                    i.kind,
                    i.text,
                    i.contact_id,
                    i.consultation_id,
                    i.step,
                    i.external_message_id,
                    of[i.outbox_id] if i.outbox_id else None,
                    i.delivered_at,
                )  # fmt: skip
                for i in logged
            ]
        )
        reminders = session.scalars(select(store.Reminder).order_by(store.Reminder.id)).all()
        seen.append(
            [
                (
                    r.booking_id,
                    r.kind,
                    r.status,
                    r.due_at,
                    r.for_starts_at,
                    r.done_at,
                    of[r.outbox_message_id] if r.outbox_message_id else None,
                )  # fmt: skip
                for r in reminders
            ]
        )
        raise RolledBack
    return seen


def test_the_batch_path_writes_what_one_message_at_a_time_writes(db: Database, clock: FixedClock) -> None:
    bookings = many_bookings(db, clock, 6)
    line_owner(db, 7, "U" + "7" * 32)
    bookings.append(confirmed_booking(db, clock, 7, jst(2027, 1, 6, 9, 0)))
    with db.session() as session:  # its owner blocked the account: not pushed to, in either path
        blocked = session.scalar(select(Consultation.contact_id).where(Consultation.id == 7))
        session.execute(update(Contact).where(Contact.id == blocked).values(reachable=False))
    moment = FixedClock(jst(2027, 1, 5, 10, 0) + timedelta(seconds=1))
    batch = Outbound(senders={Channel.LINE: LineSender(moment)})
    one_by_one = Outbound(senders={Channel.LINE: OneAtATime(moment)})
    assert isinstance(batch.sender_for("line"), BatchSender)
    assert not isinstance(one_by_one.sender_for("line"), BatchSender)
    outbox, logged, reminders = written(db, batch, bookings)
    assert len(outbox) == 6 and len(logged) == 6
    assert [(r[0], r[2]) for r in reminders if r[1] == DAY_BEFORE] == [(b, "sent") for b in bookings[:6]] + [
        (bookings[6], "unreachable")
    ]
    assert [outbox, logged, reminders] == written(db, one_by_one, bookings)
    assert pushed(db) == []  # both rolled back


def test_a_batch_written_whole_then_lost_with_its_transaction_is_sent_once_by_the_next_run(
    db: Database, clock: FixedClock
) -> None:
    bookings = many_bookings(db, clock, 6)

    class DiesAfterQueueing(LineSender):
        def to_contacts(self, *, session: Session, items: Sequence[ToContact]) -> list[list[int]]:
            super().to_contacts(session=session, items=items)
            session.flush()  # the whole batch is written: the process dies before the reminders are marked
            raise Crash

    with pytest.raises(Crash):
        sender(db, Outbound(senders={Channel.LINE: DiesAfterQueueing(SystemClock())})).run(
            jst(2027, 1, 5, 10, 0), together=3
        )
    assert pushed(db) == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0
    assert sender(db).run(jst(2027, 1, 5, 10, 1)).sent == 6
    assert sender(db).run(jst(2027, 1, 5, 10, 2)).sent == 0
    assert sorted(cast(int, c) for c, _ in pushed(db)) == list(range(1, 7))
    assert all(statuses(db, b)[DAY_BEFORE] == "sent" for b in bookings)
