"""Consultations: storing a submitted request, and reading them for the desk."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, defer, selectinload

from storage.crypto import PIIKeyError, as_stored, decrypt_stored, is_encrypted
from storage.models import Company, Consent, Consultation, ConsultationEvent, Contact

_ENCRYPTED = tuple(c.name for c in Consultation.__table__.columns if is_encrypted(c))


def record_consent(
    *,
    session: Session,
    contact_id: int | None,
    notice_version: str,
    accepted: bool,
    at: datetime,
    purpose: str = "intake",
) -> Consent:
    consent = Consent(
        contact_id=contact_id, notice_version=notice_version, accepted=accepted, at=at, purpose=purpose
    )
    session.add(consent)
    return consent


def has_consent(*, session: Session, contact_id: int, notice_version: str, purpose: str = "intake") -> bool:
    """Whether the contact's latest answer to this notice version was yes."""
    latest = session.scalars(
        select(Consent)
        .where(
            Consent.contact_id == contact_id,
            Consent.notice_version == notice_version,
            Consent.purpose == purpose,
        )
        .order_by(Consent.at.desc(), Consent.id.desc())
    ).first()
    return bool(latest and latest.accepted)


def create_consultation(
    *,
    session: Session,
    contact: Contact,
    channel: str,
    fields: dict[str, Any],
    submitted_at: datetime,
    reference_prefix: str,
) -> Consultation:
    """Stores a submitted consultation with its company, and updates the contact's details."""
    company = Company(
        name=fields["company_name"],
        industry=fields["industry"],
        municipality_code=fields["municipality_code"],
        employee_band=fields["employee_band"],
    )
    session.add(company)
    contact.name = fields.get("contact_name")
    contact.phone = fields.get("phone") or contact.phone
    contact.email = fields.get("email") or contact.email
    consultation = Consultation(
        reference=f"tmp-{uuid.uuid4().hex[:24]}",
        channel=channel,
        contact=contact,
        company=company,
        submitted_at=submitted_at,
        status="submitted",
        **fields,
    )
    session.add(consultation)
    session.flush()
    consultation.reference = f"{reference_prefix}-{consultation.id:05d}"
    session.add(
        ConsultationEvent(
            consultation_id=consultation.id, kind="submitted", actor=channel, at=submitted_at, detail={}
        )
    )
    session.flush()
    return consultation


def latest_consultation(*, session: Session, contact_id: int) -> Consultation | None:
    return session.scalars(
        select(Consultation)
        .where(Consultation.contact_id == contact_id)
        .order_by(Consultation.submitted_at.desc(), Consultation.id.desc())
    ).first()


def get_consultation(*, session: Session, consultation_id: int) -> Consultation | None:
    return session.get(Consultation, consultation_id)


def list_consultations(
    *, session: Session, submitted_from: datetime | None = None, submitted_before: datetime | None = None
) -> list[Consultation]:
    """Consultations by submission time, oldest first, optionally within [from, before)."""
    query = select(Consultation).options(selectinload(Consultation.company))
    if submitted_from is not None:
        query = query.where(Consultation.submitted_at >= submitted_from)
    if submitted_before is not None:
        query = query.where(Consultation.submitted_at < submitted_before)
    return list(session.scalars(query.order_by(Consultation.submitted_at, Consultation.id)))


@dataclass(frozen=True)
class ConsultationView:
    """A consultation for display: its clear columns, and the personal fields asked for, decrypted where the
    configured keys can (None and named in `undecryptable` where they cannot)."""

    consultation: Consultation  # its encrypted columns are not loaded, and reading one raises
    personal: dict[str, Any]
    undecryptable: tuple[str, ...]


def _view_query(personal: Sequence[str]) -> Select[Any]:
    columns = Consultation.__table__.columns
    unknown = [f for f in personal if f not in _ENCRYPTED]
    if unknown:
        raise ValueError(f"not an encrypted field of a consultation: {', '.join(unknown)}")
    return select(Consultation, *[as_stored(columns[f]) for f in personal]).options(
        *[defer(getattr(Consultation, f), raiseload=True) for f in _ENCRYPTED],
        selectinload(Consultation.company),
    )


def _view(row: Any, personal: Sequence[str]) -> ConsultationView:
    values: dict[str, Any] = {}
    undecryptable: list[str] = []
    for name, token in zip(personal, row[1:], strict=True):
        try:
            values[name] = decrypt_stored(Consultation.__table__.columns[name], token)
        except (PIIKeyError, ValueError):
            values[name] = None
            undecryptable.append(name)
    return ConsultationView(consultation=row[0], personal=values, undecryptable=tuple(undecryptable))


def list_consultation_views(
    *,
    session: Session,
    personal: Sequence[str] = (),
    submitted_from: datetime | None = None,
    submitted_before: datetime | None = None,
) -> list[ConsultationView]:
    """Consultations by submission time, oldest first, optionally within [from, before), decrypting only
    the personal fields named: a row stored under a key that is not configured is still listed."""
    query = _view_query(personal)
    if submitted_from is not None:
        query = query.where(Consultation.submitted_at >= submitted_from)
    if submitted_before is not None:
        query = query.where(Consultation.submitted_at < submitted_before)
    rows = session.execute(query.order_by(Consultation.submitted_at, Consultation.id))
    return [_view(row, personal) for row in rows]


def get_consultation_view(
    *, session: Session, consultation_id: int, personal: Sequence[str] = _ENCRYPTED
) -> ConsultationView | None:
    """One consultation with the personal fields named (by default all of them), each decrypted if it can."""
    row = session.execute(_view_query(personal).where(Consultation.id == consultation_id)).first()
    return None if row is None else _view(row, personal)


def list_consultation_events(*, session: Session, consultation_id: int) -> list[ConsultationEvent]:
    return list(
        session.scalars(
            select(ConsultationEvent)
            .where(ConsultationEvent.consultation_id == consultation_id)
            .order_by(ConsultationEvent.at, ConsultationEvent.id)
        )
    )
