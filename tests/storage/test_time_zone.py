"""PostgreSQL sessions run in UTC whatever the server's own time zone: a booking's time reads back as the
same instant, in datetime's UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from storage.bookings import Booking
from storage.database import Database
from tests.conftest import DatabaseFactory
from tests.scheduling.support import jst, prepare_booking_tables

pytestmark = pytest.mark.postgres_only


def test_times_read_back_in_utc_on_a_server_set_to_japan_time(fresh_database_url: DatabaseFactory) -> None:
    url = fresh_database_url(migrated=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # a server (or database) whose operator set it to Japan time
        conn.execute(text(f"ALTER DATABASE \"{make_url(url).database}\" SET timezone = 'Asia/Tokyo'"))
    admin.dispose()
    db = Database(url)
    try:
        prepare_booking_tables(db.engine, consultations=1)
        starts = jst(2027, 2, 5, 14, 0)
        ends = starts + timedelta(hours=1)
        with db.session() as session:
            session.add(
                Booking(
                    consultation_id=1,
                    coordinator_id="c1",
                    starts_at=starts,
                    ends_at=ends,
                    blocked_from=starts,
                    blocked_until=ends,
                    method="online",
                    status="confirmed",
                )
            )
        with db.session() as session:
            assert session.scalar(text("SHOW timezone")) == "UTC"
            read = session.scalar(select(Booking.starts_at))
            raw = session.scalar(text("SELECT starts_at FROM booking"))  # the driver's value, unconverted
        assert read == starts and read.tzinfo is UTC
        assert isinstance(raw, datetime) and raw.tzinfo is UTC
        assert raw == datetime(2027, 2, 5, 5, 0, tzinfo=UTC)
    finally:
        db.dispose()
