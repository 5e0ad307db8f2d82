"""What a stored code reads as: the full names of the desk's choices, municipalities and regions, as the
admin API and the reports show them."""

from __future__ import annotations

from config.desk import DeskConfig


def choice_name(desk: DeskConfig, kind: str, choice_id: str | None) -> str | None:
    """The full name of a choice of the list `kind` (industries, categories, ...); an id the desk does not
    list (any more) is shown as it was stored, and no id as None."""
    if not choice_id:
        return choice_id
    choice = desk.choice(kind, choice_id)
    return choice.name if choice else choice_id


def municipality_name(desk: DeskConfig, code: str | None) -> str | None:
    """The municipality's name for its JIS code, or None for a code the desk does not list."""
    municipality = desk.municipality_by_code.get(code) if code else None
    return municipality.name if municipality else None


def region_name(desk: DeskConfig, region_id: str | None) -> str | None:
    """The region's name, or the stored id for one the desk does not list."""
    region = desk.region_by_id.get(region_id) if region_id else None
    return region.name if region else region_id
