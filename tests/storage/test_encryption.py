"""Personal data is encrypted at rest: after a whole intake, the database file holds none of it in clear."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot import texts
from bot.engine import IntakeEngine
from config import DeskConfig
from storage.clock import FixedClock
from storage.crypto import Keyring, PIIKeyError, generate_key
from storage.database import Database
from tests.bot.chat import Chat
from tests.bot.test_intake_flow import to_summary
from tests.conftest import DatabaseFactory

SECRETS = ["薩摩 花子", "099-123-4567", "hanako@example.jp", "U-secret-line-user", "紙の受発注をやめて"]


def test_an_intake_leaves_no_personal_data_in_clear(
    fresh_database_url: DatabaseFactory,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    url = fresh_database_url(migrated=True)
    db = Database(url)
    chat = Chat(IntakeEngine(desk, clock), db, user="U-secret-line-user")
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    with db.engine.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if db.is_sqlite
                    else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
            )
        ]
        dump = "\n".join(str(row) for t in tables for row in conn.execute(text(f'SELECT * FROM "{t}"')))
    db.dispose()
    assert "株式会社さつま製作所" in dump  # company names are business data, kept searchable
    for secret in SECRETS:
        assert secret not in dump
    if url.startswith("sqlite"):
        raw = Path(url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        for secret in SECRETS:
            assert secret.encode() not in raw


def test_key_rotation_keeps_old_data_readable_and_look_ups_working() -> None:
    old, new = generate_key(), generate_key()
    before = Keyring([old])
    token = before.encrypt("U123")
    after = Keyring([new, old])
    assert after.decrypt(token) == "U123"
    assert before.lookup_hash("U123") in after.lookup_hashes("U123")
    with pytest.raises(PIIKeyError):
        Keyring([new]).decrypt(token)


OWNER = "山田太郎"  # (not on the failing line: the logged traceback quotes that line of this file)


def test_a_failed_statement_does_not_quote_its_values_in_the_error_or_the_log(
    fresh_database_url: DatabaseFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """What a job logs when a statement fails (log.exception: the error's text) names the statement, never
    the values bound to it, which may be an owner's name or phone number."""
    caplog.set_level(logging.ERROR)
    fresh = Database(fresh_database_url())  # an engine as the application makes it
    try:
        with pytest.raises(DBAPIError) as failed, fresh.engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE name = :name"), {"name": OWNER})
        logging.getLogger("tests").exception("statement failed", exc_info=failed.value)
    finally:
        fresh.dispose()
    assert "no_such_table" in str(failed.value)
    assert OWNER not in str(failed.value) and OWNER not in caplog.text
    assert "hidden due to hide_parameters" in str(failed.value)
