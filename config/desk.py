"""Loads and validates the desk's YAML configuration."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.desk_jobs import DeskJobsConfig
from config.escalations import EscalationsConfig
from config.follow_ups import FollowUpsConfig
from config.outcomes import OutcomesConfig
from config.reminders import RemindersConfig
from config.reporting import ReportingConfig
from config.scheduling import SchedulingConfig
from config.slack import SlackConfig

DEFAULT_CONFIG_PATH = Path(__file__).with_name("kagoshima.yaml")
# The desk's own rule for a button's label: a short phrase that reads on a phone. Every channel shows one
# this long (tests/handlers/test_sending.py checks each renderer's own limit against it).
BUTTON_LABEL_MAX = 20
_HIRAGANA = re.compile(r"^[ぁ-ゖー]+$")
_PREFECTURE = re.compile(r"^(北海道|東京都|(京都|大阪)府|.{2,3}県)$")
NOTICE_FIELDS = (
    "operator",
    "prefecture",
    "phone",
    "email",
    "hours",
    "name",
)  # `desk:` keys the notice may name


class ConfigError(Exception):
    """The desk configuration is broken; the message names the file, the key and the problem."""


LINE_ID = re.compile(r"@[0-9A-Za-z._-]{1,20}")  # a basic id (@ and 8 characters) or a premium one


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """One option the owner can pick: a stable id, a short button label and the full name for reports."""

    id: str
    label: str
    name: str
    aliases: tuple[str, ...] = ()

    @field_validator("label")
    @classmethod
    def _label_fits_a_button(cls, value: str) -> str:
        if not value or len(value) > BUTTON_LABEL_MAX:
            raise ValueError(f"button label must be 1 to {BUTTON_LABEL_MAX} characters: {value!r}")
        return value


class Area(_Strict):
    """A region of the prefecture as owners know it (used for buttons), mapped to an administrative region."""

    id: str
    label: str
    name: str

    @field_validator("label")
    @classmethod
    def _label_fits_a_button(cls, value: str) -> str:
        return Choice._label_fits_a_button(value)


class Region(_Strict):
    """An administrative region (地域振興局・支庁) that reports break down by."""

    id: str
    name: str


class Municipality(_Strict):
    """A municipality of the prefecture with its JIS code, region, button area, aliases and readings."""

    code: str
    name: str
    kana: str
    region: str
    area: str
    aliases: tuple[str, ...] = ()
    readings: tuple[str, ...] = ()  # hiragana forms owners type: the name without 市/町/村, aliases

    @field_validator("code")
    @classmethod
    def _jis_code(cls, value: str) -> str:
        if len(value) != 5 or not value.isdigit():
            raise ValueError(f"JIS code must be 5 digits: {value!r}")
        return value

    @field_validator("kana", "readings")
    @classmethod
    def _hiragana(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for reading in (value,) if isinstance(value, str) else value:
            if not _HIRAGANA.match(reading):
                raise ValueError(f"readings are written in hiragana: {reading!r}")
        return value


class AmbiguousPlace(_Strict):
    """A name (an island, a town name shared with another prefecture) that needs a follow-up question."""

    name: str
    kana: str = ""
    municipalities: tuple[str, ...] = ()  # JIS codes inside the prefecture
    outside: str | None = None  # e.g. "愛媛県松山市": the same name outside the prefecture


class PrivacyNotice(_Strict):
    version: str
    text: str


class Desk(_Strict):
    name: str
    short_name: str
    operator: str = ""  # who runs the desk for the prefecture, e.g. the programme's secretariat (事務局)
    phone: str
    hours: str
    prefecture: str
    email: str = ""
    # Whether owners are told their coordinator's name (a change of coordinator names the new one)
    name_coordinators_to_owners: bool = False
    # The LINE Official Account's basic (or premium) id, e.g. "@123abcde", for add-friend links; "" for none
    line_basic_id: str = ""

    @field_validator("line_basic_id")
    @classmethod
    def _line_id(cls, value: str) -> str:
        value = value.strip()
        if value and not LINE_ID.fullmatch(value):
            raise ValueError(
                "the LINE Official Account's id, with its @, as LINE Official Account Manager shows it "
                "(e.g. @123abcde)"
            )
        return value.lower()

    @property
    def add_friend_url(self) -> str | None:
        """The link that opens the account's add-friend page in LINE (LINE URL scheme), or None."""
        if not self.line_basic_id:
            return None
        return "https://line.me/R/ti/p/%40" + self.line_basic_id.removeprefix("@")


class DeskConfig(_Strict):
    """Everything that makes one desk: who it is, its reference lists and its rules."""

    desk: Desk
    privacy_notice: PrivacyNotice
    regions: tuple[Region, ...]
    areas: tuple[Area, ...]
    municipalities: tuple[Municipality, ...]
    ambiguous_places: tuple[AmbiguousPlace, ...] = ()
    # A former town's name with 市/町/村 that is a municipality of another prefecture: name -> that prefecture.
    outside_homonyms: dict[str, str] = Field(default_factory=dict)
    industries: tuple[Choice, ...]
    categories: tuple[Choice, ...]
    employee_bands: tuple[Choice, ...]
    dx_stages: tuple[Choice, ...]
    methods: tuple[Choice, ...]
    scheduling: SchedulingConfig = Field(default_factory=SchedulingConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    outcomes: OutcomesConfig = Field(default_factory=OutcomesConfig)
    desk_jobs: DeskJobsConfig = Field(default_factory=DeskJobsConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    escalations: EscalationsConfig = Field(default_factory=EscalationsConfig)
    follow_ups: FollowUpsConfig = Field(default_factory=FollowUpsConfig)
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _fill_notice(cls, data: Any) -> Any:
        """Fills the notice's {operator}, {prefecture}, {phone}, {email} and {hours} from `desk:`."""
        desk, notice = (data.get(k) if isinstance(data, dict) else None for k in ("desk", "privacy_notice"))
        if (
            not isinstance(desk, dict)
            or not isinstance(notice, dict)
            or not isinstance(notice.get("text"), str)
        ):
            return data
        text = notice["text"]
        for key in NOTICE_FIELDS:
            text = text.replace("{" + key + "}", str(desk.get(key) or ""))
        return {**data, "privacy_notice": {**notice, "text": text}}

    @model_validator(mode="after")
    def _references_resolve(self) -> DeskConfig:
        region_ids = {r.id for r in self.regions}
        area_ids = {a.id for a in self.areas}
        codes = [m.code for m in self.municipalities]
        if len(set(codes)) != len(codes):
            raise ValueError("municipalities: duplicate JIS code")
        for m in self.municipalities:
            if m.region not in region_ids:
                raise ValueError(f"municipalities.{m.name}.region: unknown region {m.region!r}")
            if m.area not in area_ids:
                raise ValueError(f"municipalities.{m.name}.area: unknown area {m.area!r}")
        for place in self.ambiguous_places:
            for code in place.municipalities:
                if code not in codes:
                    raise ValueError(f"ambiguous_places.{place.name}: unknown municipality code {code!r}")
        for name, prefecture in self.outside_homonyms.items():
            if name[-1:] not in ("市", "町", "村") or not _PREFECTURE.match(prefecture):
                raise ValueError(
                    f"outside_homonyms.{name}: a name ending in 市, 町 or 村 and the prefecture it is in"
                )
        for key in ("industries", "categories", "employee_bands", "dx_stages", "methods"):
            ids = [c.id for c in getattr(self, key)]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{key}: duplicate id")
        problems = self.scheduling.check_references(
            region_ids=region_ids,
            category_ids={c.id for c in self.categories},
            method_ids={m.id for m in self.methods},
            municipality_codes=set(codes),
        )
        if problems:
            raise ValueError("scheduling: " + "; ".join(problems))
        slack_ids = [c.slack_user_id for c in self.scheduling.coordinators if c.slack_user_id]
        if len(set(slack_ids)) != len(slack_ids):
            raise ValueError("scheduling.coordinators: two coordinators have the same slack_user_id")
        return self

    @cached_property
    def municipality_by_code(self) -> dict[str, Municipality]:
        return {m.code: m for m in self.municipalities}

    @cached_property
    def region_by_id(self) -> dict[str, Region]:
        return {r.id: r for r in self.regions}

    def choice(self, kind: str, choice_id: str) -> Choice | None:
        """Returns the choice of a list (industries, categories, ...) by id."""
        return next((c for c in getattr(self, kind) if c.id == choice_id), None)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def load_desk_config(path: str | Path | None = None) -> DeskConfig:
    """Reads the desk YAML; raises ConfigError naming the file, the key and the problem."""
    file = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        raw: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping")
    try:
        return DeskConfig.model_validate({**raw, "source": str(file)})
    except ValidationError as exc:
        raise ConfigError(f"{file}: {_describe(exc)}") from exc
