"""Many rows in one PostgreSQL statement: their values as one JSON parameter, read back with
`json_to_recordset`. The driver sends a single string (json.dumps, in C) where arrays of thousands of
values would cost it more to dump, value by value, than the server spends on the statement."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no place in a timestamptz column")
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as a JSON array of objects (datetimes as ISO 8601 in UTC), for `json_to_recordset`."""
    return json.dumps(list(rows), default=_default, ensure_ascii=False, separators=(",", ":"))


def id_in(
    column: ColumnElement[int] | InstrumentedAttribute[int], name: str, *, postgresql: bool
) -> ColumnElement[bool]:
    """`column IN (:name)` for a list of ids: on PostgreSQL `= ANY` of one array parameter (the statement's
    text is the same whatever their number, so the driver converts it once; an expanding IN renders a
    placeholder per id), elsewhere an expanding IN."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))
