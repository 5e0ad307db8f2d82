"""The field registry agrees with the table: each field's columns exist, personal data is exactly what is
encrypted, and the stored values read back as the answers they came from."""

from __future__ import annotations

import pytest

from bot.field_kinds import Text
from bot.fields import EXTRA, FIELDS, PERSONAL_EXTRA, Field, IncompleteIntake
from config import DeskConfig
from storage.crypto import is_encrypted
from storage.models import Consultation

ANSWERS = {
    "sole_trader": True,
    "company_name": "薩摩 太郎",
    "contact_name": "薩摩 太郎",
    "industry": "E",
    "municipality": "46218",
    "employees": "1_5",
    "category": "efficiency",
    "category2": None,
    "description": "受発注をデジタル化したい",
    "dx_stage": "considering",
    "method": "phone",
    "phone": "099-123-4567",
    "email": None,
}


def test_every_column_of_the_registry_exists_and_is_encrypted_exactly_when_personal() -> None:
    columns = Consultation.__table__.columns
    personal = set(FIELDS.personal_columns())
    for name in FIELDS.columns():
        assert name in columns, name
        assert is_encrypted(columns[name]) == (name in personal), name
    assert is_encrypted(columns[PERSONAL_EXTRA]) and not is_encrypted(columns[EXTRA])


def test_the_stored_values_read_back_as_the_answers(desk: DeskConfig) -> None:
    stored = FIELDS.stored(desk, ANSWERS)
    assert stored["owner_name"] == "薩摩 太郎" and stored["company_name"] is None  # a sole trader's own name
    assert stored["employee_band"] == "1_5" and stored["municipality_code"] == "46218"
    assert stored["region"] == desk.municipality_by_code["46218"].region
    assert stored[EXTRA] is None and stored[PERSONAL_EXTRA] is None
    assert set(stored) - {EXTRA, PERSONAL_EXTRA} == set(FIELDS.columns())
    assert FIELDS.answers_from(stored) == {k: v for k, v in ANSWERS.items()}


def test_missing_answers_are_named(desk: DeskConfig) -> None:
    with pytest.raises(IncompleteIntake, match="^employees, contact$"):
        FIELDS.stored(desk, {k: v for k, v in ANSWERS.items() if k not in ("employees", "phone")})


def test_a_field_is_added_once_and_removed_again() -> None:
    extra = Field("since", "創業年", Text(limit=10), prompt="創業年は？")
    version = FIELDS.version
    with FIELDS.added(extra, after="dx_stage"):
        assert FIELDS.keys()[FIELDS.keys().index("dx_stage") + 1] == "since"
        with pytest.raises(ValueError, match="exists already"):
            FIELDS.add(extra)
    assert "since" not in FIELDS and FIELDS.version == version + 2
