"""The rows `madoguchi demo-data` writes: how they are told from real data (the reference of a demo
consultation starts with DEMO-, and a demo contact has demo consultations only), written in bulk through the
models' own column types (personal data encrypted with the keyring as any other), and removed again."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Connection, Table, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from storage.base import Base
from storage.follow_ups import SatisfactionSurvey
from storage.models import Company, Consultation, Contact, Interaction, OutboxMessage

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
    """Deletes every demo consultation with its contact and company, and all that hangs on them (the
    messages and outbox rows first, by index, so the foreign keys' cascades have little left to look for);
    how many consultations."""
    count = int(session.scalar(select(func.count()).select_from(Consultation).where(is_demo())) or 0)
    if count == 0:
        return 0
    companies = list(session.scalars(select(Consultation.company_id).where(is_demo())))
    consultations = select(Consultation.id).where(is_demo()).scalar_subquery()
    contacts = select(Consultation.contact_id).where(is_demo()).scalar_subquery()
    session.execute(delete(SatisfactionSurvey).where(SatisfactionSurvey.consultation_id.in_(consultations)))
    session.execute(delete(Interaction).where(Interaction.contact_id.in_(contacts)))
    session.execute(delete(OutboxMessage).where(OutboxMessage.contact_id.in_(contacts)))
    session.execute(delete(Contact).where(Contact.id.in_(contacts)))  # their consultations go with them
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
    """Inserts the rows table by table in `order` (a table after those its rows name) and gives each row its
    id: SQLite numbers them after the table's highest id (its write lock is held from the transaction's
    start) and inserts them in one executemany; PostgreSQL takes them from the table's sequence and copies the
    rows in (COPY), each value through its column's type as an INSERT would (personal data encrypted)."""
    by_model: dict[type[Base], list[Row]] = {model: [] for model in order}
    for row in rows:
        by_model[row.model].append(row)
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    written = 0
    for model, batch in by_model.items():
        if not batch:
            continue
        table: Table = model.__table__  # type: ignore[assignment]
        if sqlite:
            first = int(connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
            ids = list(range(first, first + len(batch)))
        else:
            sequence = func.pg_get_serial_sequence(table.name, "id")
            ids = list(
                connection.scalars(
                    select(func.nextval(sequence)).select_from(func.generate_series(1, len(batch)))
                )
            )
        params = []
        for row, new_id in zip(batch, ids, strict=True):
            row.id = int(new_id)
            params.append({"id": row.id, **row.params()})
        if sqlite:
            connection.execute(insert(table), params)
        else:
            _copy(connection, table, params)
        written += len(batch)
    return written


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # what psycopg's dialect sends for a JSON column


def _copy(connection: Connection, table: Table, params: list[dict[str, Any]]) -> None:
    columns = [table.c[name] for name in params[0]]
    processors = [
        _to_json if isinstance(column.type, JSON) else column.type.bind_processor(connection.dialect)
        for column in columns
    ]
    names = ", ".join(connection.dialect.identifier_preparer.quote(column.name) for column in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for values in params:
            copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(processors, values.values(), strict=True)
                ]
            )
