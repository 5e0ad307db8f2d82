"""The intake's questions as one registry: each field's key, stored column, label, limit, kind and whether it
is personal data, with what the web form and the admin API show of it.

`FIELDS` feeds the chat's steps (bot/intake.py, through bot/field_steps.py), the summary and read-back
(bot/readback.py), the consultation's stored values (bot/submission.py), the web form (handlers/web/form.py)
and the admin API (handlers/web/admin.py). A question added here appears in all of them; a field with no
column of its own is kept in the consultation's `extra` (JSON) or, when personal, `personal_extra`
(encrypted). One name per field everywhere (answers, form inputs, admin keys); only `column` maps it to the
table where the two differ (`employees` → `employee_band`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bot import texts
from bot.field_kinds import (
    BusinessName,
    Choice,
    Contact,
    Kind,
    Meeting,
    Place,
    Text,
    YesNo,
)
from bot.validation import COMPANY_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX
from config import DeskConfig

EXTRA = "extra"  # the consultation's JSON of fields without a column
PERSONAL_EXTRA = "personal_extra"  # the same for personal data, encrypted


class IncompleteIntake(ValueError):
    """Answers are missing; the message names them."""


@dataclass(frozen=True)
class FormInput:
    """How the web form shows a field (the kind draws the input)."""

    label: str = ""  # the form's label, and the name its errors begin with (default: the field's label)
    message: str = ""  # the error when it is missing or not one of the choices
    name: str = ""  # the input's name, where it is not the field's key
    note: str = ""  # after the label, e.g. （代表者を除く）
    help: str = ""  # under the label; {limit} and {prefecture} are filled in
    widget: str = ""  # text, textarea, select, radio (default: the kind's)
    autocomplete: str = ""
    section: str = ""  # a card with this heading begins at this field
    section_help: str = ""
    beside: str = ""  # shown in one row beside this (earlier) field
    shown: bool = True  # False: not on the form (a meeting time is chosen on a page of its own)


@dataclass(frozen=True)
class Field:
    """One question of the intake and its answer."""

    key: str  # the answer's name in every layer
    label: str  # in the summary and the read-back
    kind: Kind
    column: str | None = None  # the consultation's column; None: kept in extra / personal_extra (unless
    # its kind has columns of its own: a contact's phone and email, a meeting's booking)
    personal: bool = False  # personal data: encrypted at rest, shown only in the admin API's detail
    required: bool = True
    edit_label: str = ""  # in the list of answers to change, where it is not `label`
    prompt: str = ""  # the chat's question, for a field whose step is built from it
    prompt_more: str = ""  # the question on the next page of buttons
    more_label: str = ""  # the button to the next page
    summary: bool = True  # read back in the summary (and editable from it)
    reusable: bool = False  # offered again to a returning owner
    form: FormInput = field(default_factory=FormInput)
    admin_key: str = ""  # the admin API's key, where it is not `key`
    admin_id_key: str = ""  # where the admin API shows a choice's id beside its label

    @property
    def input_name(self) -> str:
        return self.form.name or self.key

    @property
    def limit(self) -> int | None:
        return self.kind.limit if isinstance(self.kind, Text) else None


def label(field: Field, answers: Mapping[str, Any], *, edit: bool = False) -> str:
    """The field's label for these answers (a sole trader's name is labelled as such)."""
    return field.kind.label(field, answers, edit=edit)


class Registry:
    """The ordered fields; `version` changes whenever one is added or removed, so tables built from them
    (the intake's steps) are built again."""

    def __init__(self, fields: list[Field]) -> None:
        self._fields = list(fields)
        self.version = 0

    def __iter__(self) -> Iterator[Field]:
        return iter(list(self._fields))

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, key: object) -> bool:
        return any(f.key == key for f in self._fields)

    def __getitem__(self, key: str) -> Field:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str) -> Field | None:
        return next((f for f in self._fields if f.key == key), None)

    def keys(self) -> list[str]:
        return [f.key for f in self._fields]

    # Changing the registry (a test adds a question of its own in one place)
    def add(self, new: Field, *, after: str | None = None) -> None:
        """Adds a field after `after` (at the end without it)."""
        if new.key in self:
            raise ValueError(f"a field {new.key!r} exists already")
        at = self.keys().index(after) + 1 if after else len(self._fields)
        self._fields.insert(at, new)
        self.version += 1

    def remove(self, key: str) -> None:
        self._fields.remove(self[key])
        self.version += 1

    @contextmanager
    def added(self, new: Field, *, after: str | None = None) -> Iterator[Field]:
        """The registry with one more field while the block runs."""
        self.add(new, after=after)
        try:
            yield new
        finally:
            self.remove(new.key)

    # What the layers ask
    def summary(self) -> list[Field]:
        return [f for f in self._fields if f.summary]

    def reusable(self) -> list[Field]:
        return [f for f in self._fields if f.reusable]

    def on_form(self) -> list[Field]:
        return [f for f in self._fields if f.form.shown]

    def columns(self) -> tuple[str, ...]:
        """The consultation's columns the fields fill."""
        return tuple(s for f in self._fields if f.kind.in_columns(f) for s in f.kind.slots(f))

    def personal_columns(self) -> tuple[str, ...]:
        """The consultation's columns that hold personal data (encrypted), and personal_extra."""
        own = tuple(s for f in self._fields if f.kind.in_columns(f) for s in f.kind.personal_slots(f))
        return (*own, PERSONAL_EXTRA)

    def missing(self, answers: Mapping[str, Any]) -> list[str]:
        return [f.key for f in self._fields if f.required and not f.kind.given(f, answers)]

    def stored(self, desk: DeskConfig, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The consultation's values from complete answers: its columns, `extra` and `personal_extra`."""
        missing = self.missing(answers)
        if missing:
            raise IncompleteIntake(", ".join(missing))
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        personal: dict[str, Any] = {}
        for f in self._fields:
            stored = f.kind.store(desk, f, answers)
            if f.kind.in_columns(f):
                values.update(stored)
            else:
                (personal if f.personal else extra).update(stored)
        values[EXTRA] = extra or None
        values[PERSONAL_EXTRA] = personal or None
        return values

    def answers_from(self, stored: Mapping[str, Any], fields: list[Field] | None = None) -> dict[str, Any]:
        """The answers again from a consultation's stored values (columns, with extra and personal_extra)."""
        flat = {**stored, **(stored.get(EXTRA) or {}), **(stored.get(PERSONAL_EXTRA) or {})}
        answers: dict[str, Any] = {}
        for f in self._fields if fields is None else fields:
            answers.update(f.kind.load(f, flat))
        return answers

    def admin(self, desk: DeskConfig, stored: Mapping[str, Any], *, personal: bool) -> dict[str, Any]:
        """The fields as the admin API shows them: the clear ones, or (personal=True) the personal ones
        that have no column of their own."""
        flat = {**stored, **(stored.get(EXTRA) or {}), **(stored.get(PERSONAL_EXTRA) or {})}
        shown: dict[str, Any] = {}
        for f in self._fields:
            if personal and f.personal and not f.kind.in_columns(f) or not personal and not f.personal:
                shown.update(f.kind.admin(desk, f, flat))
        return shown


def _company() -> FormInput:
    return FormInput(
        label="会社名・屋号（屋号なしの場合は事業主のお名前）",
        message="会社名・屋号、またはお名前をご入力ください。",
        help="個人で屋号がない場合は、事業主のお名前をご入力ください（個人情報として暗号化して保管します）。",
        autocomplete="organization",
    )


# The intake's questions, in the order the chat asks them.
FIELDS = Registry(
    [
        Field(
            "sole_trader",
            "会社名・屋号の有無",
            YesNo(
                yes=texts.COMPANY_KIND_SOLE,
                no=texts.COMPANY_KIND_COMPANY,
                yes_value="sole_trader",
                no_value="company",
                no_first=True,
            ),
            column="sole_trader",
            summary=False,
            reusable=True,
            form=FormInput(
                name="company_kind",
                message="「法人・屋号あり」か「個人で屋号なし」をお選びください。",
                section="会社・ご担当者",
            ),
        ),
        Field(
            "company_name",
            "会社名・屋号",
            BusinessName(limit=COMPANY_MAX),
            column="company_name",
            reusable=True,
            form=_company(),
        ),
        Field(
            "contact_name",
            "ご担当者",
            Text(limit=CONTACT_NAME_MAX),
            column="contact_name",
            personal=True,
            reusable=True,
            form=FormInput(
                label="ご担当者のお名前", message="ご担当者のお名前をご入力ください。", autocomplete="name"
            ),
        ),
        Field(
            "industry",
            "業種",
            Choice(choices="industries"),
            column="industry",
            prompt=texts.ASK_INDUSTRY,
            prompt_more=texts.ASK_INDUSTRY_MORE,
            more_label=texts.NEXT_PAGE,
            reusable=True,
            form=FormInput(message="一覧からお選びください。"),
            admin_key="industry_name",
            admin_id_key="industry",
        ),
        Field(
            "municipality",
            "所在地",
            Place(),
            column="municipality_code",
            reusable=True,
            form=FormInput(
                label="事業所の所在地",
                note="（市町村）",
                message="市町村を一覧からお選びください。",
                help="{prefecture}内の事業者さまが対象です。",
            ),
            admin_id_key="municipality_code",
        ),
        Field(
            "employees",
            "従業員数",
            Choice(choices="employee_bands"),
            column="employee_band",
            prompt=texts.ASK_EMPLOYEES,
            reusable=True,
            form=FormInput(note="（代表者を除く）", message="一覧からお選びください。", beside="industry"),
        ),
        Field(
            "category",
            "相談分野",
            Choice(choices="categories", also="category2"),
            column="category",
            prompt=texts.ASK_CATEGORY,
            prompt_more=texts.ASK_CATEGORY_MORE,
            more_label=texts.NEXT_PAGE_CATEGORY,
            form=FormInput(label="ご相談の分野", message="一覧からお選びください。", section="ご相談の内容"),
            admin_id_key="category_id",
        ),
        Field(
            "category2",
            "ほかに関係する分野",
            Choice(choices="categories", none_label=texts.NO_SECOND, differs_from="category"),
            column="category_secondary",
            required=False,
            prompt=texts.ASK_CATEGORY2,
            prompt_more=texts.ASK_CATEGORY2,
            more_label=texts.NEXT_PAGE_CATEGORY,
            summary=False,  # read back with the first
            form=FormInput(
                message="一覧からお選びください（なければ「特になし」のままで結構です）。", beside="category"
            ),
            admin_key="category_secondary",
        ),
        Field(
            "description",
            "ご相談内容",
            Text(limit=DESCRIPTION_MAX),
            column="description",
            personal=True,
            prompt=texts.ASK_DESCRIPTION,
            form=FormInput(
                label="ご相談したい内容",
                message="ご相談したい内容をご入力ください。",
                help="具体的にお書きください（{limit}文字以内）。例：紙の注文書をやめて、受発注を効率化したい",
                widget="textarea",
            ),
        ),
        Field(
            "dx_stage",
            "取り組み状況",
            Choice(choices="dx_stages"),
            column="dx_stage",
            prompt=texts.ASK_DX_STAGE,
            form=FormInput(
                label="デジタル化の取り組み状況", message="近いものを一つお選びください。", widget="radio"
            ),
        ),
        Field(
            "method",
            "相談方法",
            Choice(choices="methods"),
            column="method",
            prompt=texts.ASK_METHOD,
            form=FormInput(
                label="ご希望の相談方法",
                message="ご希望の方法を一つお選びください。",
                help=texts.FORM_METHOD_HELP,
                widget="radio",
            ),
            admin_id_key="method_id",
        ),
        Field(
            "slot",
            "ご希望の日時",
            Meeting(),
            required=False,
            edit_label="希望日時",
            form=FormInput(shown=False),
        ),
        Field(
            "contact",
            "ご連絡先",
            Contact(),
            personal=True,
            form=FormInput(
                section="ご連絡先",
                section_help="電話番号かメールアドレスの、少なくとも一つをご入力ください。",
            ),
        ),
    ]
)
