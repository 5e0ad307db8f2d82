"""The kinds of answer an intake question takes, and what each kind knows: how it reads back, which stored
values it fills, how the web form shows and checks it, and how the admin API shows it.

A field (bot/fields.py) names its kind; the chat's step for a plain field is built from it in
bot/field_steps.py. Answers are kept under the field's key (a contact's under `phone` and `email`, a meeting's
under `slot` and `slot_later`); stored values under the field's column, or its key when it has none (then in
the consultation's `extra` or, for personal data, `personal_extra`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bot import texts
from bot.normalize import clean_text, is_emoji_only
from bot.validation import check_text, normalize_email, normalize_phone
from config import Choice as DeskChoice
from config import DeskConfig
from config.labels import choice_name, municipality_name, region_name
from scheduling import Slot, label_slot_range

if TYPE_CHECKING:
    from bot.fields import Field

SHORT_MAX = 64  # how much of a select's or a radio's value is kept for showing the form again
PHONE_MAX = 30
EMAIL_MAX = 254

Values = dict[str, Any]


def choices_of(desk: DeskConfig, kind: str) -> Sequence[DeskChoice]:
    """The desk's choices of one kind ("industries", "methods", ...)."""
    return getattr(desk, kind)


def choice_label(desk: DeskConfig, kind: str, choice_id: str | None) -> str:
    """The label of one of the desk's choices, or '' when there is none."""
    found = desk.choice(kind, choice_id) if choice_id else None
    return found.label if found else ""


@dataclass(frozen=True)
class Control:
    """One input of the web form, as the template draws it."""

    name: str  # the input's name and id; its errors are keyed by it
    label: str
    widget: str  # text, textarea, tel, email, select, radio
    required: bool = True
    message: str = ""  # the error when it is missing or not one of the options
    note: str = ""  # after the label, e.g. （代表者を除く）
    help: str = ""  # under the label ({limit} and {prefecture} are filled in)
    maxlength: int | None = None
    keep: int = SHORT_MAX  # characters kept for showing the form again (the checks see all)
    autocomplete: str = ""
    placeholder: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # optgroups: (label, options)
    empty: str = "お選びください"  # a select's empty option
    badge: bool = True  # 必須 or 任意 beside the label


class Kind:
    """A free value kept as it was given (the base of the others)."""

    answered_by: ClassVar[str] = "text"  # what the chat asks for after a sticker (bot/steps.py)
    sample: ClassVar[Any] = "特にありません"  # what the scripted owner of the tests answers

    def describe(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> str:
        value = answers.get(field.key)
        return str(value) if value else ""

    def label(self, field: Field, answers: Mapping[str, Any], *, edit: bool = False) -> str:
        return (field.edit_label or field.label) if edit else field.label

    def given(self, field: Field, answers: Mapping[str, Any]) -> bool:
        return answers.get(field.key) not in (None, "")

    def slots(self, field: Field) -> tuple[str, ...]:
        """The stored values it fills: columns, or its key in extra / personal_extra."""
        return (field.column or field.key,)

    def in_columns(self, field: Field) -> bool:
        """Whether its values are columns of the consultation (else kept in extra / personal_extra)."""
        return field.column is not None

    def personal_slots(self, field: Field) -> tuple[str, ...]:
        return self.slots(field) if field.personal else ()

    def store(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> Values:
        return {self.slots(field)[0]: answers.get(field.key)}

    def load(self, field: Field, stored: Mapping[str, Any]) -> Values:
        """The answers again from the stored values (for a returning owner)."""
        return {field.key: stored.get(self.slots(field)[0])}

    def admin(self, desk: DeskConfig, field: Field, stored: Mapping[str, Any]) -> Values:
        return {field.admin_key or field.key: stored.get(self.slots(field)[0])}

    def controls(self, desk: DeskConfig, field: Field) -> list[Control]:
        return []

    def _control(self, desk: DeskConfig, field: Field, widget: str, **details: Any) -> Control:
        """The field's one input, with what its FormInput says ({limit} and {prefecture} filled in)."""
        form, limit = field.form, getattr(self, "limit", 0)
        return Control(
            name=field.input_name,
            label=form.label or field.label,
            widget=form.widget or widget,
            required=field.required,
            message=form.message,
            note=form.note,
            help=form.help.format(limit=f"{limit:,}", prefecture=desk.desk.prefecture),
            **details,
        )

    def inputs(self, field: Field) -> dict[str, tuple[str, str]]:
        """The form's inputs of the field: (label, message) by input name."""
        return {field.input_name: (field.form.label or field.label, field.form.message)}

    def check_form(self, desk: DeskConfig, field: Field, full: Mapping[str, str], answers: Values) -> Values:
        """Sets the field's answers from the form's values; returns the errors by input name."""
        return {}


@dataclass(frozen=True)
class Text(Kind):
    """Free text with a length limit."""

    limit: int = 1000

    def controls(self, desk: DeskConfig, field: Field) -> list[Control]:
        details = {"maxlength": self.limit, "keep": self.limit * 2, "autocomplete": field.form.autocomplete}
        return [self._control(desk, field, "text", **details)]

    def check_form(self, desk: DeskConfig, field: Field, full: Mapping[str, str], answers: Values) -> Values:
        name = field.input_name
        value = clean_text(full.get(name, "")).strip()
        if not value:
            if field.required:
                return {name: field.form.message}
            answers[field.key] = None
        elif is_emoji_only(value):
            return {name: texts.FORM_EMOJI_ONLY}
        elif error := check_text(full[name], self.limit):
            return {name: error}
        else:
            answers[field.key] = value
        return {}


@dataclass(frozen=True)
class BusinessName(Text):
    """The business's name: a company or trade name (business data, in clear) or, for a sole trader without a
    trade name, the owner's own name (personal data, kept encrypted in `owner_name`)."""

    owner_column: str = "owner_name"
    sole_label: str = texts.SOLE_TRADER_LABEL
    sole_edit_label: str = texts.SOLE_TRADER_EDIT_LABEL

    def label(self, field: Field, answers: Mapping[str, Any], *, edit: bool = False) -> str:
        if answers.get("sole_trader"):
            return self.sole_edit_label if edit else self.sole_label
        return super().label(field, answers, edit=edit)

    def slots(self, field: Field) -> tuple[str, ...]:
        return (field.column or field.key, self.owner_column)

    def personal_slots(self, field: Field) -> tuple[str, ...]:
        return (self.owner_column,)

    def store(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> Values:
        name, sole = answers.get(field.key), bool(answers.get("sole_trader"))
        clear, owner = self.slots(field)
        return {clear: None if sole else name, owner: name if sole else None}

    def load(self, field: Field, stored: Mapping[str, Any]) -> Values:
        clear, owner = self.slots(field)
        return {field.key: stored.get(owner) if stored.get("sole_trader") else stored.get(clear)}

    def admin(self, desk: DeskConfig, field: Field, stored: Mapping[str, Any]) -> Values:
        return {field.admin_key or field.key: stored.get(self.slots(field)[0])}


@dataclass(frozen=True)
class Choice(Kind):
    """One of the desk's choices of a kind (industries, categories, …), optionally none of them."""

    choices: str = ""
    none_label: str | None = None  # offered as a button, and as the form's empty option
    differs_from: str | None = None  # another choice field this one may not repeat
    also: str | None = None  # another field read back with this one: 「業務効率化（ほか：…）」
    answered_by = "buttons"
    sample: ClassVar[Any] = None  # the first button (tests/owner.py FIRST)

    def describe(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> str:
        value = answers.get(field.key)
        if not value:
            return ""
        second = answers.get(self.also) if self.also else None
        extra = texts.SUMMARY_SECOND.format(name=choice_label(desk, self.choices, second)) if second else ""
        return choice_label(desk, self.choices, value) + extra

    def admin(self, desk: DeskConfig, field: Field, stored: Mapping[str, Any]) -> Values:
        value = stored.get(self.slots(field)[0])
        shown = {field.admin_key or field.key: choice_name(desk, self.choices, value)}
        if field.admin_id_key:
            shown[field.admin_id_key] = value
        return shown

    def controls(self, desk: DeskConfig, field: Field) -> list[Control]:
        options = tuple((c.id, c.label) for c in choices_of(desk, self.choices))
        return [
            self._control(desk, field, "select", options=options, empty=self.none_label or "お選びください")
        ]

    def check_form(self, desk: DeskConfig, field: Field, full: Mapping[str, str], answers: Values) -> Values:
        name = field.input_name
        value = full.get(name, "")[:SHORT_MAX]
        if value in ("", "none") and not field.required:
            answers[field.key] = None
        elif desk.choice(self.choices, value) is None:
            return {name: field.form.message}
        elif self.differs_from and value == full.get(self.differs_from, "")[:SHORT_MAX]:
            return {name: texts.FORM_SAME_CHOICE}
        else:
            answers[field.key] = value
        return {}


@dataclass(frozen=True)
class YesNo(Kind):
    """A question of two answers, kept as True (yes) or False (no)."""

    yes: str = "はい"
    no: str = "いいえ"
    yes_value: str = "yes"  # the form's values
    no_value: str = "no"
    no_first: bool = False  # the form and the buttons show the no answer first
    answered_by = "buttons"
    sample: ClassVar[Any] = None

    def describe(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> str:
        value = answers.get(field.key)
        return "" if value is None else (self.yes if value else self.no)

    def given(self, field: Field, answers: Mapping[str, Any]) -> bool:
        return answers.get(field.key) is not None

    def store(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> Values:
        return {self.slots(field)[0]: bool(answers.get(field.key))}

    def options(self) -> tuple[tuple[str, str], ...]:
        pairs = ((self.yes_value, self.yes), (self.no_value, self.no))
        return pairs[::-1] if self.no_first else pairs

    def controls(self, desk: DeskConfig, field: Field) -> list[Control]:
        return [self._control(desk, field, "radio", options=self.options())]

    def check_form(self, desk: DeskConfig, field: Field, full: Mapping[str, str], answers: Values) -> Values:
        value = full.get(field.input_name, "")
        if value not in (self.yes_value, self.no_value):
            return {field.input_name: field.form.message}
        answers[field.key] = value == self.yes_value
        return {}


@dataclass(frozen=True)
class Place(Kind):
    """A municipality of the desk's prefecture, kept as its JIS code (and its region)."""

    region_column: str = "region"
    answered_by = "either"
    sample: ClassVar[Any] = "霧島市"

    def describe(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> str:
        m = desk.municipality_by_code.get(answers.get(field.key) or "")
        return m.name if m else ""

    def slots(self, field: Field) -> tuple[str, ...]:
        return (field.column or field.key, self.region_column)

    def store(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> Values:
        code = answers.get(field.key)
        m = desk.municipality_by_code.get(code or "")
        return {self.slots(field)[0]: code, self.region_column: m.region if m else None}

    def admin(self, desk: DeskConfig, field: Field, stored: Mapping[str, Any]) -> Values:
        code = stored.get(self.slots(field)[0])
        return {
            field.admin_key or field.key: municipality_name(desk, code),
            field.admin_id_key or f"{field.key}_code": code,
            self.region_column: region_name(desk, stored.get(self.region_column)),
        }

    def controls(self, desk: DeskConfig, field: Field) -> list[Control]:
        groups = tuple(
            (area.name, tuple((m.code, m.name) for m in desk.municipalities if m.area == area.id))
            for area in desk.areas
        )
        return [self._control(desk, field, "select", groups=groups)]

    def check_form(self, desk: DeskConfig, field: Field, full: Mapping[str, str], answers: Values) -> Values:
        value = full.get(field.input_name, "")
        if value not in desk.municipality_by_code:
            return {field.input_name: field.form.message}
        answers[field.key] = value
        return {}


@dataclass(frozen=True)
class Contact(Kind):
    """A phone number and/or an e-mail address (at least one), kept as `phone` and `email`."""

    phone_label: str = "電話番号"
    email_label: str = "メールアドレス"
    answered_by = "text"
    sample: ClassVar[Any] = "0991234567"

    def describe(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> str:
        return " / ".join(v for v in (answers.get("phone"), answers.get("email")) if v)

    def given(self, field: Field, answers: Mapping[str, Any]) -> bool:
        return bool(answers.get("phone") or answers.get("email"))

    def slots(self, field: Field) -> tuple[str, ...]:
        return ("phone", "email")

    def in_columns(self, field: Field) -> bool:
        return True

    def store(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> Values:
        return {"phone": answers.get("phone"), "email": answers.get("email")}

    def load(self, field: Field, stored: Mapping[str, Any]) -> Values:
        return {"phone": stored.get("phone"), "email": stored.get("email")}

    def admin(self, desk: DeskConfig, field: Field, stored: Mapping[str, Any]) -> Values:
        return {"phone": stored.get("phone"), "email": stored.get("email")}

    def controls(self, desk: DeskConfig, field: Field) -> list[Control]:
        return [
            Control(
                name="phone",
                label=self.phone_label,
                widget="tel",
                required=False,
                message=texts.FORM_PHONE,
                maxlength=PHONE_MAX,
                keep=PHONE_MAX * 2,
                autocomplete="tel",
                placeholder="099-123-4567",
                badge=False,
            ),
            Control(
                name="email",
                label=self.email_label,
                widget="email",
                required=False,
                message=texts.FORM_EMAIL,
                maxlength=EMAIL_MAX,
                keep=EMAIL_MAX,
                autocomplete="email",
                placeholder="info@example.jp",
                badge=False,
            ),
        ]

    def inputs(self, field: Field) -> dict[str, tuple[str, str]]:
        return {"phone": (self.phone_label, texts.FORM_PHONE), "email": (self.email_label, texts.FORM_EMAIL)}

    def check_form(self, desk: DeskConfig, field: Field, full: Mapping[str, str], answers: Values) -> Values:
        errors: Values = {}
        phone_text, email_text = full.get("phone", "").strip(), full.get("email", "").strip()
        phone = normalize_phone(phone_text) if phone_text else None
        email = normalize_email(email_text) if email_text else None
        if phone_text and phone is None:
            errors["phone"] = texts.FORM_PHONE
        if email_text and email is None:
            errors["email"] = texts.FORM_EMAIL
        if not phone_text and not email_text:
            errors["phone"] = texts.CONTACT_MISSING
        answers["phone"], answers["email"] = phone, email
        return errors


@dataclass(frozen=True)
class Meeting(Kind):
    """A meeting time held for the owner (kept as a booking, not a column), or 日程は相談して決めたい."""

    answered_by = "buttons"
    sample: ClassVar[Any] = None

    def describe(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> str:
        value = answers.get(field.key)
        if value:
            return label_slot_range(Slot.from_dict(value))
        return texts.SLOT_LATER_SUMMARY if answers.get("slot_later") else ""

    def slots(self, field: Field) -> tuple[str, ...]:
        return ()

    def in_columns(self, field: Field) -> bool:
        return True

    def store(self, desk: DeskConfig, field: Field, answers: Mapping[str, Any]) -> Values:
        return {}

    def load(self, field: Field, stored: Mapping[str, Any]) -> Values:
        return {}

    def admin(self, desk: DeskConfig, field: Field, stored: Mapping[str, Any]) -> Values:
        return {}  # the admin API shows the consultation's bookings
