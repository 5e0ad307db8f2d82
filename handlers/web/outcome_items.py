"""A consultation's outcome records as the admin API shows them (GET /api/consultations/{id})."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import outcomes
from storage import outcomes as store
from storage.clock import JST


def outcome_items(session: Session, consultation_id: int) -> list[dict[str, Any]]:
    """Every revision of the consultation's records, oldest first (`current`: the latest of its booking),
    each with the owner's consent to its referrals; `referred` names only what the owner agreed to."""
    records = store.list_outcome_records(session=session, consultation_id=consultation_id)
    latest = {r.booking_id: r.id for r in records}  # ordered by revision: the last one stays
    items = []
    for r in records:
        consent = store.consent_for(session=session, outcome_id=r.id)
        status = outcomes.consent_status(consent)
        agreed = status == "agree"
        items.append(
            {
                "id": r.id,
                "booking_id": r.booking_id,
                "revision": r.revision,
                "current": latest[r.booking_id] == r.id,
                "method": r.method,
                "minutes": r.minutes,
                "onsite": r.onsite,
                "summary": r.summary,
                "result": r.result,
                "programmes": list(r.programmes),
                "next_action": r.next_action,
                "next_action_on": r.next_action_on.isoformat() if r.next_action_on else None,
                "partners": list(r.partners),
                "vendors": list(r.vendors),
                "consent": {
                    "status": status,
                    "asked_at": consent.asked_at.astimezone(JST).isoformat() if consent else None,
                    "answered_at": consent.answered_at.astimezone(JST).isoformat()
                    if consent and consent.answered_at
                    else None,
                },
                "referred": {
                    "partners": list(r.partners) if agreed else [],
                    "vendors": list(r.vendors) if agreed else [],
                },
                "recorded_by": r.recorded_by,
                "recorded_at": r.recorded_at.astimezone(JST).isoformat(),
            }
        )
    return items
