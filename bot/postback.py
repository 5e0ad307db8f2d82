"""Postback data: which conversation and which question a button belongs to, and its value.

The format `<token>|<step>|<value>` lets a tap from an earlier question or an earlier conversation be
recognised as stale instead of being applied to the wrong question.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = "|"
# The step of buttons sent outside any conversation: a coordinator's proposal of other times (bot/proposals.py)
PROPOSAL = "proposal"


@dataclass(frozen=True)
class Postback:
    token: str
    step: str
    value: str


def encode(token: str, step: str, value: str) -> str:
    """The postback data of a button."""
    return SEPARATOR.join((token, step, value))


def decode(data: str) -> Postback | None:
    """The parts of postback data, or None when it is not ours."""
    parts = data.split(SEPARATOR, 2)
    if len(parts) != 3 or not all(parts[:2]):
        return None
    return Postback(*parts)
