"""The engine runs the flow a conversation names, loads its state once and saves it once per turn, and reads
the rows of earlier versions (control flags inside the answers, a confirmation in `pending`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot import texts
from bot.engine import IntakeEngine
from bot.flow import ConversationState
from bot.flows import BOOKINGS, FLOWS, INTAKE, get_flow
from bot.intake import Step
from bot.messages import Button, Inbound
from bot.postback import encode
from config import DeskConfig
from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.models import Consultation, Conversation
from tests.bot.chat import Chat
from tests.owner import Owner


@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def row(db: Database, chat: Chat) -> Conversation | None:
    with db.session() as session:
        contact = get_or_create_contact(session=session, channel=chat.channel, external_id=chat.user)
        return session.scalars(select(Conversation).where(Conversation.contact_id == contact.id)).first()


def rewrite(db: Database, chat: Chat, **values: Any) -> None:
    found = row(db, chat)
    assert found is not None
    with db.session() as session:
        session.execute(update(Conversation).where(Conversation.id == found.id).values(**values))


@pytest.fixture
def writes(db: Database) -> Iterator[list[str]]:
    """The SQL statements that write the conversation table, as they run."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().upper()
        if head.startswith(("INSERT INTO CONVERSATION", "UPDATE CONVERSATION", "DELETE FROM CONVERSATION")):
            seen.append(head.split()[0])

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_the_registry_holds_the_flows_and_an_unknown_name_is_none() -> None:
    assert set(FLOWS) == {"intake", "bookings", "survey"}
    assert get_flow("intake") is INTAKE and get_flow("bookings") is BOOKINGS
    assert get_flow("seminar") is None and get_flow(None) is None
    assert BOOKINGS.keeps_place and not INTAKE.keeps_place
    assert INTAKE.ending == "submit" and BOOKINGS.ending == "finish"


def test_the_engine_runs_the_flow_the_conversation_names(chat: Chat, db: Database) -> None:
    Owner(chat).walk_to(Step.INDUSTRY)
    # The same row, told it is in 予約確認 (with nothing booked, its list has nothing to show): the
    # bookings flow answers, not the intake.
    rewrite(db, chat, flow="bookings", step="bookings")
    chat.say("戻る")
    assert texts.BOOKINGS_CLOSED in chat.text and texts.ASK_INDUSTRY not in chat.text
    assert row(db, chat) is None


def test_a_conversation_of_a_flow_this_version_has_not_ends_politely(chat: Chat, db: Database) -> None:
    Owner(chat).walk_to(Step.INDUSTRY)
    rewrite(db, chat, flow="seminar", step="choose")
    chat.say("こんにちは")
    assert texts.FLOW_GONE in chat.text and [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    assert row(db, chat) is None
    chat.tap(texts.START_BUTTON)
    assert texts.ASK_COMPANY_KIND in chat.text  # consent given already: a new intake begins
    rewrite(db, chat, step="no-such-step")
    chat.say("こんにちは")
    assert texts.FLOW_GONE in chat.text


def test_the_state_is_saved_once_per_turn(chat: Chat, db: Database, writes: list[str]) -> None:
    chat.say("相談したい")
    assert writes == ["INSERT"]
    for answer in (texts.CONSENT_YES, texts.COMPANY_KIND_COMPANY, "さつま商店", "戻る", "やめる"):
        writes.clear()
        chat.tap(answer) if answer in [b.label for b in chat.buttons()] else chat.say(answer)
        assert writes == ["UPDATE"], answer
    writes.clear()
    chat.tap(texts.CANCEL_YES)
    assert writes == ["DELETE"]


def test_flags_live_apart_from_the_answers(chat: Chat, db: Database, desk: DeskConfig) -> None:
    Owner(chat).walk_to(Step.SLOT)
    stored = row(db, chat)
    assert stored is not None and stored.flags is not None
    assert stored.flags["consented"] == desk.privacy_notice.version and stored.flags["offered"]
    assert not [key for key in stored.answers if key.startswith("_")]
    assert stored.pending is None


def test_a_row_of_an_earlier_version_is_read_and_saved_in_todays_shape(
    chat: Chat, db: Database, desk: DeskConfig
) -> None:
    Owner(chat).walk_to(Step.CONTACT)
    stored = row(db, chat)
    assert stored is not None
    # As versions before Conversation.flags kept it: the flags inside the answers, and the question
    # やめますか？ asked over the step in `pending`.
    legacy = {**stored.answers, **{f"_{k}": v for k, v in (stored.flags or {}).items()}}
    legacy["_consented"] = "2025-04"
    rewrite(db, chat, answers=legacy, flags=None, pending="cancel")
    state = ConversationState.load(row(db, chat))  # type: ignore[arg-type]
    assert state.step == "cancel" and state.flags["return_to"] == Step.CONTACT
    assert state.flags["consented"] == "2025-04" and "_consented" not in state.answers

    # The confirmation's own button, as the earlier version drew it
    chat.send(Inbound.tapped(Button(texts.CANCEL_NO, encode(stored.token, "cancel", "no"))))
    assert texts.NOT_CANCELLED in chat.text and texts.ASK_CONTACT in chat.text
    saved = row(db, chat)
    assert saved is not None and saved.step == Step.CONTACT and saved.pending is None
    assert saved.flags == {**(saved.flags or {}), "consented": "2025-04"}
    assert not [key for key in saved.answers if key.startswith("_")]
    Owner(chat, started=True).answer_until(None)
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
    assert consultation.notice_version == "2025-04"  # the version consented to, from the legacy flag


def test_a_legacy_resume_question_is_answered(chat: Chat, db: Database) -> None:
    Owner(chat).walk_to(Step.INDUSTRY)
    rewrite(db, chat, pending="resume")
    chat.say(texts.RESUME_YES)
    assert texts.ASK_INDUSTRY in chat.text
    saved = row(db, chat)
    assert saved is not None and saved.step == Step.INDUSTRY and "return_to" not in (saved.flags or {})
