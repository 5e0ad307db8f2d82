"""Finding and creating contacts by their channel identity (looked up by keyed hash, never in clear)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.crypto import keyring
from storage.models import Contact


def find_contact(*, session: Session, channel: str, external_id: str) -> Contact | None:
    """The contact with this channel identity, whichever PII key hashed it."""
    hashes = keyring().lookup_hashes(external_id)
    return session.scalars(
        select(Contact).where(Contact.channel == channel, Contact.external_id_hash.in_(hashes))
    ).first()


def get_or_create_contact(*, session: Session, channel: str, external_id: str) -> Contact:
    """The contact with this channel identity, created on first contact."""
    contact = find_contact(session=session, channel=channel, external_id=external_id)
    if contact:
        return contact
    contact = Contact(
        channel=channel, external_id=external_id, external_id_hash=keyring().lookup_hash(external_id)
    )
    try:
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError:
        found = find_contact(session=session, channel=channel, external_id=external_id)
        if found is None:
            raise
        return found
    return contact


def create_anonymous_contact(*, session: Session, channel: str) -> Contact:
    """A contact with no channel identity (a web form submission)."""
    contact = Contact(channel=channel)
    session.add(contact)
    session.flush()
    return contact
