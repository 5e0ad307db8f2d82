"""Stored codes read as the desk's names wherever they are shown (the admin API today, reports next)."""

from __future__ import annotations

from config import load_desk_config
from config.labels import choice_name, municipality_name, region_name


def test_codes_read_as_the_desks_names() -> None:
    desk = load_desk_config()
    assert choice_name(desk, "industries", "E") == "製造業"
    assert municipality_name(desk, "46201") == "鹿児島市"
    assert region_name(desk, "nansatsu") == "南薩地域振興局"


def test_a_code_the_desk_no_longer_lists_is_shown_as_stored_and_none_stays_none() -> None:
    desk = load_desk_config()
    assert choice_name(desk, "industries", "ZZ") == "ZZ"
    assert region_name(desk, "gone") == "gone"
    assert municipality_name(desk, "99999") is None
    assert (
        choice_name(desk, "industries", None),
        municipality_name(desk, None),
        region_name(desk, None),
    ) == (
        None,
        None,
        None,
    )
