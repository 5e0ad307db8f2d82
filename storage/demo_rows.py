"""The rows `madoguchi demo-data` writes: how they are told from real data (the reference of a demo
consultation starts with DEMO-, and a demo contact has demo consultations only), written in bulk through the
models' own column types (personal data encrypted with the keyring as any other), and removed again."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from storage.base import Base
from storage.models import Company, Consultation, Contact

DEMO_PREFIX = "DEMO-"


def is_demo() -> Any:
    """Whether a consultation was made by demo-data (a SQL condition)."""
    return Consultation.reference.startswith(DEMO_PREFIX, autoescape=True)


@dataclass(frozen=True)
class RealData:
    """What the database holds that demo-data did not make."""

    consultations: int
    contacts: int

    def __bool__(self) -> bool:
        return bool(self.consultations or self.contacts)


def count_real_data(*, session: Session) -> RealData:
    """The consultations not made by demo-data, and the contacts with no demo consultation (a LINE friend
    who never asked anything is real data too)."""
    consultations = session.scalar(select(func.count()).select_from(Consultation).where(~is_demo()))
    demo_contact = exists().where(Consultation.contact_id == Contact.id, is_demo())
    contacts = session.scalar(select(func.count()).select_from(Contact).where(~demo_contact))
    return RealData(consultations=int(consultations or 0), contacts=int(contacts or 0))


def remove_demo_data(*, session: Session) -> int:
    """Deletes every demo consultation with its contact and company (their bookings, history, records,
    messages and outbox rows go with them, by the foreign keys' cascades); how many consultations."""
    count = int(session.scalar(select(func.count()).select_from(Consultation).where(is_demo())) or 0)
    if count == 0:
        return 0
    companies = list(session.scalars(select(Consultation.company_id).where(is_demo())))
    contacts = select(Consultation.contact_id).where(is_demo()).scalar_subquery()
    session.execute(delete(Contact).where(Contact.id.in_(contacts)))
    session.execute(delete(Consultation).where(is_demo()))  # none left: a demo contact has demo ones only
    for start in range(0, len(companies), 500):
        session.execute(delete(Company).where(Company.id.in_(companies[start : start + 500])))
    return count


Value = Any  # a column's value, or a callable giving it once the rows it names have their ids


@dataclass(eq=False)
class Row:
    """One row to insert: its values, and the rows its foreign keys name (their ids known once written)."""

    model: type[Base]
    values: dict[str, Value]
    refs: dict[str, Row | None] = field(default_factory=dict)
    id: int | None = None

    def params(self) -> dict[str, Any]:
        values = {k: v() if callable(v) else v for k, v in self.values.items()}
        values.update({k: None if ref is None else ref.id for k, ref in self.refs.items()})
        return values


def write_rows(*, session: Session, rows: Iterable[Row], order: Sequence[type[Base]]) -> int:
    """Inserts the rows table by table in `order` (a table after those its rows name), one multi-row
    INSERT … RETURNING per table, and gives each row its id; how many rows."""
    by_model: dict[type[Base], list[Row]] = {model: [] for model in order}
    for row in rows:
        by_model[row.model].append(row)
    written = 0
    for model, batch in by_model.items():
        if not batch:
            continue
        primary: Callable[[], Any] = model.__table__.c.id  # type: ignore[attr-defined]
        statement = insert(model).returning(primary, sort_by_parameter_order=True)
        ids = session.scalars(statement, [row.params() for row in batch]).all()
        for row, new_id in zip(batch, ids, strict=True):
            row.id = int(new_id)
        written += len(batch)
    return written
