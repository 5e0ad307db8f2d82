"""Consultations read for display decrypt only the personal fields asked for, and a value that does not
decrypt with the configured keys is named instead of failing the read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from bot import texts
from bot.engine import IntakeEngine
from config import DeskConfig
from storage.clock import FixedClock
from storage.consultations import get_consultation_view, list_consultation_views
from storage.crypto import Keyring, configure_keyring, generate_key
from storage.database import Database
from tests.bot.chat import Chat
from tests.bot.test_intake_flow import to_summary


@contextmanager
def another_key(keyring: Keyring) -> Iterator[None]:
    """What is written inside is encrypted under a key the desk does not have (as an accidental demo does)."""
    configure_keyring(Keyring([generate_key()]))
    try:
        yield
    finally:
        configure_keyring(keyring)


def submit(desk: DeskConfig, clock: FixedClock, db: Database, user: str) -> None:
    chat = Chat(IntakeEngine(desk, clock), db, user=user)
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    clock.advance(minutes=1)


def test_the_fields_asked_for_are_decrypted_and_those_that_cannot_be_are_named(
    db: Database, desk: DeskConfig, clock: FixedClock, keyring: Keyring
) -> None:
    with another_key(keyring):
        submit(desk, clock, db, "U-foreign")
    submit(desk, clock, db, "U-readable")
    submit(desk, clock, db, "U-damaged")
    with db.session() as session:
        damaged = list_consultation_views(session=session)[-1].consultation.id
        # Not a token at all (as a value copied in by hand would be): read as undecryptable, not an error.
        session.execute(
            text("UPDATE consultation SET phone = '099-000-0000 平文' WHERE id = :id"), {"id": damaged}
        )
    with db.session() as session:
        views = list_consultation_views(session=session, personal=("contact_name", "phone"))
    foreign, readable, broken = views
    assert foreign.personal == {"contact_name": None, "phone": None}
    assert foreign.undecryptable == ("contact_name", "phone")
    assert foreign.consultation.company_name == "株式会社さつま製作所"
    assert readable.personal == {"contact_name": "薩摩 花子", "phone": "099-123-4567"}
    assert readable.undecryptable == ()
    assert broken.personal == {"contact_name": "薩摩 花子", "phone": None} and broken.undecryptable == (
        "phone",
    )

    with db.session() as session:
        plain = list_consultation_views(session=session)
        one = get_consultation_view(session=session, consultation_id=foreign.consultation.id)
        assert get_consultation_view(session=session, consultation_id=999999) is None
    assert [v.personal for v in plain] == [{}, {}, {}] and all(v.undecryptable == () for v in plain)
    assert one is not None and one.undecryptable == ("contact_name", "phone", "email", "description")


def test_a_clear_field_cannot_be_asked_for_as_personal(db: Database) -> None:
    with db.session() as session, pytest.raises(ValueError, match="company_name"):
        list_consultation_views(session=session, personal=("company_name",))
