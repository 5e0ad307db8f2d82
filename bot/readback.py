"""How answers read back to the owner: one answer in words, and the summary's 「label：value」 lines, both
from the field registry (bot/fields.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.field_kinds import choice_label, choices_of
from bot.fields import FIELDS, label
from config import DeskConfig

__all__ = ["choice_label", "choices_of", "describe_answer", "summary_lines"]


def describe_answer(desk: DeskConfig, answers: Mapping[str, Any], key: str) -> str:
    """One answer as the owner would read it, or '' when it is not given yet."""
    field = FIELDS.get(key)
    if field is None:
        value = answers.get(key)
        return str(value) if value else ""
    return field.kind.describe(desk, field, answers)


def summary_lines(desk: DeskConfig, answers: Mapping[str, Any], keys: Sequence[str]) -> str:
    """The answers as 「label：value」 lines."""
    return "\n".join(f"{label(FIELDS[k], answers)}：{describe_answer(desk, answers, k) or '—'}" for k in keys)
