"""Looking for personal data in the whole database: every table and column, encrypted columns decrypted."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.crypto import Keyring, PIIKeyError


def _readable(value: Any, ring: Keyring) -> str:
    """A stored value as text a person would read: decrypted, JSON unescaped."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        return str(value)
    readable = value
    if value.startswith("gAAAAA"):  # a Fernet token
        try:
            readable = ring.decrypt(value)
        except PIIKeyError:
            return value
    try:
        return json.dumps(json.loads(readable), ensure_ascii=False)  # JSON columns escape non-ASCII
    except ValueError:
        return readable


def find_in_database(conn: Connection, ring: Keyring, needles: list[str]) -> list[str]:
    """Where any of the strings is stored, as `table.column#row: needle`, after decrypting every value."""
    found: list[str] = []
    for table in inspect(conn).get_table_names():
        for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                readable = _readable(value, ring)
                found += [f"{table}.{column}#{row.get('id')}: {n}" for n in needles if n in readable]
    return found


def count_tables(conn: Connection) -> int:
    """How many tables were scanned (so a scan of nothing cannot pass)."""
    return len(inspect(conn).get_table_names())
