"""同意しない and 中止 through the simulator: what the owner typed is gone from the whole database, the
counts stay, and a reload shows no trace of it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import texts
from bot.intake import Step
from handlers.services import Services
from storage.bookings import Booking
from storage.crypto import Keyring
from storage.models import Consent, Conversation, Interaction
from tests.owner import Owner
from tests.privacy import count_tables, find_in_database
from tests.web.test_simulator import Phone, to_meeting_times

TYPED = [
    "霧島テスト製作所",
    "鹿児島 花子",
    "紙の注文書をやめて",
    "099-123-4567",
    "hanako@example.jp",
    "国分",
]


def scan(services: Services, keyring: Keyring, needles: list[str]) -> list[str]:
    with services.db.session() as session:
        conn = session.connection()
        assert count_tables(conn) >= 10
        return find_in_database(conn, keyring, needles)


def interaction_counts(services: Services) -> dict[str, int]:
    with services.db.session() as session:
        rows = session.execute(
            select(Interaction.direction, func.count()).group_by(Interaction.direction)
        ).all()
    return {direction: count for direction, count in rows}


def test_cancelling_deletes_everything_typed_and_keeps_the_counts(
    client: TestClient, services: Services, keyring: Keyring
) -> None:
    phone = Phone(client)
    to_meeting_times(phone)
    phone.tap(phone.replies[-1]["actions"][0]["label"])  # a time: held for the owner
    phone.say("099-123-4567 hanako@example.jp")
    assert "ご入力内容をご確認ください" in phone.text and "霧島テスト製作所" in phone.text
    assert scan(services, keyring, TYPED)  # everything typed is there while the owner is answering
    with services.db.session() as session:
        assert session.scalars(select(Booking.status)).all() == ["held"]
    before = interaction_counts(services)

    phone.say("やめる")
    assert texts.CONFIRM_CANCEL in phone.text
    phone.tap(texts.CANCEL_YES)

    assert phone.text == texts.CANCELLED and "ここまでの入力内容は削除しました" in phone.text
    assert [a["label"] for a in phone.replies[-1]["actions"]] == [texts.START_BUTTON]
    assert scan(services, keyring, TYPED) == []
    assert interaction_counts(services) == {"in": before["in"] + 2, "out": before["out"] + 2}
    with services.db.session() as session:
        assert session.scalars(select(Conversation)).first() is None
        assert session.scalars(select(Booking.status)).all() == ["cancelled"]

    history = client.get("/sim/api/history").json()  # the page reloaded
    shown = "\n".join(m["text"] for m in history["messages"])
    assert history["messages"][-1]["text"] == texts.CANCELLED
    assert not [t for t in TYPED if t in shown] and texts.ASK_COMPANY not in shown
    assert [a["label"] for a in history["actions"]] == [texts.START_BUTTON]


def test_declining_deletes_what_was_typed_before_and_keeps_the_fact(
    client: TestClient, services: Services, keyring: Keyring
) -> None:
    phone = Phone(client)
    phone.start()
    phone.say("相談を申し込みたいです")
    phone.say("うちは有限会社くすのき商会です。先に聞きたいのですが")  # typed instead of a button
    assert texts.CONSENT_NO in [a["label"] for a in phone.replies[-1]["actions"]]
    phone.tap(texts.CONSENT_NO)

    assert "ここまでのやりとりの内容は削除しました" in phone.text
    typed = ["相談を申し込みたいです", "くすのき商会", "先に聞きたい"]
    assert scan(services, keyring, typed) == []
    assert interaction_counts(services)["in"] == 3
    with services.db.session() as session:
        assert [c.accepted for c in session.scalars(select(Consent))] == [False]
        assert session.scalars(select(Conversation)).first() is None

    history = client.get("/sim/api/history").json()
    assert [m["direction"] for m in history["messages"]] == ["out", "out"]  # the greeting, the answer
    assert "ここまでのやりとりの内容は削除しました" in history["messages"][-1]["text"]
    assert [a["label"] for a in history["actions"]] == [texts.START_BUTTON]


def test_a_conversation_submitted_before_keeps_its_log(
    client: TestClient, services: Services, keyring: Keyring
) -> None:
    from tests.web.test_simulator import complete_intake

    phone = Phone(client)
    complete_intake(phone, company="第一商店")
    Owner(phone).walk_to(Step.CONTACT_NAME, company="第二商店")  # 新しく入力する, then a new name
    phone.say("やめる")
    phone.tap(texts.CANCEL_YES)
    assert scan(services, keyring, ["第二商店"]) == []
    kept = scan(services, keyring, ["第一商店", "鹿児島 花子"])
    assert any(k.startswith("interaction.text") for k in kept)  # the first request's messages stay
    assert any(k.startswith("consultation.company_name") for k in kept)
