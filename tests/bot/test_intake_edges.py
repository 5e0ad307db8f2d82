"""The intake's edges as an owner meets them: a method no coordinator takes, invisible answers, the words
owners type for commands and choices, stickers where there are no buttons, the consent question re-asked,
and another request from the confirmation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot import texts
from bot.engine import COMMANDS, IntakeEngine
from bot.intake import Step
from bot.messages import Inbound
from config import DeskConfig
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation, Conversation
from tests.bot.chat import Chat
from tests.bot.test_slot_step import slot_labels, to_method
from tests.owner import Owner

DX_STRATEGY = "何から始めるか・DX戦略"
VISIT = "会社に来てほしい（訪問）"


@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def stored(db: Database) -> list[Consultation]:
    with db.session() as session:
        return list(session.scalars(select(Consultation)))


def to_company_kind(chat: Chat) -> None:
    Owner(chat).walk_to(Step.COMPANY_KIND)
    assert texts.ASK_COMPANY_KIND in chat.text


def to_company(chat: Chat) -> None:
    Owner(chat).walk_to(Step.COMPANY)
    assert texts.ASK_COMPANY in chat.text


def to_category2(chat: Chat) -> None:
    Owner(chat).walk_to(Step.CATEGORY2, category=DX_STRATEGY)
    assert texts.ASK_CATEGORY2 in chat.text


# A method no coordinator takes for the category and place
def test_a_visit_no_coordinator_takes_says_so_and_offers_what_exists(chat: Chat, db: Database) -> None:
    to_method(chat, method=VISIT, place="霧島市", category=DX_STRATEGY)
    assert chat.replies[0].text.startswith(
        texts.NO_COORDINATOR_VISIT.format(place="霧島市", category=DX_STRATEGY)
    )
    assert texts.NO_COORDINATOR_OTHERS in chat.text
    assert "空きが見つかりませんでした" not in chat.text and texts.NO_SLOTS not in chat.text
    # Online first, then the other methods some coordinator takes for DX戦略 from 霧島市, then 日程は相談.
    assert [b.label for b in chat.buttons()] == [
        "オンライン（Zoom等）",
        "窓口で（来所）",
        "電話",
        "メール",
        texts.DECIDE_LATER,
    ]
    chat.tap("オンライン（Zoom等）")
    assert texts.ASK_SLOT.format(minutes=60) in chat.text and slot_labels(chat)
    chat.tap(slot_labels(chat)[0])
    chat.say("0991234567")
    assert "相談方法：オンライン（Zoom等）" in chat.text
    chat.tap(texts.SUBMIT)
    [consultation] = stored(db)
    assert consultation.method == "online"
    with db.session() as session:
        [booking] = session.scalars(select(Booking))
    assert booking.method == "online" and booking.consultation_id == consultation.id


def test_another_method_without_times_goes_straight_on(chat: Chat, db: Database) -> None:
    to_method(chat, method=VISIT, place="霧島市", category=DX_STRATEGY)
    chat.tap("電話")
    assert "電話番号" in chat.text
    chat.say("0991234567")
    assert "相談方法：電話" in chat.text and "ご希望の日時" not in chat.text
    chat.tap(texts.SUBMIT)
    assert stored(db)[0].method == "phone"


def test_the_offered_method_can_be_typed_and_the_date_decided_later(chat: Chat, db: Database) -> None:
    to_method(chat, method=VISIT, place="霧島市", category=DX_STRATEGY)
    chat.say("窓口で")
    assert texts.ASK_SLOT.format(minutes=60) in chat.text and slot_labels(chat)
    chat.say("戻る")
    chat.tap(VISIT)
    chat.tap(texts.DECIDE_LATER)
    chat.say("0991234567")
    assert (
        f"ご希望の日時：{texts.SLOT_LATER_SUMMARY}" in chat.text and "相談方法：会社に来てほしい" in chat.text
    )


def test_with_no_other_method_only_the_date_by_arrangement_is_offered(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    only = desk.scheduling.coordinators[0].model_copy(
        update={"methods": ("onsite",), "regions": ("kagoshima",)}
    )
    alone = desk.model_copy(
        update={"scheduling": desk.scheduling.model_copy(update={"coordinators": [only]})}
    )
    chat = Chat(IntakeEngine(alone, clock), db)
    to_method(chat, method=VISIT, place="霧島市", category=DX_STRATEGY)
    assert texts.NO_COORDINATOR_LATER in chat.text and texts.NO_COORDINATOR_OTHERS not in chat.text
    assert [b.label for b in chat.buttons()] == [texts.DECIDE_LATER]
    chat.tap(texts.DECIDE_LATER)
    assert "電話番号" in chat.text


def test_an_online_meeting_no_coordinator_takes_names_the_method(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    only = desk.scheduling.coordinators[0].model_copy(
        update={"methods": ("onsite", "phone"), "regions": ("kagoshima",)}
    )
    alone = desk.model_copy(
        update={"scheduling": desk.scheduling.model_copy(update={"coordinators": [only]})}
    )
    chat = Chat(IntakeEngine(alone, clock), db)
    to_method(chat, method="オンライン（Zoom等）", place="霧島市", category=DX_STRATEGY)
    online = alone.choice("methods", "online")
    assert online is not None
    assert texts.NO_COORDINATOR_METHOD.format(method=online.name, category=DX_STRATEGY) in chat.text
    assert [b.label for b in chat.buttons()] == ["電話", texts.DECIDE_LATER]  # a visit to 霧島市: nobody


def test_a_visit_a_coordinator_takes_still_gets_times(chat: Chat) -> None:
    to_method(chat, method=VISIT, place="鹿児島市", category=DX_STRATEGY)
    assert texts.NO_COORDINATOR_VISIT.split("{")[0] not in chat.text and slot_labels(chat)


# Answers with nothing visible in them
INVISIBLE = [
    "\u200b\u200b",  # zero-width spaces (consultation 202612-00010)
    "\u3164",  # Hangul filler
    "\u115f\u1160",  # Hangul choseong and jungseong fillers
    "\u2800",  # blank Braille pattern
    "\u0301\u0301",  # combining marks alone
    "\ufe0f\U000e0100",  # variation selectors
    "\u3000 \t",  # spaces
    "\u00ad\u2060\ufeff\u200e",  # soft hyphen, word joiner, BOM, left-to-right mark
    "\u200d\u200c",  # joiners
    "\U000e0041\U000e007f",  # tags
]


@pytest.mark.parametrize("blank", INVISIBLE, ids=[f"U+{ord(t[0]):04X}" for t in INVISIBLE])
def test_an_answer_with_nothing_visible_is_refused_at_every_free_text_step(
    chat: Chat, db: Database, blank: str
) -> None:
    to_company(chat)
    chat.say(blank)
    assert chat.replies[0].text == texts.EMPTY and texts.ASK_COMPANY in chat.text and not chat.buttons()
    chat.say("さつま商店")
    assert texts.ASK_CONTACT_NAME in chat.text
    chat.say(blank)
    assert chat.replies[0].text == texts.EMPTY and texts.ASK_CONTACT_NAME in chat.text
    chat.say("薩摩 花子")
    chat.tap("製造業")
    chat.say(blank)  # the place: typed, or chosen by area
    assert chat.replies[0].text == texts.TYPE_OR_CHOOSE and chat.buttons()
    chat.say("霧島市")
    chat.say(blank)  # a question answered by buttons
    assert chat.replies[0].text == texts.CHOOSE_FROM_BUTTONS and texts.ASK_EMPLOYEES in chat.text
    chat.tap("1〜5人")
    chat.tap(DX_STRATEGY)
    chat.tap(texts.NO_SECOND)
    chat.say(blank)
    assert chat.replies[0].text == texts.EMPTY and "ご相談したい内容" in chat.text
    chat.say("受発注をデジタル化したい")
    chat.tap("検討中")
    chat.tap("電話")
    chat.say(blank)
    assert chat.replies[0].text == texts.EMPTY and texts.ASK_CONTACT in chat.text
    with db.session() as session:
        answers = session.scalars(select(Conversation)).one().answers
    assert (answers["company_name"], answers["contact_name"]) == ("さつま商店", "薩摩 花子")


def test_invisible_characters_around_an_answer_are_not_stored(chat: Chat, db: Database) -> None:
    to_company(chat)
    chat.say("\u200b\ufeff 株式会社\u200bさつま\u3000\u200b")
    chat.say("\u2060薩摩 花子\u200e")
    chat.tap("製造業")
    chat.say("\u200b霧島市\u200b")
    assert texts.ASK_EMPLOYEES in chat.text
    chat.tap("1〜5人")
    chat.tap(DX_STRATEGY)
    chat.say("\u200bなし")
    chat.say("\u200b受発注をデジタル化したい👍\u200b")
    chat.tap("検討中")
    chat.tap("電話")
    chat.say("\u200b099-123-4567\u200b")
    assert "会社名・屋号：株式会社さつま\n" in chat.text
    chat.tap(texts.SUBMIT)
    [consultation] = stored(db)
    assert consultation.company_name == "株式会社さつま"
    assert consultation.contact_name == "薩摩 花子"
    assert consultation.description == "受発注をデジタル化したい👍"
    assert consultation.phone == "099-123-4567"


# What owners type for commands and choices
@pytest.mark.parametrize(
    "word",
    [
        "やめたい",
        "やめます",
        "キャンセルしたい",
        "キャンセルします",
        "中止したい",
        "やめたいです。",
        "ヤメタイ",
    ],
)
def test_ways_of_saying_stop_ask_to_cancel(chat: Chat, word: str) -> None:
    to_company(chat)
    chat.say(word)
    assert texts.CONFIRM_CANCEL in chat.text


@pytest.mark.parametrize("word", ["戻りたい", "一つ戻る", "前の質問に戻る", "もどる\u200b"])
def test_ways_of_saying_back_go_back(chat: Chat, word: str) -> None:
    to_company(chat)
    chat.say("さつま商店")
    chat.say(word)
    assert texts.ASK_COMPANY in chat.text and "いまの回答：さつま商店" in chat.text


@pytest.mark.parametrize("word", ["やり直したい", "初めから", "最初からやり直したい"])
def test_ways_of_saying_start_over_restart(chat: Chat, word: str) -> None:
    to_company(chat)
    chat.say("さつま商店")
    chat.say(word)
    assert texts.RESTARTED in chat.text and texts.ASK_COMPANY_KIND in chat.text


@pytest.mark.parametrize(
    "word", ["とくになし", "特に無し", "なし", "特にありません", "ナシ", "とくにないです"]
)
def test_ways_of_saying_none_skip_the_second_category(chat: Chat, db: Database, word: str) -> None:
    to_category2(chat)
    chat.say(word)
    assert "ご相談したい内容" in chat.text
    with db.session() as session:
        answers = session.scalars(select(Conversation)).one().answers
    assert answers["category2"] is None


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("けんせつぎょう", "建設業"),
        ("けんせつ", "建設業"),
        ("ケンセツギョウ", "建設業"),
        ("せいぞうぎょう", "製造業"),
        ("こうりぎょう", "卸売・小売業"),
        ("いんしょくてん", "宿泊・飲食"),
        ("のうぎょう", "農業・林業"),
        ("ぎょぎょう", "漁業"),
        ("ふどうさん", "不動産・物品賃貸"),
    ],
)
def test_an_industry_typed_in_hiragana_is_understood(chat: Chat, typed: str, label: str) -> None:
    to_company(chat)
    chat.say("さつま商店")
    chat.say("薩摩 花子")
    chat.say(typed)
    assert "所在地" in chat.text
    chat.say("戻る")
    assert f"いまの回答：{label}" in chat.text


# Stickers and mistyped answers, answered as the step is answered
def test_a_sticker_at_a_button_question_asks_to_choose(chat: Chat) -> None:
    to_category2(chat)
    chat.send(Inbound("sticker"))
    assert chat.replies[0].text == texts.NON_TEXT_BUTTONS and texts.ASK_CATEGORY2 in chat.text
    assert texts.NO_SECOND in [b.label for b in chat.buttons()]


def test_a_sticker_at_the_place_asks_to_type_or_choose(chat: Chat) -> None:
    to_company(chat)
    chat.say("さつま商店")
    chat.say("薩摩 花子")
    chat.tap("製造業")
    chat.send(Inbound("sticker"))
    assert chat.replies[0].text == texts.NON_TEXT and chat.buttons()


@pytest.mark.parametrize("sent", [Inbound.typed("はいはい"), Inbound.typed("\u200b"), Inbound("sticker")])
def test_the_consent_question_is_asked_again_with_its_buttons_only(
    chat: Chat, desk: DeskConfig, sent: Inbound
) -> None:
    chat.say("相談したい")
    assert desk.privacy_notice.text in chat.text
    chat.send(sent)
    [again] = chat.replies
    assert texts.CONSENT_AGAIN in again.text and desk.privacy_notice.text not in again.text
    assert len(again.text) < 80
    assert [b.label for b in chat.buttons()] == [texts.CONSENT_YES, texts.CONSENT_NO]
    chat.tap(texts.CONSENT_YES)
    assert texts.ASK_COMPANY_KIND in chat.text


# After sending
def test_the_confirmation_offers_another_request(chat: Chat, db: Database) -> None:
    to_method(chat, method="電話")
    chat.say("0991234567")
    chat.tap(texts.SUBMIT)
    assert "受け付けました" in chat.text
    assert [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    chat.tap(texts.START_BUTTON)
    assert "前回と同じ会社の情報を使いますか" in chat.text  # consent given already: a new request begins
    assert len(stored(db)) == 1


# The wording
SOFTENED_ELSEWHERE = {"CONSENT_DECLINED", "CANCELLED", "CONFIRM_CANCEL", "ASK_COMPANY"}


def _owner_texts() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in vars(texts).items():
        if name.isupper() and name not in SOFTENED_ELSEWHERE:
            for i, text in enumerate(value.values() if isinstance(value, dict) else [value]):
                if isinstance(text, str):
                    found[f"{name}[{i}]"] = text
    return found


def test_the_intake_asks_politely_and_names_other_times_one_way() -> None:
    for name, text in _owner_texts().items():
        assert not re.search(r"[てで]ください", text), f"{name}: {text}"  # お選びください, ご入力ください
        assert "わからないこと" not in text, name
        assert "他の" not in text.replace("その他", ""), f"{name}: ほか, as the other texts say it"


def test_back_at_the_first_question_says_how_to_start_over(chat: Chat) -> None:
    to_company_kind(chat)
    chat.say("戻る")
    assert texts.CANNOT_GO_BACK in chat.text and texts.ASK_COMPANY_KIND in chat.text
    said = re.search(r"「(.+?)」とお送りください", texts.CANNOT_GO_BACK)
    assert said and said[1] in COMMANDS["restart"]
