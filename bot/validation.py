"""Checks of what an owner types, shared by the chat flows and the web form."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from bot import texts
from bot.normalize import clean_text, has_visible

COMPANY_MAX = 100
CONTACT_NAME_MAX = 50
DESCRIPTION_MAX = 1000

_PHONE_STRIP = re.compile(r"[\s\-‐‑‒–—―ー−()（）]")
_PHONE = re.compile(r"^(?:\+81|0)\d{9,10}$")
_SPLIT = re.compile(r"[\s,、，;；/／]+")


def check_text(value: str, limit: int) -> str | None:
    """The error to show for a free-text answer, or None when it is fine: something visible, within the limit
    once the invisible characters around it are taken off."""
    if not has_visible(value):
        return texts.EMPTY
    length = len(clean_text(value))
    if length > limit:
        return texts.TOO_LONG.format(limit=f"{limit:,}", length=f"{length:,}")
    return None


def normalize_phone(token: str) -> str | None:
    """A Japanese phone number as digits and hyphens as typed, or None when it is not one."""
    folded = unicodedata.normalize("NFKC", token).strip()
    digits = _PHONE_STRIP.sub("", folded)
    if not _PHONE.match(digits):
        return None
    return re.sub(r"[^\d+\-]", "", folded.replace("ー", "-").replace("−", "-"))


def normalize_email(token: str) -> str | None:
    """The e-mail address normalised, or None when its syntax is wrong (no DNS look-up)."""
    try:
        return validate_email(
            unicodedata.normalize("NFKC", token).strip(), check_deliverability=False
        ).normalized
    except EmailNotValidError:
        return None


@dataclass(frozen=True)
class ContactDetails:
    phone: str | None
    email: str | None


def parse_contact(text: str) -> ContactDetails | str:
    """Phone and/or e-mail from one answer, or the error to show."""
    folded = unicodedata.normalize("NFKC", clean_text(text))
    tokens = [t for t in _SPLIT.split(folded) if has_visible(t)]
    email: str | None = None
    rest: list[str] = []
    for token in tokens:
        if "@" in token:
            email = normalize_email(token)
            if email is None:
                return texts.CONTACT_INVALID.format(token=token[:40])
        else:
            rest.append(token)
    phone: str | None = None
    if rest:
        # "099 123 4567" is one number written with spaces
        phone = normalize_phone("-".join(rest)) if len(rest) > 1 else normalize_phone(rest[0])
        if phone is None:
            return texts.CONTACT_INVALID.format(token=" ".join(rest)[:40])
    if not phone and not email:
        return texts.CONTACT_MISSING
    return ContactDetails(phone, email)
