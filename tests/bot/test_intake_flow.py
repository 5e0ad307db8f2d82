"""The intake conversation with plain events: every step, validation, commands, edit, resume, stale taps."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from bot.messages import Inbound
from config import DeskConfig
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consent, Consultation, Conversation, Interaction
from tests.bot.chat import Chat
from tests.owner import Owner


@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def to_summary(chat: Chat, *, method: str = "オンライン（Zoom等）", slot: str = "first") -> None:
    """Answers every question up to the summary, by buttons and by typing."""
    chat.say("相談したい")
    assert "個人情報" in chat.text
    chat.tap("同意する")
    assert texts.ASK_COMPANY_KIND in chat.text
    chat.tap(texts.COMPANY_KIND_COMPANY)
    assert texts.ASK_COMPANY in chat.text
    chat.say("株式会社さつま製作所")
    chat.say("薩摩 花子")
    assert texts.ASK_INDUSTRY in chat.text
    chat.tap("製造業")
    assert "所在地" in chat.text
    chat.say("国分")
    assert texts.ASK_EMPLOYEES in chat.text
    chat.tap("6〜20人")
    chat.tap(chat.buttons()[1].label)  # the second category on the first page
    assert texts.ASK_CATEGORY2 in chat.text
    chat.tap("特になし")
    chat.say("紙の受発注をやめて、在庫と一緒に管理したいです。")
    chat.tap("検討中")
    chat.tap(method)
    if texts.DECIDE_LATER in [b.label for b in chat.buttons()]:
        chat.tap(chat.buttons()[0].label if slot == "first" else texts.DECIDE_LATER)
    assert "電話番号" in chat.text
    chat.say("099-123-4567 hanako@example.jp")
    assert "ご入力内容をご確認ください" in chat.text


def stored(db: Database) -> list[Consultation]:
    with db.session() as session:
        return list(session.scalars(select(Consultation)))


def test_whole_intake_stores_a_submitted_consultation(chat: Chat, db: Database) -> None:
    to_summary(chat)
    assert "株式会社さつま製作所" in chat.text and "霧島市" in chat.text and "製造業" in chat.text
    chat.tap(texts.SUBMIT)
    assert "受け付けました" in chat.text
    [consultation] = stored(db)
    assert consultation.reference in chat.text
    assert consultation.status == "submitted"
    assert (consultation.company_name, consultation.contact_name) == ("株式会社さつま製作所", "薩摩 花子")
    assert (consultation.municipality_code, consultation.region) == ("46218", "aira_isa")
    assert (consultation.industry, consultation.employee_band, consultation.method) == ("E", "6_20", "online")
    assert consultation.category_secondary is None
    assert (consultation.phone, consultation.email) == ("099-123-4567", "hanako@example.jp")
    assert chat.turns[-1].consultation_id == consultation.id
    with db.session() as session:
        assert session.scalars(select(Conversation)).first() is None
        consent = session.scalars(select(Consent)).one()
        assert consent.accepted and consent.notice_version == "2026-12"


def test_every_message_is_in_the_interaction_log(chat: Chat, db: Database) -> None:
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    with db.session() as session:
        rows = list(session.scalars(select(Interaction).order_by(Interaction.id)))
    inbound = [r for r in rows if r.direction == "in"]
    outbound = [r for r in rows if r.direction == "out"]
    assert len(inbound) == len(chat.turns)
    assert len(outbound) == sum(len(t.replies) for t in chat.turns)
    assert inbound[0].text == "相談したい"
    assert outbound[-1].consultation_id is not None


def test_declining_the_notice_ends_politely_and_keeps_only_the_fact(
    chat: Chat, db: Database, desk: DeskConfig
) -> None:
    chat.say("相談したい")
    chat.tap("同意しない")
    assert desk.desk.phone in chat.text and "ここまでのやりとりの内容は削除しました" in chat.text
    with db.session() as session:
        assert session.scalars(select(Conversation)).first() is None
        assert [c.accepted for c in session.scalars(select(Consent))] == [False]
    assert stored(db) == []


def test_typed_choices_match_buttons_in_any_width_and_kana(chat: Chat) -> None:
    chat.say("相談したい")
    chat.say("同意する")
    chat.say("法人")
    chat.say("さつま")
    chat.say("花子")
    chat.say("製造業")
    assert "所在地" in chat.text
    chat.say("霧島市")
    chat.say("ﾅｼ（代表者のみ）")
    assert texts.ASK_CATEGORY in chat.text


def test_a_typed_answer_that_is_no_choice_is_re_asked(chat: Chat) -> None:
    to_industry(chat)
    chat.say("宇宙開発")
    assert "選択肢にありませんでした" in chat.text
    assert texts.ASK_INDUSTRY in chat.text


def to_industry(chat: Chat) -> None:
    Owner(chat).walk_to(Step.INDUSTRY, company="さつま商店", contact_name="花子")


def test_industries_come_in_pages_within_lines_limits(chat: Chat, desk: DeskConfig) -> None:
    to_industry(chat)
    first = [b.label for b in chat.buttons()]
    assert len(first) <= 13 and texts.NEXT_PAGE in first
    chat.tap(texts.NEXT_PAGE)
    second = [b.label for b in chat.buttons()]
    assert texts.PREV_PAGE in second
    shown = {label for label in first + second} - {texts.NEXT_PAGE, texts.PREV_PAGE}
    assert shown == {c.label for c in desk.industries}
    chat.tap(desk.industries[-1].label)
    assert "所在地" in chat.text


def test_over_long_description_is_refused_with_the_limit_and_nothing_is_lost(
    chat: Chat, db: Database
) -> None:
    to_summary(chat)
    chat.tap(texts.EDIT)
    chat.tap("ご相談内容")
    chat.say("あ" * 1001)
    assert "1,000文字以内" in chat.text and "1,001文字" in chat.text
    chat.say("短くしました")
    assert "ご入力内容をご確認ください" in chat.text and "短くしました" in chat.text
    assert "株式会社さつま製作所" in chat.text


def test_stickers_images_and_emoji_get_a_friendly_re_prompt(chat: Chat) -> None:
    chat.say("相談したい")
    chat.tap("同意する")
    chat.tap(texts.COMPANY_KIND_COMPANY)
    # A free-text question has no buttons: the owner is asked to type, not to choose.
    chat.send(Inbound("sticker"))
    assert chat.replies[0].text == texts.NON_TEXT_TYPED and texts.ASK_COMPANY in chat.text
    assert "ボタン" not in chat.text and not chat.buttons()
    chat.send(Inbound("image"))
    assert chat.replies[0].text == texts.NON_TEXT_TYPED and texts.ASK_COMPANY in chat.text
    chat.say("😀👍")
    assert chat.replies[0].text == texts.NON_TEXT_TYPED and texts.ASK_COMPANY in chat.text
    chat.say("さつま商店")
    assert texts.ASK_CONTACT_NAME in chat.text


def test_back_returns_one_step_and_shows_the_kept_answer(chat: Chat) -> None:
    to_industry(chat)
    chat.say("戻る")
    assert texts.ASK_CONTACT_NAME in chat.text and "いまの回答：花子" in chat.text
    chat.say("もどる")
    assert texts.ASK_COMPANY in chat.text and "さつま商店" in chat.text
    chat.say("さつま商店本店")
    chat.say("花子")
    assert texts.ASK_INDUSTRY in chat.text


def test_back_at_the_first_question_says_so(chat: Chat) -> None:
    chat.say("相談したい")
    chat.tap("同意する")
    chat.say("戻る")
    assert texts.CANNOT_GO_BACK in chat.text and texts.ASK_COMPANY_KIND in chat.text


def test_cancel_asks_first_and_can_be_taken_back(chat: Chat, db: Database) -> None:
    to_industry(chat)
    chat.say("やめる")
    assert texts.CONFIRM_CANCEL in chat.text
    chat.tap(texts.CANCEL_NO)
    assert texts.ASK_INDUSTRY in chat.text
    chat.say("キャンセル")
    chat.tap(texts.CANCEL_YES)
    assert texts.CANCELLED in chat.text
    with db.session() as session:
        assert session.scalars(select(Conversation)).first() is None


def test_commands_count_only_as_whole_messages(chat: Chat) -> None:
    to_summary(chat)
    chat.tap(texts.EDIT)
    chat.tap("ご相談内容")
    chat.say("ホームページをやめたい")
    assert "ご入力内容をご確認ください" in chat.text and "ホームページをやめたい" in chat.text


def test_restart_and_help(chat: Chat, desk: DeskConfig) -> None:
    to_industry(chat)
    chat.say("ヘルプ")
    assert desk.desk.phone in chat.text and texts.ASK_INDUSTRY in chat.text
    chat.say("最初から")
    assert texts.RESTARTED in chat.text and texts.ASK_COMPANY_KIND in chat.text


def test_edit_one_answer_from_the_summary(chat: Chat, db: Database) -> None:
    to_summary(chat)
    chat.tap(texts.EDIT)
    assert texts.ASK_EDIT_FIELD in chat.text
    chat.tap("業種")
    chat.tap("建設業")
    assert "ご入力内容をご確認ください" in chat.text and "建設業" in chat.text
    chat.tap(texts.SUBMIT)
    assert stored(db)[0].industry == "D"


def test_editing_the_category_asks_the_second_one_too(chat: Chat, desk: DeskConfig) -> None:
    to_summary(chat)
    chat.tap(texts.EDIT)
    chat.tap("相談分野")
    chat.tap(desk.categories[0].label)
    assert texts.ASK_CATEGORY2 in chat.text
    assert desk.categories[0].label not in [b.label for b in chat.buttons()]
    chat.tap(desk.categories[2].label)
    # The coordinator of the time chosen does not take the new category: a new time is asked for.
    assert texts.SLOT_REVIEW in chat.text
    chat.tap(chat.buttons()[0].label)
    assert f"（ほか：{desk.categories[2].label}）" in chat.text


def test_editing_the_category_keeps_a_time_whose_coordinator_takes_it_too(
    chat: Chat, desk: DeskConfig
) -> None:
    to_summary(chat)
    before = chat.text.split("ご希望の日時：")[1].splitlines()[0]
    chat.tap(texts.EDIT)
    chat.tap("相談分野")
    cloud_tools = desk.choice("categories", "cloud_tools")
    assert cloud_tools is not None
    chat.tap(cloud_tools.label)  # the coordinator of that time takes it too
    chat.tap(texts.NO_SECOND)
    assert "ご入力内容をご確認ください" in chat.text
    assert f"ご希望の日時：{before}" in chat.text


def test_a_button_from_an_earlier_question_is_recognised_as_stale(chat: Chat) -> None:
    to_industry(chat)
    old = chat.button("製造業")
    chat.tap("建設業")
    assert "所在地" in chat.text
    chat.send(Inbound.tapped(old))
    assert texts.STALE_BUTTON in chat.text and "所在地" in chat.text
    chat.say("鹿屋")
    assert texts.ASK_EMPLOYEES in chat.text


def test_the_summary_button_after_submission_is_answered_sensibly(chat: Chat, db: Database) -> None:
    to_summary(chat)
    submit = chat.button(texts.SUBMIT)
    chat.tap(texts.SUBMIT)
    chat.send(Inbound.tapped(submit))
    assert texts.ALREADY_SUBMITTED in chat.text
    assert len(stored(db)) == 1


def test_a_conversation_resumes_where_it_stopped(
    chat: Chat, desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    to_industry(chat)
    restarted = Chat(IntakeEngine(desk, clock), db, user=chat.user)  # a new process, same database
    restarted.tap_target = None  # type: ignore[attr-defined]
    restarted.say("製造業")
    assert "所在地" in restarted.text


def test_after_a_day_of_silence_the_owner_may_continue_or_start_over(chat: Chat, clock: FixedClock) -> None:
    to_industry(chat)
    clock.advance(hours=25)
    chat.say("製造業")
    assert texts.RESUME in chat.text
    chat.tap(texts.RESUME_YES)
    assert texts.ASK_INDUSTRY in chat.text
    clock.advance(hours=30)
    chat.say("こんにちは")
    chat.tap(texts.RESUME_NO)
    assert texts.ASK_COMPANY_KIND in chat.text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("国分", "霧島市"),
        ("霧島", "霧島市"),
        ("霧島市", "霧島市"),
        ("キリシマ", "霧島市"),
        ("加治木", "姶良市"),
    ],
)
def test_municipality_by_name_alias_or_reading(chat: Chat, typed: str, expected: str) -> None:
    to_industry(chat)
    chat.tap("製造業")
    chat.say(typed)
    assert texts.ASK_EMPLOYEES in chat.text
    chat.say("戻る")
    assert f"いまの回答：{expected}" in chat.text


def test_an_island_of_several_towns_asks_which(chat: Chat) -> None:
    to_industry(chat)
    chat.tap("製造業")
    chat.say("徳之島")
    assert {"徳之島町", "天城町", "伊仙町"} <= {b.label for b in chat.buttons()}
    chat.tap("天城町")
    assert texts.ASK_EMPLOYEES in chat.text


def test_a_name_also_outside_the_prefecture_asks(chat: Chat) -> None:
    to_industry(chat)
    chat.tap("製造業")
    chat.say("松山")
    labels = [b.label for b in chat.buttons()]
    assert "志布志市" in labels and any(label.startswith("県外") for label in labels)
    chat.tap(next(label for label in labels if label.startswith("県外")))
    assert "窓口は鹿児島県内" in chat.text
    chat.tap(chat.buttons()[0].label)  # the first area: its municipalities follow
    assert texts.CHOOSE_AREA_AGAIN in [b.label for b in chat.buttons()]
    chat.tap("鹿児島市")
    assert texts.ASK_EMPLOYEES in chat.text


def test_outside_the_prefecture_is_told_politely(chat: Chat) -> None:
    to_industry(chat)
    chat.tap("製造業")
    chat.say("福岡市")
    assert "窓口は鹿児島県内" in chat.text
    chat.say("ほげほげ")
    assert "見つかりませんでした" in chat.text


def test_contact_details_are_validated(chat: Chat) -> None:
    to_summary(chat)
    chat.tap(texts.EDIT)
    chat.tap("ご連絡先")
    chat.say("hanako@")
    assert "読み取れませんでした" in chat.text
    chat.say("１２３")
    assert "読み取れませんでした" in chat.text
    chat.say("０９９　２２２　３３３３")
    assert "099-222-3333" in chat.text


def test_a_returning_owner_can_reuse_the_company_answers(chat: Chat, db: Database) -> None:
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    chat.say("相談したい")
    assert texts.REUSE_YES in [b.label for b in chat.buttons()] and "株式会社さつま製作所" in chat.text
    chat.tap(texts.REUSE_YES)
    assert texts.ASK_CATEGORY in chat.text
    chat.tap(chat.buttons()[0].label)
    chat.tap("特になし")
    chat.say("ECサイトを始めたい")
    chat.tap("まだこれから")
    chat.tap("電話")
    chat.say("0991234567")
    chat.tap(texts.SUBMIT)
    first, second = stored(db)
    assert second.company_name == first.company_name and second.municipality_code == "46218"
    assert second.method == "phone" and "お電話で" in chat.text


def test_every_reply_of_a_whole_intake_fits_line(chat: Chat) -> None:
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    for turn in chat.turns:
        assert 1 <= len(turn.replies) <= 5
        for message in turn.replies:
            assert len(message.text) <= 5000 and len(message.actions) <= 13
            assert all(len(a.label) <= 20 and len(a.data) <= 300 for a in message.actions)


def test_a_new_notice_version_asks_for_consent_again(chat: Chat, db: Database, clock: FixedClock) -> None:
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    with db.session() as session:
        session.execute(update(Consent).values(notice_version="2026-11"))  # accepted under the old notice
    chat.say("相談したい")
    assert "個人情報" in chat.text and "事業の実施主体" in chat.text
    chat.tap("同意する")
    with db.session() as session:
        assert [c.notice_version for c in session.scalars(select(Consent).order_by(Consent.id))] == [
            "2026-11",
            "2026-12",
        ]
