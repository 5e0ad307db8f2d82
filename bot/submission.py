"""Turning a finished intake into a stored consultation, for every channel (chat and web form)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from config import DeskConfig
from storage.clock import JST, Clock
from storage.consultations import create_consultation, latest_consultation
from storage.models import Consultation, Contact

REQUIRED = (
    "company_name",
    "contact_name",
    "industry",
    "municipality",
    "employees",
    "category",
    "description",
    "dx_stage",
    "method",
)


class IncompleteIntake(ValueError):
    """Answers are missing; the message names them."""


def consultation_fields(desk: DeskConfig, answers: dict[str, Any]) -> dict[str, Any]:
    """The consultation's columns from the intake answers."""
    missing = [k for k in REQUIRED if not answers.get(k)]
    if not (answers.get("phone") or answers.get("email")):
        missing.append("phone/email")
    if missing:
        raise IncompleteIntake(", ".join(missing))
    municipality = desk.municipality_by_code[answers["municipality"]]
    sole_trader = bool(answers.get("sole_trader"))
    return {
        # A sole trader without a trade name gave their own name: personal data, kept encrypted.
        "company_name": None if sole_trader else answers["company_name"],
        "sole_trader": sole_trader,
        "owner_name": answers["company_name"] if sole_trader else None,
        "contact_name": answers["contact_name"],
        "phone": answers.get("phone"),
        "email": answers.get("email"),
        "industry": answers["industry"],
        "municipality_code": municipality.code,
        "region": municipality.region,
        "employee_band": answers["employees"],
        "category": answers["category"],
        "category_secondary": answers.get("category2"),
        "description": answers["description"],
        "dx_stage": answers["dx_stage"],
        "method": answers["method"],
        "notice_version": answers.get("_consented") or desk.privacy_notice.version,
    }


def submit_intake(
    *,
    session: Session,
    desk: DeskConfig,
    contact: Contact,
    channel: str,
    answers: dict[str, Any],
    clock: Clock,
) -> Consultation:
    """Stores the consultation as submitted, with its company and history."""
    now = clock.now()
    return create_consultation(
        session=session,
        contact=contact,
        channel=channel,
        fields=consultation_fields(desk, answers),
        submitted_at=now,
        reference_prefix=now.astimezone(JST).strftime("%Y%m"),
    )


def previous_answers(*, session: Session, contact_id: int) -> dict[str, Any] | None:
    """The company answers of the contact's last consultation, for a returning owner to reuse."""
    last = latest_consultation(session=session, contact_id=contact_id)
    if last is None:
        return None
    return {
        "sole_trader": last.sole_trader,
        "company_name": last.owner_name if last.sole_trader else last.company_name,
        "contact_name": last.contact_name,
        "industry": last.industry,
        "municipality": last.municipality_code,
        "employees": last.employee_band,
    }
