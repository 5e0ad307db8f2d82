"""Encryption of personal data at rest: one keyring, one column type, one keyed hash for look-ups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
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
        except InvalidToken as exc:
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


def is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (ValueError, TypeError):
        return False
