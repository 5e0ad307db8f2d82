"""How answers read back to the owner: one answer in words, and the summary's 「label：value」 lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import texts
from config import Choice, DeskConfig
from scheduling import Slot, label_slot_range


def choices_of(desk: DeskConfig, kind: str) -> Sequence[Choice]:
    """The desk's choices of one kind ("industries", "methods", ...)."""
    return getattr(desk, kind)


def choice_label(desk: DeskConfig, kind: str, choice_id: str | None) -> str:
    """The label of one of the desk's choices, or '' when there is none."""
    found = desk.choice(kind, choice_id) if choice_id else None
    return found.label if found else ""


def describe_answer(desk: DeskConfig, answers: dict[str, Any], key: str) -> str:
    """One answer as the owner would read it, or '' when it is not given yet."""
    value = answers.get(key)
    match key:
        case "sole_trader":
            if value is None:
                return ""
            return texts.COMPANY_KIND_SOLE if value else texts.COMPANY_KIND_COMPANY
        case "industry":
            return choice_label(desk, "industries", value)
        case "municipality":
            m = desk.municipality_by_code.get(value or "")
            return m.name if m else ""
        case "employees":
            return choice_label(desk, "employee_bands", value)
        case "category":
            second = answers.get("category2")
            extra = (
                texts.SUMMARY_SECOND.format(name=choice_label(desk, "categories", second)) if second else ""
            )
            return choice_label(desk, "categories", value) + extra if value else ""
        case "category2":
            return choice_label(desk, "categories", value)
        case "dx_stage":
            return choice_label(desk, "dx_stages", value)
        case "method":
            return choice_label(desk, "methods", value)
        case "contact":
            return " / ".join(v for v in (answers.get("phone"), answers.get("email")) if v)
        case "slot":
            if value:
                return label_slot_range(Slot.from_dict(value))
            return texts.SLOT_LATER_SUMMARY if answers.get("slot_later") else ""
        case _:
            return str(value) if value else ""


def summary_lines(desk: DeskConfig, answers: dict[str, Any], keys: Sequence[str]) -> str:
    """The answers as 「label：value」 lines."""
    labels = {**texts.SUMMARY_LABELS}
    if answers.get("sole_trader"):
        labels["company_name"] = texts.SOLE_TRADER_LABEL
    return "\n".join(f"{labels[k]}：{describe_answer(desk, answers, k) or '—'}" for k in keys)
