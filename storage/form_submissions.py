"""The web form's tokens already sent, so that one form stores one consultation however often it is posted
(a double click, a second tap on a slow network, a retry after a lost answer).

A token is kept as its SHA-256 (it is a 256-bit random value, so its hash gives nothing away and needs no
key), claimed first in the transaction that stores the consultation: a second post of the same form waits
for the first (PostgreSQL's unique insert blocks until the first commits, SQLite's transactions are
serialized) and then finds the consultation already stored.

The token the browser gets after a form is sent is derived from the sent one with the desk's key
(`token_after`), so a post of that form that arrives with the new cookie (a second tap after the first
answer's cookie arrived, a reload) is still known as the same form, and no one without the key can
derive it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import models as _models  # noqa: F401  (the consultation table the foreign key names)
from storage.base import Base
from storage.crypto import keyring

_AFTER = "form-token-after:"


class FormSubmission(Base):
    """A form token sent, and the consultation it stored (set before the claiming transaction commits)."""

    __tablename__ = "form_submission"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(index=True)


def form_token_hash(token: str) -> str:
    """What is stored of a form token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_after(token: str) -> str:
    """The token a browser gets once it has sent the form of this one (64 hex digits, a keyed hash)."""
    return keyring().lookup_hash(_AFTER + token)


def follows(cookie: str, token: str) -> bool:
    """Whether the cookie's token is the one given after sending this one (under any of the keys)."""
    return any(hmac.compare_digest(cookie, after) for after in keyring().lookup_hashes(_AFTER + token))


def find_form_consultation(*, session: Session, token: str) -> int | None:
    """The id of the consultation a form token has stored, if any."""
    return session.scalars(
        select(FormSubmission.consultation_id).where(FormSubmission.token_hash == form_token_hash(token))
    ).first()


def claim_form_token(*, session: Session, token: str, now: datetime) -> int | None:
    """Takes the token for the consultation this transaction stores (None), or returns the id of the one
    already stored under it, by an earlier post or a concurrent one (whose commit this waits for)."""
    for _ in range(2):  # the insert loses to a concurrent post: its consultation is found the second time
        stored = find_form_consultation(session=session, token=token)
        if stored is not None:
            return stored
        try:
            with session.begin_nested():
                session.add(FormSubmission(token_hash=form_token_hash(token), submitted_at=now))
                session.flush()
        except IntegrityError:
            continue
        return None
    raise RuntimeError("the form token could not be claimed")


def record_form_consultation(*, session: Session, token: str, consultation_id: int) -> None:
    """Gives the claimed token the consultation stored for it."""
    session.execute(
        update(FormSubmission)
        .where(FormSubmission.token_hash == form_token_hash(token))
        .values(consultation_id=consultation_id)
    )


def purge_form_submissions(*, session: Session, submitted_before: datetime) -> int:
    """Forgets the tokens sent before a time (a form's cookie lives a day; the tokens are no personal data)."""
    result = session.execute(delete(FormSubmission).where(FormSubmission.submitted_at < submitted_before))
    return int(getattr(result, "rowcount", 0) or 0)
