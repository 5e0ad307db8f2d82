"""Consultations: storing a submitted request, and reading them for the desk."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.models import Company, Consent, Consultation, ConsultationEvent, Contact


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


def list_consultation_events(*, session: Session, consultation_id: int) -> list[ConsultationEvent]:
    return list(
        session.scalars(
            select(ConsultationEvent)
            .where(ConsultationEvent.consultation_id == consultation_id)
            .order_by(ConsultationEvent.at, ConsultationEvent.id)
        )
    )
