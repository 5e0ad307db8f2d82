"""The scripted owner (tests/owner.py) walks the whole intake from its table alone, and says which question it
cannot answer: when a question is added or moved, only the table changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from config import DeskConfig
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation
from tests.bot.chat import Chat
from tests.owner import ANSWERS, NoAnswer, Owner

# The questions a company owner who wants an online meeting meets, in order.
ORDER = [
    Step.CONSENT,
    Step.COMPANY_KIND,
    Step.COMPANY,
    Step.CONTACT_NAME,
    Step.INDUSTRY,
    Step.MUNICIPALITY,
    Step.EMPLOYEES,
    Step.CATEGORY,
    Step.CATEGORY2,
    Step.DESCRIPTION,
    Step.DX_STAGE,
    Step.METHOD,
    Step.SLOT,
    Step.CONTACT,
    Step.SUMMARY,
]


@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def test_the_table_alone_takes_the_owner_through_every_question_in_order_to_a_stored_request(
    chat: Chat, db: Database
) -> None:
    owner = Owner(chat)
    owner.answer_until(None)
    assert owner.path == ORDER
    assert texts.SUBMITTED.split("{")[0][:10] in chat.text
    with db.session() as session:
        [stored] = session.scalars(select(Consultation))
        assert stored.description == ANSWERS[Step.DESCRIPTION]


@pytest.mark.parametrize("step", ORDER)
def test_walk_to_stops_at_the_question_asked(chat: Chat, step: Step) -> None:
    owner = Owner(chat)
    owner.walk_to(step)
    assert owner.step() == step
    assert owner.path == ORDER[: ORDER.index(step) + 1]


def test_a_question_the_table_has_no_answer_for_is_named(chat: Chat) -> None:
    table: dict[str, Any] = {k: v for k, v in ANSWERS.items() if k != Step.DX_STAGE}
    with pytest.raises(NoAnswer, match="no answer for step dx_stage"):
        Owner(chat, table).walk_to(Step.CONTACT)


def test_an_answer_the_bot_refuses_again_and_again_is_named_with_its_step(chat: Chat) -> None:
    with pytest.raises(NoAnswer, match="step contact: the answer 'なし' did not move on"):
        Owner(chat).walk_to(Step.SUMMARY, contact="なし")


def test_an_override_for_no_such_step_is_refused(chat: Chat) -> None:
    with pytest.raises(AssertionError, match="no such step"):
        Owner(chat).walk_to(Step.SLOT, employee_band="1〜5人")
