"""The migrations build exactly the schema the models describe, and the bookings one undoes cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

import storage.bookings  # noqa: F401  (registers the booking table)
import storage.desk_posts  # noqa: F401  (registers desk_post, line_quota_reading, parked_report)
import storage.escalations  # noqa: F401  (registers the escalation table)
import storage.follow_ups  # noqa: F401  (registers the intake_nudge and satisfaction_survey tables)
import storage.form_submissions  # noqa: F401  (registers the form_submission table)
import storage.models  # noqa: F401
import storage.outcomes  # noqa: F401  (registers the outcome tables)
import storage.proposals  # noqa: F401  (registers the time_proposal table)
import storage.reminders  # noqa: F401  (registers the reminder table)
import storage.slack_cards  # noqa: F401  (registers the slack_card and contact_view tables)
import storage.slack_events  # noqa: F401  (registers the slack_event table)
from storage.base import Base
from storage.database import make_engine, upgrade_schema
from tests.conftest import DatabaseFactory


@pytest.fixture
def empty_database_url(fresh_database_url: DatabaseFactory) -> str:
    return fresh_database_url()


def test_the_models_and_the_migrations_agree(empty_database_url: str) -> None:
    upgrade_schema(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_upgrade_and_downgrade(empty_database_url: str) -> None:
    upgrade_schema(empty_database_url, "0002")
    engine = create_engine(empty_database_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("booking")}
        assert {
            "consultation_id",
            "coordinator_id",
            "starts_at",
            "ends_at",
            "blocked_from",
            "blocked_until",
        } <= columns
        assert {"method", "place", "meeting_url", "status", "hold_expires_at", "external_uid"} <= columns
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        later_tables = [d for d in differences if d[0] == "add_table" and d[1].name != "booking"]
        later_names = {d[1].name for d in later_tables}
        later_indexes = [d for d in differences if d[0] == "add_index" and d[1].table.name in later_names]
        booking = [
            d
            for d in differences
            if "booking" in repr(d) and d not in later_tables and d not in later_indexes
        ]
        assert booking == []  # the model and the migration agree (tables added after 0002 aside)
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                kinds = (
                    conn.execute(
                        text("SELECT contype FROM pg_constraint WHERE conname = 'ex_booking_no_overlap'")
                    )
                    .scalars()
                    .all()
                )
            assert kinds == ["x"]
        upgrade_schema_down(empty_database_url)
        assert "booking" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def upgrade_schema_down(url: str, revision: str = "0001") -> None:
    from alembic import command
    from alembic.config import Config

    from storage.database import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(cfg, revision)


def test_the_form_submissions_migration_undoes_cleanly(empty_database_url: str) -> None:
    upgrade_schema(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        assert {
            fk["options"].get("ondelete") for fk in inspect(engine).get_foreign_keys("form_submission")
        } == {"CASCADE"}
        upgrade_schema_down(empty_database_url, "0019")
        assert "form_submission" not in inspect(engine).get_table_names()
        upgrade_schema(empty_database_url)
        assert "form_submission" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def insert_consultation(conn: Connection, now: str) -> None:
    """A contact, a company and a submitted consultation (id 1), in columns every revision since 0003 has."""
    conn.execute(text("INSERT INTO contact (id, channel, reachable, created_at, updated_at)"
                      " VALUES (1, 'web', true, :now, :now)"), {"now": now})  # fmt: skip
    conn.execute(text("INSERT INTO company (id, name, created_at) VALUES (1, 'x', :now)"), {"now": now})
    conn.execute(
        text(
            "INSERT INTO consultation (id, reference, status, channel, contact_id, company_id, company_name,"
            " industry, municipality_code, region, employee_band, category, description, dx_stage,"
            " method, notice_version, submitted_at, created_at, updated_at) VALUES (1, 'r', 'submitted',"
            " 'web', 1, 1, 'x', 'I', '46201', 'k', '1-5', 'other', '', 'none', 'online', 'v', :now, :now,"
            " :now)"
        ),
        {"now": now},
    )


def test_the_life_cycle_migration_renames_the_statuses_both_ways(empty_database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from storage.database import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", empty_database_url.replace("%", "%%"))
    upgrade_schema(empty_database_url, "0005")
    engine = create_engine(empty_database_url)
    now = "2026-11-01 00:00:00+00:00"
    booking = (
        "INSERT INTO booking (id, consultation_id, contact_id, coordinator_id, starts_at, ends_at, blocked_from,"
        " blocked_until, method, status, created_at, updated_at) VALUES (:id, :consultation, 1, 'a', :start,"
        " :end, :start, :end, 'online', :status, :now, :now)"
    )
    try:
        with engine.begin() as conn:
            insert_consultation(conn, now)
            for n, (consultation, status) in enumerate(
                ((1, "approved"), (1, "held"), (None, "held")), start=1
            ):
                start, end = f"2026-12-0{n} 01:00:00+00:00", f"2026-12-0{n} 02:00:00+00:00"
                conn.execute(
                    text(booking),
                    {
                        "id": n,
                        "consultation": consultation,
                        "status": status,
                        "start": start,
                        "end": end,
                        "now": now,
                    },
                )
        upgrade_schema(empty_database_url)
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM booking ORDER BY id")).scalars().all()
        assert statuses == ["confirmed", "requested", "held"]
        if engine.dialect.name == "postgresql":  # a requested booking takes its time as a held one did
            with pytest.raises(Exception, match="ex_booking_no_overlap"), engine.begin() as conn:
                conn.execute(
                    text(booking),
                    {"id": 9, "consultation": 1, "status": "requested", "now": now,
                     "start": "2026-12-02 01:30:00+00:00", "end": "2026-12-02 03:00:00+00:00"},
                )  # fmt: skip
        command.downgrade(cfg, "0005")
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM booking ORDER BY id")).scalars().all()
        assert statuses == ["approved", "held", "held"]
    finally:
        engine.dispose()


def test_a_database_of_the_last_release_keeps_its_bookings_and_history_through_every_migration(
    empty_database_url: str,
) -> None:
    """0003 is what the last release ran; the later migrations rebuild the consultation table on SQLite,
    which with foreign keys on had cascade-deleted every booking and history row."""
    upgrade_schema(empty_database_url, "0003")
    engine = create_engine(empty_database_url)
    now = "2026-11-01 00:00:00+00:00"
    try:
        with engine.begin() as conn:
            insert_consultation(conn, now)
            conn.execute(
                text(
                    "INSERT INTO booking (id, consultation_id, contact_id, coordinator_id, starts_at, ends_at,"
                    " blocked_from, blocked_until, method, status, created_at, updated_at) VALUES (1, 1, 1,"
                    " 'a', :start, :end, :start, :end, 'online', 'held', :now, :now)"
                ),
                {"start": "2026-12-01 01:00:00+00:00", "end": "2026-12-01 02:00:00+00:00", "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO consultation_event (id, consultation_id, kind, actor, detail, at)"
                    " VALUES (1, 1, 'submitted', 'owner', '{}', :now)"
                ),
                {"now": now},
            )
        upgrade_schema(empty_database_url)
        with engine.connect() as conn:
            bookings = conn.execute(text("SELECT consultation_id, status FROM booking")).all()
            events = conn.execute(text("SELECT kind FROM consultation_event")).scalars().all()
            consultations = conn.execute(text("SELECT sole_trader FROM consultation")).scalars().all()
        assert [tuple(b) for b in bookings] == [(1, "requested")]
        assert events == ["submitted"]
        assert [bool(s) for s in consultations] == [False]
    finally:
        engine.dispose()
