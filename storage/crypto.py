"""Encryption of personal data at rest: one keyring, one column type, one keyed hash for look-ups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, MetaData, Text, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator


class PIIKeyError(Exception):
    """A PII key is missing or malformed."""


class Keyring:
    """The Fernet keys of MADOGUCHI_PII_KEY: the first encrypts, all decrypt, all hash for look-ups."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise PIIKeyError("no PII key given")
        try:
            self._fernets = [Fernet(k.strip().encode()) for k in keys]
        except (ValueError, TypeError) as exc:
            raise PIIKeyError("a PII key is not a Fernet key (URL-safe base64 of 32 bytes)") from exc
        self._multi = MultiFernet(self._fernets)
        self._hash_keys = [hashlib.sha256(b"madoguchi-lookup:" + k.strip().encode()).digest() for k in keys]

    @classmethod
    def from_setting(cls, value: str) -> Keyring:
        return cls([k for k in value.split(",") if k.strip()])

    def encrypt(self, plain: str) -> str:
        return self._multi.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise PIIKeyError("stored personal data cannot be decrypted with the configured keys") from exc

    def lookup_hash(self, value: str) -> str:
        """The keyed hash stored beside an encrypted identifier, made with the current key."""
        return self.lookup_hashes(value)[0]

    def lookup_hashes(self, value: str) -> list[str]:
        """The keyed hashes of a value under every key, so look-ups still match after a key rotation."""
        return [hmac.new(k, value.encode("utf-8"), hashlib.sha256).hexdigest() for k in self._hash_keys]


def generate_key() -> str:
    """A new Fernet key for MADOGUCHI_PII_KEY."""
    return Fernet.generate_key().decode("ascii")


_keyring: Keyring | None = None


def configure_keyring(keyring: Keyring) -> None:
    """Installs the keyring the encrypted columns use; the composition root calls this once."""
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise PIIKeyError("the PII keyring is not configured")
    return _keyring


class EncryptedText(TypeDecorator[str]):
    """A text column stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(keyring().decrypt(value))


def stored_values(column: ColumnElement[Any], values: list[Any]) -> list[str | None]:
    """The values as an encrypted column stores them (its tokens), all encrypted in one pass: for a
    statement that binds them as they are stored (an array of thousands on PostgreSQL)."""
    kind = column.type
    assert isinstance(kind, EncryptedText | EncryptedJSON)
    return [kind.process_bind_param(value, None) for value in values]  # type: ignore[arg-type]


def is_encrypted(column: ColumnElement[Any]) -> bool:
    """Whether a column holds personal data encrypted with the keyring."""
    return isinstance(column.type, EncryptedText | EncryptedJSON)


def as_stored(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as stored (the token itself), for reading a value that may not decrypt."""
    return type_coerce(column, Text())


def decrypt_stored(column: ColumnElement[Any], token: str | None) -> Any:
    """A stored token of an encrypted column read back as the column would; PIIKeyError when it does not
    decrypt with the configured keys."""
    if token is None:
        return None
    plain = keyring().decrypt(token)
    return json.loads(plain) if isinstance(column.type, EncryptedJSON) else plain


@dataclass(frozen=True)
class KeyCheck:
    """A sample of the stored encrypted values: how many were read, and which did not decrypt, by table."""

    checked: int
    failed_by_table: dict[str, int]

    @property
    def failed(self) -> int:
        return sum(self.failed_by_table.values())


def check_stored_keys(*, connection: Connection, metadata: MetaData, rows_per_table: int = 5) -> KeyCheck:
    """Tries the configured keys on the encrypted values of the latest rows of every table (a cheap sample:
    the newest rows by primary key)."""
    checked = 0
    failed: dict[str, int] = {}
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if is_encrypted(c)]
        if not columns or not table.primary_key.columns:
            continue
        newest = [c.desc() for c in table.primary_key.columns]
        query = select(*[as_stored(c) for c in columns]).order_by(*newest).limit(rows_per_table)
        for row in connection.execute(query):
            for column, token in zip(columns, row, strict=True):
                if token is None:
                    continue
                checked += 1
                try:
                    decrypt_stored(column, token)
                except (PIIKeyError, ValueError):
                    failed[table.name] = failed.get(table.name, 0) + 1
    return KeyCheck(checked=checked, failed_by_table=failed)


def is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (ValueError, TypeError):
        return False
