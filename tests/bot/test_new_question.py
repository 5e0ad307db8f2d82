"""A question added to the field registry in one place (tests/new_question.py) is asked in the chat in its
place, read back in the summary, editable from it, checked against its limit and stored: in `extra`, or, when
personal, encrypted in `personal_extra`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import STEPS, Step
from bot.submission import consultation_lines
from config import DeskConfig
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation
from tests.bot.chat import Chat
from tests.new_question import FOUNDED, REFERRER, WEBSITE, decrypted, new_questions, raw_extras
from tests.owner import Owner


@pytest.fixture
def questions() -> Iterator[None]:
    with new_questions():
        yield


@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


@pytest.mark.usefixtures("questions")
def test_the_new_questions_are_asked_in_their_place_read_back_and_stored(chat: Chat, db: Database) -> None:
    owner = Owner(chat)
    owner.walk_to(Step.SUMMARY, founded="1998年", referrer="桜島 一郎")
    path = [str(step) for step in owner.path]
    assert path.index("referrer") == path.index(Step.CONTACT_NAME) + 1
    assert path[path.index(Step.DX_STAGE) + 1 : path.index(Step.METHOD)] == ["founded", "has_website"]
    summary = chat.text
    assert "創業年：1998年" in summary
    assert "ホームページ：ある" in summary  # the scripted owner taps the first button of a yes/no question
    assert "ご紹介者：桜島 一郎" in summary

    chat.tap(texts.SUBMIT)
    assert "受け付けました" in chat.text
    with db.session() as session:
        [stored] = session.scalars(select(Consultation))
        assert stored.extra == {"founded": "1998年", "has_website": True}
        assert stored.personal_extra == {"referrer": "桜島 一郎"}
    [(extra, token)] = raw_extras(db)
    assert extra == {"founded": "1998年", "has_website": True}  # business data, in clear
    assert token and "桜島" not in token and "referrer" not in token  # personal data, encrypted at rest
    assert decrypted(token) == {"referrer": "桜島 一郎"}


@pytest.mark.usefixtures("questions")
def test_a_new_question_is_edited_from_the_summary(chat: Chat) -> None:
    owner = Owner(chat)
    owner.walk_to(Step.SUMMARY, founded="1998年")
    chat.tap(texts.EDIT)
    first = [b.label for b in chat.buttons()]
    assert (
        len(first) <= 13 and texts.EDIT_MORE in first and texts.BACK_TO_SUMMARY in first
    )  # fourteen answers
    chat.tap(texts.EDIT_MORE)
    labels = first[: first.index(texts.BACK_TO_SUMMARY)] + [b.label for b in chat.buttons()]
    assert {FOUNDED.label, WEBSITE.label, REFERRER.label} <= set(labels)
    assert labels.index(REFERRER.label) == labels.index("ご担当者") + 1
    assert labels.index(FOUNDED.label) == labels.index("取り組み状況") + 1
    chat.tap(texts.PREV_PAGE)
    chat.tap(FOUNDED.label)
    assert chat.text.startswith("創業された年をご入力ください（20文字以内）。")
    assert "（いまの回答：1998年）" in chat.text
    chat.say("2001年")
    assert "創業年：2001年" in chat.text and texts.SUMMARY.split("\n")[0] in chat.text
    chat.tap(texts.EDIT)
    chat.say(WEBSITE.label)  # typed: a label on the next page is found too
    chat.tap("ない")
    assert "ホームページ：ない" in chat.text


@pytest.mark.usefixtures("questions")
def test_a_new_free_text_question_keeps_its_limit(chat: Chat) -> None:
    Owner(chat).walk_to("founded")
    chat.say("あ" * 21)
    assert chat.text == texts.TOO_LONG.format(limit="20", length="21")
    chat.say("😀")
    assert texts.NON_TEXT_TYPED in chat.text


def test_without_the_new_questions_the_intake_does_not_ask_them(chat: Chat) -> None:
    with new_questions():
        assert "founded" in STEPS
    assert "founded" not in STEPS
    owner = Owner(chat)
    owner.walk_to(Step.SUMMARY)
    assert "founded" not in owner.path and "創業年" not in chat.text


@pytest.mark.usefixtures("questions")
def test_a_stored_consultation_reads_back_with_the_new_answers(
    chat: Chat, db: Database, desk: DeskConfig
) -> None:
    Owner(chat).answer_until(None, founded="1998年", referrer="桜島 一郎")
    with db.session() as session:
        [stored] = session.scalars(select(Consultation))
        clear = consultation_lines(desk, stored)
        full = consultation_lines(desk, stored, personal=True)
    assert ("創業年", "1998年") in clear and ("ホームページ", "ある") in clear
    assert ("会社名・屋号", "さつま商店") in clear and ("所在地", "霧島市") in clear
    assert not any(label in ("ご紹介者", "ご担当者", "ご相談内容", "ご連絡先") for label, _ in clear)
    assert ("ご紹介者", "桜島 一郎") in full and ("ご連絡先", "0991234567") in full
    assert [label for label, _ in full].index("ご紹介者") == [label for label, _ in full].index(
        "ご担当者"
    ) + 1
