"""The outbox: messages to send, written with the change that causes them, then delivered once."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from storage.bulk import json_rows
from storage.channels import Channel
from storage.crypto import stored_values
from storage.interactions import mark_interactions_delivered, mark_many_interactions_delivered
from storage.models import Contact, OutboxMessage

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
REJECTED = "rejected"  # the platform refused it, or it cannot be sent there: resending the same fails again
PARKED = (FAILED, REJECTED)  # what `madoguchi outbox retry --all` sends again
# In `last_error` of a push LINE refused because the month's message quota is used up (rejected: it would be
# refused again until the month ends; the coordinators' digest lists whom to call instead)
QUOTA_REFUSED = "monthly message quota reached"


@dataclass(frozen=True)
class DueMessage:
    """A claimed outbox row, with what its delivery needs, read inside the claiming transaction."""

    id: int
    channel: str
    contact_id: int | None
    recipient: str | None  # the contact's address on the row's channel (its id there)
    reachable: bool
    messages: list[dict[str, Any]]
    retry_key: str
    reply_token: str | None  # the channel's handle to answer with, only while it is still fresh
    reply_uncertain: bool  # an earlier reply attempt may have reached the platform
    attempts: int
    lease_until: datetime  # this claim's lease: what is recorded of the attempt counts only while it holds


def enqueue(
    *,
    session: Session,
    channel: Channel | str,
    contact_id: int | None,
    messages: list[dict[str, Any]],
    now: datetime,
    consultation_id: int | None = None,
    inbox_event_id: int | None = None,
    reply_token: str | None = None,
    reply_expires_at: datetime | None = None,
    reason: str | None = None,
) -> OutboxMessage:
    """Adds one delivery (what the channel sends in one call) with its own retry key. Channels call it
    through their sender (bot/sending.py), which knows what one call may carry."""
    row = OutboxMessage(
        channel=Channel(channel).value,
        reason=reason,
        contact_id=contact_id,
        consultation_id=consultation_id,
        inbox_event_id=inbox_event_id,
        payload={"messages": messages},
        reply_token=reply_token,
        reply_expires_at=reply_expires_at,
        retry_key=str(uuid.uuid4()),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class NewDelivery:
    """One outbox row to add among many (enqueue_many): what one call of the channel sends."""

    contact_id: int | None
    messages: list[dict[str, Any]]
    reason: str | None = None
    consultation_id: int | None = None


def retry_keys(count: int) -> list[str]:
    """`count` new retry keys (random UUIDs, as uuid4 makes them), from one read of the system's randomness."""
    raw = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=raw[i : i + 16], version=4)) for i in range(0, 16 * count, 16)]


_TABLE: Any = OutboxMessage.__table__
_ENQUEUE_MANY = insert(_TABLE).returning(_TABLE.c.id, _TABLE.c.retry_key)


_ENQUEUE_MANY_PG = text(
    "INSERT INTO outbox_message (channel, reason, contact_id, consultation_id, payload, retry_key, status, "
    "attempts, next_attempt_at, created_at, duplicate_possible) "
    "SELECT :channel, u.reason, u.contact_id, u.consultation_id, u.payload, u.retry_key, :status, 0, :now, "
    ":now, false FROM json_to_recordset(CAST(:rows AS json)) "
    "AS u(reason varchar, contact_id integer, consultation_id integer, payload text, retry_key varchar) "
    "RETURNING id, retry_key"
)


def enqueue_many(
    *, session: Session, channel: Channel | str, deliveries: list[NewDelivery], now: datetime
) -> list[int]:
    """Adds the rows `enqueue` would, each with its own retry key, in one statement (PostgreSQL: its
    values as one JSON parameter; elsewhere a multi-row INSERT); their ids, in order (matched on the retry keys that
    RETURNING gives back, whatever its order)."""
    if not deliveries:
        return []
    keys = retry_keys(len(deliveries))
    payloads = [{"messages": d.messages} for d in deliveries]
    if session.get_bind().dialect.name == "postgresql":
        tokens = stored_values(_TABLE.c.payload, payloads)
        params: dict[str, Any] = {
            "channel": Channel(channel).value,
            "status": PENDING,
            "now": now.astimezone(UTC),
            "rows": json_rows(
                {
                    "reason": d.reason,
                    "contact_id": d.contact_id,
                    "consultation_id": d.consultation_id,
                    "payload": token,
                    "retry_key": key,
                }
                for d, token, key in zip(deliveries, tokens, keys, strict=True)
            ),
        }
        returned = session.execute(_ENQUEUE_MANY_PG, params)
    else:
        rows = [
            {
                "channel": Channel(channel).value,
                "reason": d.reason,
                "contact_id": d.contact_id,
                "consultation_id": d.consultation_id,
                "inbox_event_id": None,
                "payload": payload,
                "reply_token": None,
                "reply_expires_at": None,
                "retry_key": key,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "duplicate_possible": False,
            }
            for d, payload, key in zip(deliveries, payloads, keys, strict=True)
        ]
        returned = session.execute(_ENQUEUE_MANY, rows)
    ids = {key: row_id for row_id, key in returned}
    return [ids[key] for key in keys]


# The claim's statements are built once: building SQLAlchemy expressions costs more than running them.
# The oldest due rows are read first, then only they are checked and locked: a small plan whatever the
# statistics say. The lease is checked again under the lock: PostgreSQL re-reads a row that another
# process claimed and committed after the list was read, and only that keeps it from being sent twice.
_earlier = aliased(OutboxMessage)
_DUE = (
    OutboxMessage.status == PENDING,
    OutboxMessage.next_attempt_at <= bindparam("now"),
    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= bindparam("now")),
)
# First in line for its contact, so each contact's messages go in order: behind its pending rows, and behind
# those parked as failed since `parked_since` (they go out again, first, once the platform answers).
_FIRST_FOR_CONTACT = ~exists().where(
    _earlier.contact_id == OutboxMessage.contact_id,
    _earlier.status.in_((PENDING, FAILED)),
    or_(_earlier.status == PENDING, _earlier.created_at > bindparam("parked_since")),
    _earlier.id < OutboxMessage.id,
)
_OLDEST_DUE = (
    select(OutboxMessage.id)
    .where(OutboxMessage.channel == bindparam("channel"), *_DUE)
    .order_by(OutboxMessage.id)
    .limit(bindparam("candidates"))
)
_OLDEST_FIRST_IN_LINE = _OLDEST_DUE.where(_FIRST_FOR_CONTACT)
_FIRST_IN_LINE = (
    select(  # the columns a delivery needs (whole entities would decrypt every personal field of the contact)
        OutboxMessage.id,
        OutboxMessage.channel,
        OutboxMessage.contact_id,
        OutboxMessage.payload,
        OutboxMessage.retry_key,
        OutboxMessage.reply_token,
        OutboxMessage.reply_expires_at,
        OutboxMessage.reply_attempted_at,
        OutboxMessage.attempts,
        Contact.external_id,
        Contact.reachable,
    )
    .outerjoin(Contact, Contact.id == OutboxMessage.contact_id)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), *_DUE, _FIRST_FOR_CONTACT)
    .order_by(OutboxMessage.id)
    .limit(bindparam("limit"))
)
_FIRST_IN_LINE_LOCKED = _FIRST_IN_LINE.with_for_update(skip_locked=True, of=OutboxMessage)
# The parked rows that due rows of their contact wait behind (only looked for when nothing else can go).
_BLOCKING = select(OutboxMessage.id).where(
    OutboxMessage.channel == bindparam("b_channel"),
    OutboxMessage.status == FAILED,
    OutboxMessage.created_at > bindparam("b_since"),
    OutboxMessage.contact_id.in_(
        select(_earlier.contact_id).where(
            _earlier.channel == bindparam("b_channel"),
            _earlier.status == PENDING,
            _earlier.next_attempt_at <= bindparam("b_now"),
            or_(_earlier.claimed_until.is_(None), _earlier.claimed_until <= bindparam("b_now")),
        )
    ),
)
_RESUME_VALUES: dict[str, Any] = dict(
    status=PENDING, attempts=0, next_attempt_at=bindparam("b_now"), claimed_until=None
)
_RESUME_BLOCKING = update(OutboxMessage).where(OutboxMessage.id.in_(_BLOCKING)).values(**_RESUME_VALUES)
_RESUME_BLOCKING_LOCKED = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(_BLOCKING.with_for_update(skip_locked=True)))
    .values(**_RESUME_VALUES)
)


_LEASE = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(attempts=_TABLE.c.attempts + 1, claimed_until=bindparam("lease"))
)
_REPLY_TRIED = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(reply_attempted_at=bindparam("now"))
)


def claim_due_messages(
    *,
    session: Session,
    channel: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    parked_since: datetime | None = None,
) -> list[DueMessage]:
    """Leases the due rows that are first in line for their contact, so each contact's are sent in order
    (rows parked as failed since `parked_since` hold up the later ones of their contact).

    A row stays leased while it is being sent, outside any transaction; a process that dies holding
    it leaves it to be taken again when the lease ends. A fresh reply token is marked as tried first.
    """
    params = {"channel": channel, "now": now, "candidates": 4 * limit, "parked_since": parked_since or now}
    locking = _FIRST_IN_LINE_LOCKED if session.get_bind().dialect.name == "postgresql" else _FIRST_IN_LINE
    rows: list[Any] = []
    connection = session.connection()  # Core statements: the ORM's machinery costs more than they do
    # The oldest due rows first (an index walk); only when every one of them waits behind an earlier row of
    # its contact (one in backoff, say) is the whole queue searched, so such a queue holds up nobody else.
    for candidates_query in (_OLDEST_DUE, _OLDEST_FIRST_IN_LINE):
        oldest = list(connection.execute(candidates_query, params).scalars())
        if not oldest:
            if candidates_query is _OLDEST_FIRST_IN_LINE and parked_since is not None:
                # Every due row waits behind an earlier one: where that is a parked row, it goes first again.
                pg = session.get_bind().dialect.name == "postgresql"
                resume = {"b_channel": channel, "b_now": now, "b_since": parked_since}
                session.execute(_RESUME_BLOCKING_LOCKED if pg else _RESUME_BLOCKING, resume)
            return []
        rows = list(connection.execute(locking, {**params, "ids": oldest, "limit": limit}).all())
        if rows:
            break
    claimed: list[DueMessage] = []
    lease_until = now + lease
    tried: list[int] = []  # the rows whose fresh reply token this claim is about to use
    for row in rows:
        fresh = bool(row.reply_token and row.reply_expires_at and row.reply_expires_at > now)
        if fresh:
            tried.append(row.id)
        claimed.append(
            DueMessage(
                id=row.id,
                channel=row.channel,
                contact_id=row.contact_id,
                recipient=row.external_id,
                reachable=bool(row.reachable),
                messages=list((row.payload or {}).get("messages", [])),
                retry_key=row.retry_key,
                reply_token=row.reply_token if fresh else None,
                reply_uncertain=row.reply_attempted_at is not None,
                attempts=row.attempts + 1,
                lease_until=lease_until,
            )
        )
    # One statement for all the rows (the ORM would flush an UPDATE a row).
    connection.execute(_LEASE, {"ids": [row.id for row in rows], "lease": lease_until})
    if tried:
        connection.execute(_REPLY_TRIED, {"ids": tried, "now": now})
    return claimed


def _claimed(message_id: int, lease_until: datetime | None) -> tuple[Any, ...]:
    # The row is still ours: pending, and (given the lease) not claimed again by someone whose lease
    # began after ours ran out. A late answer of an expired claim changes nothing.
    mine = (OutboxMessage.id == message_id, OutboxMessage.status == PENDING)
    return mine if lease_until is None else (*mine, OutboxMessage.claimed_until == lease_until)


def _update(session: Session, message_id: int, lease_until: datetime | None, **values: Any) -> bool:
    stmt = update(OutboxMessage).where(*_claimed(message_id, lease_until)).values(**values)
    return session.execute(stmt.returning(OutboxMessage.id)).first() is not None


_SENT_VALUES: dict[str, Any] = dict(status=SENT, sent_at=bindparam("at"), delivered_via=bindparam("how"), claimed_until=None,
                    reply_token=None, reply_attempted_at=None, last_error=None,
                    duplicate_possible=bindparam("dup"))  # fmt: skip
_MARK_SENT = (  # built once: it runs for every message delivered (the rows `ids`, delivered alike)
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), OutboxMessage.status == PENDING)
    .values(**_SENT_VALUES)
    .returning(OutboxMessage.id)
)
_MARK_SENT_IN_LEASE = _MARK_SENT.where(OutboxMessage.claimed_until == bindparam("lease_until"))


def _mark_sent_alike(
    session: Session, ids: list[int], via: str, now: datetime, lease_until: datetime | None, duplicate: bool
) -> list[int]:
    """Records rows delivered alike (the same way, under one lease); the ids that were still ours."""
    params: dict[str, Any] = {"ids": ids, "at": now, "how": via, "dup": duplicate}
    if lease_until is None:
        return list(session.connection().execute(_MARK_SENT, params).scalars())
    return list(
        session.connection().execute(_MARK_SENT_IN_LEASE, {**params, "lease_until": lease_until}).scalars()
    )


def mark_sent(
    *,
    session: Session,
    message_id: int,
    via: str,
    now: datetime,
    lease_until: datetime | None = None,
    duplicate_possible: bool = False,
) -> bool:
    """Records a delivery (a push answered 409 was delivered before), and whether the owner may have it twice
    (pushed after a reply whose answer was lost), and the delivery of its messages in the interaction log;
    False when the row is not ours."""
    ours = bool(_mark_sent_alike(session, [message_id], via, now, lease_until, duplicate_possible))
    if ours:
        mark_interactions_delivered(session=session, outbox_id=message_id, at=now)
    return ours


@dataclass(frozen=True)
class Delivered:
    """A delivery to record among many (mark_sent_many): what mark_sent takes for one row."""

    message_id: int
    via: str
    lease_until: datetime | None = None
    duplicate_possible: bool = False


_MARK_SENT_MANY_PG = text(
    "UPDATE outbox_message AS o SET status = :sent, sent_at = :at, delivered_via = u.via, claimed_until = NULL, "
    "reply_token = NULL, reply_attempted_at = NULL, last_error = NULL, duplicate_possible = u.dup "
    "FROM json_to_recordset(CAST(:rows AS json)) AS u(id integer, via varchar, lease timestamptz, dup boolean) "
    "WHERE o.id = u.id AND o.status = :pending AND (u.lease IS NULL OR o.claimed_until = u.lease) "
    "RETURNING o.id"
)


def mark_sent_many(*, session: Session, delivered: Sequence[Delivered], now: datetime) -> set[int]:
    """What mark_sent records, for many rows in a few statements (PostgreSQL: one for the rows, one for
    their log); the ids recorded (a row no longer ours is left as it is)."""
    if not delivered:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        rows = json_rows(
            {"id": d.message_id, "via": d.via, "lease": d.lease_until, "dup": d.duplicate_possible}
            for d in delivered
        )
        params = {"rows": rows, "at": now.astimezone(UTC), "sent": SENT, "pending": PENDING}
        ours = set(session.scalars(_MARK_SENT_MANY_PG, params))
    else:  # one statement for the rows of each claim (they share its lease) delivered alike
        groups: dict[tuple[datetime | None, str, bool], list[int]] = {}
        for d in delivered:
            groups.setdefault((d.lease_until, d.via, d.duplicate_possible), []).append(d.message_id)
        ours = set()
        for (lease_until, via, duplicate), ids in groups.items():
            ours.update(_mark_sent_alike(session, ids, via, now, lease_until, duplicate))
    mark_many_interactions_delivered(session=session, outbox_ids=sorted(ours), at=now)
    return ours


def mark_retry(
    *,
    session: Session,
    message_id: int,
    retry_at: datetime,
    error: str,
    reply_uncertain: bool,
    lease_until: datetime | None = None,
) -> bool:
    """Schedules another attempt; keeps the note that a reply may have arrived when it may have."""
    values: dict[str, Any] = {"next_attempt_at": retry_at, "claimed_until": None, "last_error": error[:500]}
    if not reply_uncertain:
        values["reply_attempted_at"] = None
    return _update(session, message_id, lease_until, **values)


def mark_failed(
    *,
    session: Session,
    message_id: int,
    error: str,
    status: str = FAILED,
    lease_until: datetime | None = None,
) -> bool:
    """Parks a row, visibly: failed (resent once the platform answers again), rejected, or skipped for an
    unreachable contact."""
    return _update(session, message_id, lease_until, status=status, claimed_until=None, reply_token=None,
                   last_error=error[:500])  # fmt: skip


def forget_reply_token(*, session: Session, message_id: int, lease_until: datetime | None = None) -> bool:
    """Drops a reply token the platform refused, before falling back to a push; False when the row is no
    longer ours (then another claim may have used the token, and a push could deliver it twice)."""
    return _update(session, message_id, lease_until, reply_token=None, reply_expires_at=None,
                   reply_attempted_at=None)  # fmt: skip


def _locked_ids(session: Session, query: Select[Any]) -> Select[Any]:
    # Rows another process is changing right now are left to it: no waiting, no deadlock between processes.
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _requeue(
    session: Session, candidates: Select[Any], now: datetime, statuses: tuple[str, ...]
) -> list[int]:
    """Puts parked rows back in the queue, due now, with a full set of attempts and their own retry key."""
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(_locked_ids(session, candidates)), OutboxMessage.status.in_(statuses))
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
        .returning(OutboxMessage.id)
    )
    return list(session.scalars(stmt))


def _parked(channel: str, created_after: datetime) -> Select[Any]:
    return select(OutboxMessage.id).where(
        OutboxMessage.channel == channel,
        OutboxMessage.status == FAILED,
        OutboxMessage.created_at > created_after,
    )


def resume_parked(*, session: Session, channel: str, now: datetime, created_after: datetime) -> int:
    """Once the platform answers again: re-queues the rows parked as failed (created after `created_after`,
    within the retry key's validity) and brings forward those waiting out a backoff; returns how many were parked."""
    resumed = _requeue(session, _parked(channel, created_after), now, (FAILED,))
    waiting = select(OutboxMessage.id).where(
        OutboxMessage.channel == channel,
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at > now,
        OutboxMessage.attempts > 0,
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(_locked_ids(session, waiting)), OutboxMessage.status == PENDING)
        .values(next_attempt_at=now)
    )
    return len(resumed)


def requeue_oldest_parked(
    *, session: Session, channel: str, now: datetime, created_after: datetime
) -> int | None:
    """Re-queues the oldest row of a channel parked as failed (created after `created_after`), to find out
    whether the platform answers again; returns its id, or None."""
    oldest = _parked(channel, created_after).order_by(OutboxMessage.id).limit(1)
    return next(iter(_requeue(session, oldest, now, (FAILED,))), None)


def requeue_parked(*, session: Session, now: datetime, message_id: int | None = None) -> int:
    """Re-queues every failed or rejected row (or the one given, skipped too) for the running senders."""
    statuses = (*PARKED, SKIPPED) if message_id is not None else PARKED
    query = select(OutboxMessage.id).where(OutboxMessage.status.in_(statuses))
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    return len(_requeue(session, query, now, statuses))


def count_messages(*, session: Session, channel: str, status: str = PENDING) -> int:
    """How many rows of a channel are in a status."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.status == status)
        )
        or 0
    )


def empty_sent_payloads(*, session: Session, contact_id: int, since: datetime) -> int:
    """Empties the copies of what was sent to a contact since a time (a forgotten conversation's
    read-backs); rows not yet sent keep theirs, to be delivered."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.contact_id == contact_id,
            OutboxMessage.status == SENT,
            OutboxMessage.created_at >= since,
        )
        .values(payload={"messages": []})
        .returning(OutboxMessage.id)
    )
    return len(result.all())


def delivery_progress(*, session: Session, message_id: int) -> dict[str, Any]:
    """What an earlier attempt of a delivery in several calls recorded as done (a post's `ts`, the files
    shared with it), so the next attempt does only the rest."""
    payload = session.scalar(select(OutboxMessage.payload).where(OutboxMessage.id == message_id))
    progress = (payload or {}).get("progress")
    return dict(progress) if isinstance(progress, dict) else {}


def record_progress(
    *, session: Session, message_id: int, progress: dict[str, Any], lease_until: datetime | None = None
) -> bool:
    """Records what this attempt has done so far (kept in the row's encrypted payload); False when the row
    is no longer ours."""
    payload = session.scalar(select(OutboxMessage.payload).where(OutboxMessage.id == message_id))
    return _update(session, message_id, lease_until, payload={**(payload or {}), "progress": progress})
