"""Follow-ups: an unfinished intake's one nudge (its held time given back, not in the quiet hours, not to an
owner who blocked the account) and the satisfaction survey the next working day after a consultation,
answered once through the conversation; on SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text, update

from bot import follow_up_texts as t
from bot import texts
from bot.engine import IntakeEngine
from bot.follow_ups import FollowUpSender
from bot.intake import Step
from bot.lifecycle import BookingStatus, transition_booking
from bot.messages import Button, Inbound, OutMessage
from bot.sending import Outbound
from config import DeskConfig, load_desk_config
from handlers.line.sender import LineSender
from handlers.slack.sender import SlackCoordinatorSender
from scheduling.jobs import JobContext, configure_jobs, run_job
from storage import follow_ups as store
from storage.bookings import Booking
from storage.channels import Channel
from storage.clock import FixedClock, SystemClock
from storage.database import Database
from storage.models import ConsultationEvent, Contact, Conversation, OutboxMessage
from tests.bot.chat import Chat
from tests.owner import Owner
from tests.scheduling.reminder_support import confirmed_booking, line_owner
from tests.scheduling.support import jst

USER = "U" + "f" * 32


@pytest.fixture(scope="module")
def desk() -> DeskConfig:
    return load_desk_config()


@pytest.fixture
def db(any_engine: Engine) -> Database:
    return Database(any_engine.url.render_as_string(hide_password=False), engine=any_engine)


def outbound(clock: FixedClock | SystemClock) -> Outbound:
    return Outbound(senders={Channel.LINE: LineSender(clock)}, coordinators=SlackCoordinatorSender(clock))


def follow_ups(db: Database, desk: DeskConfig) -> FollowUpSender:
    return FollowUpSender(
        db=db,
        outbound=outbound(SystemClock()),
        config=desk.follow_ups,
        quiet_hours=desk.reminders,
        closures=desk.scheduling.closures,
        desk_name="かごしまDX相談窓口",
        recorded=SystemClock(),
    )


def pushed_messages(db: Database, reason: str) -> list[OutMessage]:
    """The messages of the LINE outbox rows of that reason, as the owner gets them."""
    with db.session() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.reason == reason).order_by(OutboxMessage.id)
        ).all()
        return [OutMessage.from_dict(m) for row in rows for m in row.payload["messages"]]


def pushed(db: Database, reason: str) -> list[tuple[str, list[str]]]:
    """The same as (text, button labels)."""
    return [(m.text, [a.label for a in m.actions]) for m in pushed_messages(db, reason)]


def bookings(db: Database) -> list[Booking]:
    with db.session() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


# --- the nudge ----------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    """Wednesday 2026-11-25 10:00 in Japan."""
    return FixedClock(jst(2026, 11, 25, 10, 0))


def chat_with_a_held_time(db: Database, desk: DeskConfig, clock: FixedClock) -> Chat:
    """A LINE owner who chose a meeting time in the intake, then fell silent at the phone number."""
    chat = Chat(IntakeEngine(desk, clock), db, user=USER, channel="line")
    Owner(chat).walk_to(Step.METHOD, municipality="霧島市")
    chat.tap("オンライン（Zoom等）")
    chat.tap(next(b.label for b in chat.buttons() if b.label[:1].isdigit()))
    assert "電話番号" in chat.text
    [held] = bookings(db)
    assert held.status == "held" and held.consultation_id is None
    return chat


def test_an_intake_silent_for_a_day_gets_one_nudge_and_its_held_time_is_given_back(
    db: Database, desk: DeskConfig, clock: FixedClock
) -> None:
    chat = chat_with_a_held_time(db, desk, clock)
    job = follow_ups(db, desk)
    silent_from = clock.now()
    assert job.run(silent_from + timedelta(hours=23, minutes=59)).nudges == {}
    assert job.run(silent_from + timedelta(hours=24)).nudges == {"sent": 1}
    assert job.run(silent_from + timedelta(hours=25)).nudges == {}  # never more
    assert job.run(silent_from + timedelta(days=3)).nudges == {}
    [(said, buttons)] = pushed(db, "follow_up:nudge")
    assert said == (
        "【かごしまDX相談窓口】\nご相談のお申し込みが途中のままになっています。\n"
        "入力いただいた内容は保存してありますので、続きから入力できます。最初から入力し直すこともできます。\n"
        "お選びいただいた日時の仮押さえは解除しました。続きから入力される際に、あらためてお選びください。\n"
        "お申し込みをやめる場合は、このままで大丈夫です。"
    )
    assert buttons == [texts.RESUME_YES, texts.RESUME_NO]
    [released] = bookings(db)
    assert released.status == "expired" and released.hold_expires_at is None  # the time is free again
    with db.session() as session:
        [nudge] = session.scalars(select(store.IntakeNudge)).all()
        assert (nudge.status, nudge.released_booking_id) == ("sent", released.id)
        assert nudge.outbox_message_id is not None

    # The owner taps 続きから入力する a day later: back at the question they left, answers kept.
    clock.set(silent_from + timedelta(days=2))
    chat.replies = pushed_messages(db, "follow_up:nudge")
    chat.tap(texts.RESUME_YES)
    assert "電話番号" in chat.text
    assert job.run(clock.now() + timedelta(days=2)).nudges == {}  # the same conversation: not again


def test_a_nudge_tapped_to_start_over_starts_the_intake_again(
    db: Database, desk: DeskConfig, clock: FixedClock
) -> None:
    chat = chat_with_a_held_time(db, desk, clock)
    follow_ups(db, desk).run(clock.now() + timedelta(hours=30))
    clock.advance(hours=31)
    chat.replies = pushed_messages(db, "follow_up:nudge")
    chat.tap(texts.RESUME_NO)
    assert chat.text.startswith("会社名または屋号はありますか？")  # the first question (consent is on file)
    with db.session() as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert conversation.answers == {} and conversation.step == Step.COMPANY_KIND


def test_no_nudge_in_the_quiet_hours_it_goes_when_they_end(
    db: Database, desk: DeskConfig, clock: FixedClock
) -> None:
    chat_with_a_held_time(db, desk, clock)
    clock.set(jst(2026, 11, 25, 21, 30))
    Chat(IntakeEngine(desk, clock), db, user=USER, channel="line").say("0991234567")  # silent from 21:30
    job = follow_ups(db, desk)
    assert job.run(jst(2026, 11, 26, 21, 30)).quiet
    assert job.run(jst(2026, 11, 27, 7, 59)).quiet
    assert pushed(db, "follow_up:nudge") == []
    assert job.run(jst(2026, 11, 27, 8, 0)).nudges == {"sent": 1}


def test_an_owner_who_blocked_the_account_is_not_pushed_to_but_the_time_is_given_back(
    db: Database, desk: DeskConfig, clock: FixedClock
) -> None:
    chat_with_a_held_time(db, desk, clock)
    with db.session() as session:
        session.execute(update(Contact).values(reachable=False))
    assert follow_ups(db, desk).run(clock.now() + timedelta(hours=24)).nudges == {"unreachable": 1}
    assert pushed(db, "follow_up:nudge") == []
    assert [b.status for b in bookings(db)] == ["expired"]
    assert follow_ups(db, desk).run(clock.now() + timedelta(hours=48)).nudges == {}


def test_an_intake_silent_for_over_a_week_or_still_at_the_notice_is_not_nudged(
    db: Database, desk: DeskConfig, clock: FixedClock
) -> None:
    chat_with_a_held_time(db, desk, clock)
    Chat(IntakeEngine(desk, clock), db, user="U" + "0" * 32, channel="line").say("相談したい")  # the notice
    assert follow_ups(db, desk).run(clock.now() + timedelta(days=8)).nudges == {}
    assert pushed(db, "follow_up:nudge") == []


# --- the survey ---------------------------------------------------------------------------------------


def took_place(db: Database, starts_at: datetime, consultation_id: int = 1, user: str = USER) -> int:
    line_owner(db, consultation_id, user)
    return confirmed_booking(db, FixedClock(starts_at - timedelta(days=7)), consultation_id, starts_at)


def test_a_friday_consultation_is_surveyed_on_monday_at_ten_once(db: Database, desk: DeskConfig) -> None:
    booking = took_place(db, jst(2027, 2, 5, 14, 0))  # a Friday
    job = follow_ups(db, desk)
    assert job.run(jst(2027, 2, 5, 15, 30)).surveys == {}
    assert job.run(jst(2027, 2, 6, 10, 0)).surveys == {}  # Saturday: the desk is closed
    assert job.run(jst(2027, 2, 8, 9, 59)).surveys == {}
    assert job.run(jst(2027, 2, 8, 10, 0)).surveys == {"sent": 1}
    assert job.run(jst(2027, 2, 8, 10, 5)).surveys == {}
    [(said, buttons)] = pushed(db, "follow_up:survey")
    assert said == (
        "【かごしまDX相談窓口】\n2月5日(金) 14:00〜15:00のご相談、ありがとうございました。\n"
        "よろしければ、満足度を5段階でお聞かせください（5がいちばん満足）。"
    )
    assert buttons == ["5 とても満足", "4 満足", "3 ふつう", "2 やや不満", "1 不満"]
    with db.session() as session:
        survey = store.survey_of_booking(session=session, booking_id=booking)
        assert survey is not None and survey.status == "sent" and survey.due_at == jst(2027, 2, 8, 10, 0)


def test_a_holiday_is_skipped_and_a_done_booking_is_surveyed_too(db: Database, desk: DeskConfig) -> None:
    booking = took_place(db, jst(2027, 1, 8, 10, 0))  # Friday; Monday 1/11 is 成人の日
    with db.session() as session:
        assert transition_booking(
            session=session,
            booking_id=booking,
            to=BookingStatus.DONE,
            actor="coordinator-a",
            now=jst(2027, 1, 8, 12, 0),
        )
    job = follow_ups(db, desk)
    assert job.run(jst(2027, 1, 11, 10, 0)).surveys == {}
    assert job.run(jst(2027, 1, 12, 10, 0)).surveys == {"sent": 1}


def test_no_survey_for_a_cancelled_booking_an_unreachable_owner_or_one_long_overdue(
    db: Database, desk: DeskConfig
) -> None:
    cancelled = took_place(db, jst(2027, 2, 3, 10, 0), 1, "U" + "1" * 32)
    with db.session() as session:
        transition_booking(
            session=session,
            booking_id=cancelled,
            to=BookingStatus.CANCELLED,
            actor="owner",
            now=jst(2027, 2, 2, 9),
        )
    took_place(db, jst(2027, 2, 3, 13, 0), 2, "U" + "2" * 32)
    with db.session() as session:
        session.execute(update(Contact).where(Contact.id != 1).values(reachable=False))
    assert follow_ups(db, desk).run(jst(2027, 2, 4, 10, 0)).surveys == {"unreachable": 1}
    took_place(db, jst(2027, 2, 10, 13, 0), 3, "U" + "3" * 32)
    assert follow_ups(db, desk).run(jst(2027, 2, 25, 10, 0)).surveys == {"too_late": 1}
    assert pushed(db, "follow_up:survey") == []


def survey_chat(db: Database, desk: DeskConfig, user: str = USER) -> tuple[Chat, list[Button]]:
    """The owner's chat, with the score buttons of the survey pushed to them."""
    [survey] = pushed_messages(db, "follow_up:survey")
    buttons = [a for a in survey.actions if isinstance(a, Button)]
    clock = FixedClock(jst(2027, 2, 8, 12, 0))
    engine = IntakeEngine(desk, clock, outbound=outbound(clock))
    return Chat(engine, db, user=user, channel="line"), buttons


def test_the_score_then_a_comment_are_stored_once_and_the_coordinators_card_is_refreshed(
    db: Database, desk: DeskConfig, any_engine: Engine
) -> None:
    booking = took_place(db, jst(2027, 2, 5, 14, 0))
    follow_ups(db, desk).run(jst(2027, 2, 8, 10, 0))
    chat, buttons = survey_chat(db, desk)
    chat.send(Inbound.tapped(buttons[1]))  # 4 満足
    assert chat.text == t.ASK_COMMENT.format(score=4)
    assert [b.label for b in chat.buttons()] == ["スキップ"]
    chat.say("丁寧に説明していただき、よく分かりました。")
    assert chat.text == t.THANKS_COMMENT
    with db.session() as session:
        survey = store.survey_of_booking(session=session, booking_id=booking)
        assert survey is not None and survey.score == 4 and survey.answered_at is not None
        assert survey.comment == "丁寧に説明していただき、よく分かりました。"
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.reason == "survey_answered").order_by(OutboxMessage.id)
        ).all()
        shown = [(n.channel, n.payload["messages"][0]["to"]) for n in notices]
        assert shown == [("slack", "card"), ("slack", "thread")] * 2  # the score, then the comment
        assert notices[0].consultation_id == 1
        assert notices[0].payload["messages"][0]["detail"] == {"survey_id": survey.id, "score": 4}
        assert notices[3].payload["messages"][0]["text"].endswith("よく分かりました。")
        assert session.get(Conversation, 1) is None and session.scalars(select(Conversation)).all() == []
    with any_engine.connect() as conn:  # free text is stored as the repo stores it: encrypted
        raw = conn.execute(text("SELECT comment FROM satisfaction_survey")).scalar_one()
    assert "説明" not in raw

    # A second tap, on the same or another score: nothing changes, and the owner is told so.
    chat.send(Inbound.tapped(buttons[4]))
    assert chat.text == t.ALREADY_ANSWERED
    with db.session() as session:
        survey = store.survey_of_booking(session=session, booking_id=booking)
        assert survey is not None and survey.score == 4
        assert session.scalars(select(Conversation)).all() == []


def test_the_comment_may_be_skipped_and_a_stale_skip_changes_nothing(db: Database, desk: DeskConfig) -> None:
    booking = took_place(db, jst(2027, 2, 5, 14, 0))
    follow_ups(db, desk).run(jst(2027, 2, 8, 10, 0))
    chat, buttons = survey_chat(db, desk)
    chat.send(Inbound.tapped(buttons[0]))  # 5
    skip = chat.button("スキップ")
    chat.send(Inbound.tapped(buttons[0]))  # tapped twice while the comment is asked
    assert chat.text == f"{t.ALREADY_ANSWERED}\n{t.ASK_COMMENT.format(score=5)}"
    chat.send(Inbound.tapped(skip))
    assert chat.text == t.THANKS
    chat.send(Inbound.tapped(skip))  # the survey's conversation is over
    assert texts.OLD_CONVERSATION in chat.text
    with db.session() as session:
        survey = store.survey_of_booking(session=session, booking_id=booking)
        assert survey is not None and (survey.score, survey.comment) == (5, None)
        assert survey.commented_at is not None


def test_a_survey_answered_in_the_middle_of_an_intake_returns_to_it(db: Database, desk: DeskConfig) -> None:
    took_place(db, jst(2027, 2, 5, 14, 0))
    follow_ups(db, desk).run(jst(2027, 2, 8, 10, 0))
    chat, buttons = survey_chat(db, desk)
    # Typed words would reach the desk (their consultation is open): a new request begins from the menu.
    chat.say(texts.MENU_CONSULT)
    Owner(chat).walk_to(Step.INDUSTRY)
    asked = chat.text
    chat.send(Inbound.tapped(buttons[2]))  # 3
    assert chat.text == t.ASK_COMMENT.format(score=3)
    chat.say("スキップ")
    assert chat.text.startswith(f"{t.THANKS}\n{texts.BACK_TO_INTAKE}")
    assert asked.splitlines()[-1] in chat.text


def test_a_score_button_of_another_owner_or_unknown_is_refused(db: Database, desk: DeskConfig) -> None:
    took_place(db, jst(2027, 2, 5, 14, 0))
    follow_ups(db, desk).run(jst(2027, 2, 8, 10, 0))
    _, buttons = survey_chat(db, desk)
    stranger, _ = survey_chat(db, desk, user="U" + "9" * 32)
    stranger.send(Inbound.tapped(buttons[0]))
    assert stranger.text == t.NOT_YOURS
    stranger.send(Inbound("postback", text="5", data="svy|999|5"))
    assert stranger.text == t.NOT_YOURS
    with db.session() as session:
        assert session.scalars(select(store.SatisfactionSurvey.score)).all() == [None]


def test_the_history_records_the_released_hold(db: Database, desk: DeskConfig, clock: FixedClock) -> None:
    chat_with_a_held_time(db, desk, clock)
    follow_ups(db, desk).run(clock.now() + timedelta(hours=24))
    [booking] = bookings(db)
    assert booking.status == "expired"
    with db.session() as session:  # a hold nobody submitted has no consultation history to write to
        assert (
            session.scalars(
                select(ConsultationEvent).where(ConsultationEvent.kind == "booking_expired")
            ).all()
            == []
        )


def test_a_message_long_after_the_score_is_not_taken_as_its_comment(db: Database, desk: DeskConfig) -> None:
    booking = took_place(db, jst(2027, 2, 5, 14, 0))
    follow_ups(db, desk).run(jst(2027, 2, 8, 10, 0))
    chat, buttons = survey_chat(db, desk)
    chat.send(Inbound.tapped(buttons[1]))
    assert isinstance(chat.engine.clock, FixedClock)
    chat.engine.clock.advance(hours=13)
    chat.say("来月の補助金について教えてください")
    assert chat.text == t.COMMENT_CLOSED
    with db.session() as session:
        survey = store.survey_of_booking(session=session, booking_id=booking)
        assert survey is not None and survey.score == 4 and survey.comment is None
        assert session.scalars(select(Conversation)).all() == []


def test_the_job_runs_the_sweep_at_its_time_then_the_outcome_offers_when_connected(db: Database) -> None:
    seen: list[tuple[str, datetime]] = []
    at = jst(2027, 2, 8, 10, 0)

    def sweep(name: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            seen.append((name, now))
            return f"{name} done"

        return run

    context = JobContext(db=db, clock=FixedClock(at), expire_holds=lambda session, clock: [])
    configure_jobs(replace(context, send_follow_ups=sweep("follow-ups")))
    assert run_job("follow-ups") == "follow-ups done"
    configure_jobs(replace(context, send_follow_ups=sweep("follow-ups"), offer_outcomes=sweep("offers")))
    assert run_job("follow-ups") == "follow-ups done; outcomes: offers done"
    assert seen == [("follow-ups", at), ("follow-ups", at), ("offers", at)]
