"""The slack_event claim on the real database: one delivery of an event_id handles it, even when two
sessions (two processes) claim it at the same moment; an unfinished claim is taken over once it lapses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Database
from storage.slack_events import (
    CLAIM_LEASE,
    claim_slack_event,
    finish_slack_event,
    get_slack_event,
    purge_slack_events,
)
from tests.conftest import DatabaseFactory

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


@pytest.fixture
def own_db(fresh_database_url: DatabaseFactory) -> Iterator[Database]:
    """A migrated database of its own: the sessions below commit, and race."""
    url = fresh_database_url(migrated=True)
    db = Database(url)
    yield db
    db.dispose()


def claim(db: Database, event_id: str, now: datetime = NOW) -> bool:
    with db.session() as session:
        return claim_slack_event(session=session, event_id=event_id, event_type="message", now=now)


def race(db: Database, event_id: str, sessions: int = 2) -> list[bool]:
    """What each of several sessions claiming the event at the same moment got."""
    barrier = threading.Barrier(sessions)
    results: list[bool] = []
    lock = threading.Lock()

    def contend() -> None:
        barrier.wait()
        won = claim(db, event_id)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=contend) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_sessions_claiming_one_event_at_once_one_wins(own_db: Database) -> None:
    for round_ in range(5):
        results = race(own_db, f"EvRACE{round_}", sessions=2 + round_ % 3)
        assert sorted(results) == [False] * (len(results) - 1) + [True], results


def test_one_session_holding_its_claim_uncommitted_makes_the_other_wait_then_lose(own_db: Database) -> None:
    results: list[bool] = []
    with own_db.session() as first:
        assert claim_slack_event(session=first, event_id="EvHELD", event_type="message", now=NOW)
        other = threading.Thread(target=lambda: results.append(claim(own_db, "EvHELD")))
        other.start()
        other.join(0.3)  # it waits on the uncommitted row (PostgreSQL) or the write lock (SQLite)
        assert results == []
    other.join(10)
    assert results == [False]


def test_a_claim_that_lapsed_unfinished_is_taken_over_and_a_finished_one_never(own_db: Database) -> None:
    assert claim(own_db, "EvLAPSE")
    assert not claim(own_db, "EvLAPSE", NOW + CLAIM_LEASE - timedelta(seconds=1))  # still being handled
    assert claim(own_db, "EvLAPSE", NOW + CLAIM_LEASE)  # its process died: a retry handles it
    assert not claim(own_db, "EvLAPSE", NOW + CLAIM_LEASE + timedelta(seconds=1))
    with own_db.session() as session:
        finish_slack_event(session=session, event_id="EvLAPSE", now=NOW + CLAIM_LEASE)
    assert not claim(own_db, "EvLAPSE", NOW + CLAIM_LEASE * 10)
    with own_db.session() as session:
        row = get_slack_event(session=session, event_id="EvLAPSE")
        assert row is not None and row.deliveries == 5 and row.processed_at == NOW + CLAIM_LEASE


def test_old_rows_are_purged(own_db: Database) -> None:
    assert claim(own_db, "EvOLD", NOW - timedelta(days=2))
    assert claim(own_db, "EvNEW", NOW)
    with own_db.session() as session:
        assert purge_slack_events(session=session, received_before=NOW - timedelta(days=1)) == 1
        assert get_slack_event(session=session, event_id="EvOLD") is None
        assert get_slack_event(session=session, event_id="EvNEW") is not None
