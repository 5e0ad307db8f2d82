"""A sole trader without a trade name: asked first, their own name kept as personal data (encrypted),
read back, edited and offered again as theirs."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from config import DeskConfig
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Company, Consultation
from tests.bot.chat import Chat
from tests.owner import Owner

OWNER = "西郷 吉之助"


@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def to_summary_as_sole_trader(chat: Chat) -> None:
    owner = Owner(chat)
    owner.walk_to(Step.COMPANY_KIND)
    assert texts.ASK_COMPANY_KIND in chat.text
    assert [b.label for b in chat.buttons()] == [texts.COMPANY_KIND_COMPANY, texts.COMPANY_KIND_SOLE]
    owner.walk_to(Step.COMPANY, company_kind=texts.COMPANY_KIND_SOLE)
    assert texts.ASK_OWNER_NAME in chat.text and "お名前で結構です" not in chat.text
    owner.walk_to(Step.CONTACT_NAME, company=OWNER)
    assert texts.ASK_CONTACT_NAME_SOLE in chat.text
    owner.walk_to(
        Step.SUMMARY,
        contact_name=texts.SAME_AS_OWNER,
        industry="農業・林業",
        employees="なし（代表者のみ）",
        category2=texts.NO_SECOND,
        description="お茶の通信販売を始めたい",
        dx_stage="まだこれから",
        method="電話",
        contact="0995-11-2222",
    )
    assert "ご入力内容をご確認ください" in chat.text


def test_a_sole_traders_own_name_is_read_back_and_stored_encrypted(chat: Chat, db: Database) -> None:
    to_summary_as_sole_trader(chat)
    assert f"{texts.SOLE_TRADER_LABEL}：{OWNER}" in chat.text and f"ご担当者：{OWNER}" in chat.text
    assert "会社名・屋号" not in chat.text
    chat.tap(texts.SUBMIT)
    assert "受け付けました" in chat.text
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
        assert (consultation.sole_trader, consultation.company_name) == (True, None)
        assert (consultation.owner_name, consultation.contact_name) == (OWNER, OWNER)
        assert session.scalars(select(Company.name)).one() is None
        stored = session.execute(
            text("SELECT company_name, owner_name FROM consultation WHERE id = :id"), {"id": consultation.id}
        ).one()
    assert stored.company_name is None and stored.owner_name.startswith("gAAAAA")  # a Fernet token


def test_a_company_is_asked_its_name_as_before(chat: Chat, db: Database) -> None:
    chat.say("相談したい")
    chat.tap("同意する")
    chat.say("法人")  # typed, not tapped
    assert texts.ASK_COMPANY in chat.text
    chat.say("株式会社しろくま")
    assert texts.ASK_CONTACT_NAME in chat.text and texts.SAME_AS_OWNER not in [
        b.label for b in chat.buttons()
    ]


def test_an_answer_that_is_neither_is_asked_again_with_the_buttons(chat: Chat) -> None:
    chat.say("相談したい")
    chat.tap("同意する")
    chat.say("株式会社しろくま")  # the name, before the question was answered
    assert "選択肢にありませんでした" in chat.text and texts.ASK_COMPANY_KIND in chat.text
    assert texts.COMPANY_KIND_SOLE in [b.label for b in chat.buttons()]


def test_the_edit_list_names_it_and_a_change_of_kind_asks_the_name_again(chat: Chat, db: Database) -> None:
    to_summary_as_sole_trader(chat)
    chat.tap(texts.EDIT)
    labels = [b.label for b in chat.buttons()]
    assert texts.SOLE_TRADER_EDIT_LABEL in labels and "会社名・屋号" not in labels
    chat.tap(texts.SOLE_TRADER_EDIT_LABEL)
    assert texts.ASK_COMPANY_KIND in chat.text and f"いまの回答：{texts.COMPANY_KIND_SOLE}" in chat.text
    chat.tap(texts.COMPANY_KIND_COMPANY)  # it does have a trade name after all
    assert texts.ASK_COMPANY in chat.text and OWNER not in chat.text
    chat.say("西郷茶園")
    assert "会社名・屋号：西郷茶園" in chat.text and texts.SOLE_TRADER_LABEL not in chat.text
    chat.tap(texts.SUBMIT)
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
        assert (consultation.sole_trader, consultation.company_name, consultation.owner_name) == (
            False,
            "西郷茶園",
            None,
        )


def test_the_reuse_offer_keeps_a_sole_trader_a_sole_trader(chat: Chat, db: Database) -> None:
    to_summary_as_sole_trader(chat)
    chat.tap(texts.SUBMIT)
    chat.say("相談したい")
    assert f"{texts.SOLE_TRADER_LABEL}：{OWNER}" in chat.text
    Owner(chat).walk_to(
        Step.SUMMARY,
        reuse=texts.REUSE_YES,
        description="ホームページを作りたい",
        dx_stage="まだこれから",
        method="電話",
        contact="0995-11-2222",
    )
    assert f"{texts.SOLE_TRADER_LABEL}：{OWNER}" in chat.text
    chat.tap(texts.SUBMIT)
    with db.session() as session:
        second = session.scalars(select(Consultation).order_by(Consultation.id.desc())).first()
        assert second is not None
        assert (second.sole_trader, second.company_name, second.owner_name) == (True, None, OWNER)
