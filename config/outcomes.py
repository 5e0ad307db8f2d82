"""`outcomes:` in the desk YAML: what a coordinator's outcome record of a consultation chooses from, the
support programmes introduced and the partner institutions referred to (the domain notes' lists)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

OPTION_TEXT_MAX = 75  # a Slack select option's text


class Listed(BaseModel):
    """A programme or a partner: a stable id (reports count by it) and its name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    url: str = ""

    @field_validator("name")
    @classmethod
    def _fits_an_option(cls, value: str) -> str:
        if not value or len(value) > OPTION_TEXT_MAX:
            raise ValueError(f"a name is 1 to {OPTION_TEXT_MAX} characters: {value!r}")
        return value


class OutcomesConfig(BaseModel):
    """The support programmes and the partner institutions an outcome record names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    programmes: tuple[Listed, ...] = ()
    partners: tuple[Listed, ...] = ()

    @field_validator("programmes", "partners")
    @classmethod
    def _unique_ids(cls, value: tuple[Listed, ...]) -> tuple[Listed, ...]:
        ids = [item.id for item in value]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate id")
        if len(ids) > 100:  # a Slack select offers at most 100 options
            raise ValueError("at most 100 entries")
        return value

    def programme(self, programme_id: str) -> Listed | None:
        return next((p for p in self.programmes if p.id == programme_id), None)

    def partner(self, partner_id: str) -> Listed | None:
        return next((p for p in self.partners if p.id == partner_id), None)
