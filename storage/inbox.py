"""The webhook inbox: raw events stored once before the ack, then claimed and processed once, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from storage.crypto import keyring
from storage.models import InboxEvent, Interaction

PENDING, PROCESSED, FAILED = "pending", "processed", "failed"


@dataclass(frozen=True)
class NewEvent:
    """One event of a webhook as it arrived: its id, whose it is, its time and its raw JSON."""

    event_id: str
    user_id: str | None
    event_ts: int
    body: dict[str, Any]


def store_events(*, session: Session, channel: str, events: Sequence[NewEvent], received_at: datetime) -> int:
    """Inserts the events that are not stored yet (INSERT … ON CONFLICT DO NOTHING); returns how many."""
    if not events:
        return 0
    ring = keyring()
    rows = [
        {
            "channel": channel,
            "event_id": e.event_id,
            "event_ts": e.event_ts,
            "body": e.body,
            "user_key": ring.lookup_hash(e.user_id) if e.user_id else None,
            "status": PENDING,
            "attempts": 0,
            "received_at": received_at,
        }
        for e in events
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(InboxEvent).on_conflict_do_nothing(index_elements=["channel", "event_id"])
    return len(session.execute(stmt.returning(InboxEvent.id), rows).all())


# The claim's statements are built once: building SQLAlchemy expressions costs more than running them.
_earlier = aliased(InboxEvent)
_READY = (
    InboxEvent.status == PENDING,
    InboxEvent.received_at <= bindparam("ready_before"),
    or_(InboxEvent.claimed_until.is_(None), InboxEvent.claimed_until <= bindparam("now")),
)
# First in line for its user: no earlier event of theirs is still pending.
_FIRST_FOR_USER = ~exists().where(
    _earlier.status == PENDING,
    _earlier.user_key == InboxEvent.user_key,
    _earlier.channel == InboxEvent.channel,
    or_(
        _earlier.event_ts < InboxEvent.event_ts,
        and_(_earlier.event_ts == InboxEvent.event_ts, _earlier.id < InboxEvent.id),
    ),
)
_OLDEST_READY = (
    select(InboxEvent.id)
    .where(InboxEvent.channel == bindparam("channel"), *_READY)
    .order_by(InboxEvent.event_ts, InboxEvent.id)
    .limit(bindparam("candidates"))
)
_OLDEST_FIRST_IN_LINE = _OLDEST_READY.where(_FIRST_FOR_USER)
# Checked again with the lock: another process may have changed the row since the list was read.
_FIRST_IN_LINE = (
    select(InboxEvent)
    .where(InboxEvent.id.in_(bindparam("ids", expanding=True)), *_READY, _FIRST_FOR_USER)
    .order_by(InboxEvent.event_ts, InboxEvent.id)
    .limit(1)
)
_FIRST_IN_LINE_LOCKED = _FIRST_IN_LINE.with_for_update(skip_locked=True, of=InboxEvent)


def claim_next_event(
    *, session: Session, channel: str, now: datetime, ready_before: datetime, candidates: int = 32
) -> InboxEvent | None:
    """The oldest pending event that is first in line for its user, locked for this transaction.

    An event waits while an earlier event of the same user is pending, so one user's events are
    handled in timestamp order even by several processes; on PostgreSQL the row is taken with
    FOR UPDATE SKIP LOCKED, on SQLite the transaction already holds the write lock. The oldest few
    are read first (an index walk) and only they are checked; only when all of them wait behind an
    earlier event of their user (one that keeps failing, say) is the whole queue searched.
    """
    params = {"channel": channel, "now": now, "ready_before": ready_before, "candidates": candidates}
    locking = _FIRST_IN_LINE_LOCKED if session.get_bind().dialect.name == "postgresql" else _FIRST_IN_LINE
    for candidates_query in (_OLDEST_READY, _OLDEST_FIRST_IN_LINE):
        oldest = list(session.scalars(candidates_query, params))
        if not oldest:
            return None
        row = session.scalars(locking, {**params, "ids": oldest}).first()
        if row is not None:
            return row
    return None


def lock_user(*, session: Session, user_key: str | None) -> None:
    """Waits until no other transaction is handling this user's events, and keeps others waiting until this
    one ends (PostgreSQL; on SQLite the write lock already makes transactions one at a time).

    The claim keeps one user's pending events in order; this covers an earlier event that arrived late,
    after a later one was claimed: the two are then handled one after the other, never side by side.
    """
    if user_key and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": user_key})


def mark_processed(*, event: InboxEvent, now: datetime, by: str | None = None) -> None:
    """Records that the event had its effect (in the same transaction as the effect), and which process."""
    event.status = PROCESSED
    event.claimed_by = by
    event.processed_at = now
    event.claimed_until = None
    event.attempts += 1


def record_failure(
    *,
    session: Session,
    event_id: int,
    now: datetime,
    error: str,
    retry_after: timedelta,
    max_attempts: int,
    retry_cap: timedelta | None = None,
) -> bool:
    """Counts a failed attempt and puts the event off, `retry_after` doubled with each attempt (up to the
    cap); parks it as failed after max_attempts. Returns whether it was parked."""
    event = session.get(InboxEvent, event_id)
    if event is None or event.status != PENDING:
        return False
    event.attempts += 1
    event.last_error = error[:500]
    if event.attempts >= max_attempts:
        event.status = FAILED
        event.processed_at = now
        event.claimed_until = None
        return True
    delay = retry_after * 2 ** (event.attempts - 1)
    event.claimed_until = now + (min(delay, retry_cap) if retry_cap is not None else delay)
    return False


def count_events(*, session: Session, channel: str, status: str = PENDING) -> int:
    """How many events of a channel are in a status."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(InboxEvent)
            .where(InboxEvent.channel == channel, InboxEvent.status == status)
        )
        or 0
    )


def purge_raw_bodies(*, session: Session, older_than: datetime, now: datetime, limit: int = 500) -> int:
    """Empties the raw bodies of handled events received before a time; keeps the ids against replays."""
    ids = list(
        session.scalars(
            select(InboxEvent.id)
            .where(
                InboxEvent.received_at < older_than,
                InboxEvent.status != PENDING,
                InboxEvent.purged_at.is_(None),
            )
            .limit(limit)
        )
    )
    if ids:
        session.execute(update(InboxEvent).where(InboxEvent.id.in_(ids)).values(body={}, purged_at=now))
    return len(ids)


def purge_user_bodies(*, session: Session, channel: str, user_id: str, now: datetime) -> int:
    """Empties the raw bodies of a user's handled events at once (they decline or abandon a conversation),
    keeping the ids against replays; events still waiting are left to be handled."""
    result = session.execute(
        update(InboxEvent)
        .where(
            InboxEvent.channel == channel,
            InboxEvent.user_key.in_(keyring().lookup_hashes(user_id)),
            InboxEvent.status != PENDING,
            InboxEvent.purged_at.is_(None),
        )
        .values(body={}, purged_at=now)
        .returning(InboxEvent.id)
    )
    return len(result.all())


def purge_event_body(*, event: InboxEvent, now: datetime) -> None:
    """Empties the raw body of the event being handled (it ended a conversation that is forgotten)."""
    event.body = {}
    event.purged_at = now


def redact_unsent_message(
    *, session: Session, channel: str, user_id: str, contact_id: int | None, message_id: str
) -> int:
    """Removes the text of an unsent message from the interaction log and from its raw event."""
    changed = 0
    if contact_id is not None:
        for row in session.scalars(
            select(Interaction).where(
                Interaction.contact_id == contact_id, Interaction.external_message_id == message_id
            )
        ):
            row.text = None
            changed += 1
    keys = keyring().lookup_hashes(user_id)
    for event in session.scalars(
        select(InboxEvent).where(
            InboxEvent.channel == channel, InboxEvent.user_key.in_(keys), InboxEvent.purged_at.is_(None)
        )
    ):
        body = event.body or {}
        message = body.get("message") if isinstance(body, dict) else None
        if isinstance(message, dict) and message.get("id") == message_id:
            event.body = {**body, "message": {k: v for k, v in message.items() if k in ("id", "type")}}
            changed += 1
    return changed
