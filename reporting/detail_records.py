"""The detail list's columns from the outcome records: 対応結果, 紹介先 and 紹介日 (only the referrals the owner
agreed to), 紹介した支援制度. The current revision of each of the consultation's records, streamed in the
detail list's own order beside it, so each row takes its records without a query of its own."""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import DeskConfig
from reporting.record_sections import AGREED, RESULT_LABELS, is_current
from storage.clock import JST
from storage.models import Consultation
from storage.outcomes import OutcomeRecord, ReferralConsent

SEPARATOR = "、"
RESULTS = dict(RESULT_LABELS)


def outcome_rows(*, session: Session, start: datetime, end: datetime, batch: int = 500) -> Generator[Any]:
    """The current records of the consultations submitted in [start, end), in the detail list's order
    (submission, id), each consultation's oldest first, with the consent to their referrals; read when
    first asked for, the cursor closed when the generator is."""
    query = (
        select(
            OutcomeRecord.consultation_id,
            OutcomeRecord.result,
            OutcomeRecord.programmes,
            OutcomeRecord.partners,
            OutcomeRecord.vendors,
            ReferralConsent.answer,
            ReferralConsent.answered_at,
        )
        .join(Consultation, Consultation.id == OutcomeRecord.consultation_id)
        .outerjoin(ReferralConsent, ReferralConsent.outcome_id == OutcomeRecord.id)
        .where(Consultation.submitted_at >= start, Consultation.submitted_at < end, is_current())
        .order_by(Consultation.submitted_at, Consultation.id, OutcomeRecord.recorded_at, OutcomeRecord.id)
        .execution_options(yield_per=batch)
    )
    result = session.execute(query)
    try:
        yield from result
    finally:
        result.close()


class RecordCells:
    """Hands each detail row (asked in the detail list's order) the cells of its records."""

    def __init__(self, desk: DeskConfig, rows: Generator[Any]) -> None:
        self.desk = desk
        self.rows = rows
        self.groups = groupby(rows, key=lambda row: row.consultation_id)
        self.ahead: tuple[int, list[Any]] | None = None

    def close(self) -> None:
        self.rows.close()

    def _records(self, consultation_id: int) -> list[Any]:
        if self.ahead is None:
            found = next(self.groups, None)
            self.ahead = (found[0], list(found[1])) if found else None
        if self.ahead is None or self.ahead[0] != consultation_id:
            return []
        records = self.ahead[1]
        self.ahead = None
        return records

    def cells(self, consultation_id: int) -> tuple[str | None, str | None, date | None, str | None]:
        """対応結果 (of the latest record), 紹介先, 紹介日 (the first agreement), 紹介した支援制度."""
        records = self._records(consultation_id)
        if not records:
            return None, None, None, None
        outcomes = self.desk.outcomes
        referred: list[str] = []
        agreed_on: list[date] = []
        programmes: list[str] = []
        for record in records:
            found = (outcomes.programme(p) for p in record.programmes)
            programmes += [p.name if p else code for p, code in zip(found, record.programmes, strict=True)]
            if record.answer != AGREED:
                continue
            partners = (outcomes.partner(p) for p in record.partners)
            referred += [p.name if p else code for p, code in zip(partners, record.partners, strict=True)]
            referred += list(record.vendors)
            if record.answered_at is not None and (record.partners or record.vendors):
                agreed_on.append(record.answered_at.astimezone(JST).date())
        result = records[-1].result
        return (
            RESULTS.get(result, result),
            SEPARATOR.join(dict.fromkeys(referred)) or None,
            min(agreed_on) if agreed_on else None,
            SEPARATOR.join(dict.fromkeys(programmes)) or None,
        )
