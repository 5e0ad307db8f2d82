"""The detail list (相談対応実績一覧): one row per consultation with the columns of the domain notes §6.1,
streamed from the database. The prefecture's copy has no personal data; the desk's internal copy adds the
contact's name, phone and e-mail, a sole trader's own name and the free text (decrypted where it can)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config import DeskConfig
from config.labels import choice_name, municipality_name, region_name
from reporting.counts import HELD_BOOKING
from reporting.detail_records import RecordCells, outcome_rows
from storage.bookings import Booking
from storage.clock import JST
from storage.crypto import PIIKeyError, as_stored, decrypt_stored
from storage.models import Consultation

UNREADABLE = "（復号できません）"
SOLE_TRADER_HIDDEN = "（個人事業主・屋号なし）"
CHANNELS = {
    "line": "LINE",
    "simulator": "LINE（デモ）",
    "web": "Webフォーム",
    "cli": "端末",
    "mail": "メール",
}
STATUSES = {"submitted": "受付済み", "in_progress": "対応中", "closed": "対応完了", "withdrawn": "取り下げ"}
PERSONAL = ("contact_name", "phone", "email", "owner_name", "description")


@dataclass(frozen=True)
class DetailColumn:
    title: str
    kind: str = "text"  # text, int, date, time
    width: int = 12  # characters, for the xlsx
    personal: bool = False


COLUMNS: tuple[DetailColumn, ...] = (
    DetailColumn("No.", "int", 5),
    DetailColumn("受付番号", width=14),
    DetailColumn("受付日", "date", 11),
    DetailColumn("受付時刻", "time", 8),
    DetailColumn("受付経路", width=10),
    DetailColumn("相談者（企業名・屋号）", width=26),
    DetailColumn("個人事業主", width=8),
    DetailColumn("担当者名", width=14, personal=True),
    DetailColumn("電話番号", width=14, personal=True),
    DetailColumn("メールアドレス", width=24, personal=True),
    DetailColumn("業種", width=20),
    DetailColumn("所在地（市町村）", width=12),
    DetailColumn("市町村コード", width=10),
    DetailColumn("地域", width=18),
    DetailColumn("従業員規模", width=12),
    DetailColumn("相談方法", width=14),
    DetailColumn("相談区分", width=28),
    DetailColumn("相談区分（副）", width=28),
    DetailColumn("DXの取組状況", width=12),
    DetailColumn("状況", width=10),
    DetailColumn("対応日", "date", 11),
    DetailColumn("対応時刻", "time", 8),
    DetailColumn("所要時間（分）", "int", 8),
    DetailColumn("対応者", width=14),
    DetailColumn("新規/継続", width=9),
    DetailColumn("対応結果", width=12),
    DetailColumn("紹介先", width=24),
    DetailColumn("紹介日", "date", 11),
    DetailColumn("紹介した支援制度", width=28),
    DetailColumn("次回対応予定", "date", 11),
    DetailColumn("相談内容（概要）", width=40, personal=True),
    DetailColumn("備考", width=16),
)


def columns(*, include_personal: bool) -> tuple[DetailColumn, ...]:
    return tuple(c for c in COLUMNS if include_personal or not c.personal)


Cell = str | int | date | None


def _held(now: datetime) -> Any:
    """A meeting held: done, or confirmed and begun."""
    return Booking.status.in_(HELD_BOOKING) | ((Booking.status == "confirmed") & (Booking.starts_at < now))


def _first_held(column: Any, now: datetime) -> Any:
    """The consultation's first held meeting's `column` (a lookup by the booking's consultation index):
    its id, which the detail query joins the booking by."""
    return (
        select(column)
        .where(Booking.consultation_id == Consultation.id, _held(now))
        .order_by(Booking.starts_at, Booking.id)
        .limit(1)
        .scalar_subquery()
    )


def _next_meeting(now: datetime) -> Any:
    return (
        select(func.min(Booking.starts_at))
        .where(
            Booking.consultation_id == Consultation.id,
            Booking.status == "confirmed",
            Booking.starts_at >= now,
        )
        .scalar_subquery()
    )


class _Lookup(dict[str | None, str | None]):
    """A code's name, found once per code (config.labels), then read from the dict."""

    def __init__(self, find: Callable[[str | None], str | None]) -> None:
        super().__init__()
        self.find = find

    def __missing__(self, code: str | None) -> str | None:
        name = self[code] = self.find(code)
        return name


class _Names:
    """The desk's names for stored codes (config.labels), looked up once per code, not once per row."""

    def __init__(self, desk: DeskConfig) -> None:
        self.choices: dict[str, _Lookup] = {}
        self.desk = desk
        self.municipality = _Lookup(lambda code: municipality_name(desk, code) or code).__getitem__
        self.region = _Lookup(lambda code: region_name(desk, code)).__getitem__

    def kind(self, kind: str) -> _Lookup:
        """The names of the choices of the list `kind` (industries, categories, ...)."""
        if kind not in self.choices:
            self.choices[kind] = _Lookup(lambda code: choice_name(self.desk, kind, code))
        return self.choices[kind]

    def choice(self, kind: str, code: str | None) -> str | None:
        return self.kind(kind)[code]


def _decrypt(name: str, token: str | None) -> str | None:
    try:
        value = decrypt_stored(Consultation.__table__.columns[name], token)
    except (PIIKeyError, ValueError):
        return UNREADABLE
    return None if value is None else str(value)


def detail_rows(
    *,
    session: Session,
    desk: DeskConfig,
    start: datetime,
    end: datetime,
    now: datetime,
    include_personal: bool,
    batch: int = 500,
) -> Iterator[tuple[Cell, ...]]:
    """The consultations submitted in [start, end), oldest first, one tuple per row in the order of
    `columns(include_personal=...)`, read from the database in batches."""
    c = Consultation
    earlier = c.__table__.alias("earlier")
    times_asked = (
        select(func.count())
        .where(
            earlier.c.contact_id == c.contact_id,
            (earlier.c.submitted_at < c.submitted_at)
            | ((earlier.c.submitted_at == c.submitted_at) & (earlier.c.id <= c.id)),
        )
        .scalar_subquery()
    )
    table = c.__table__.columns
    personal = [as_stored(table[name]).label(name) for name in PERSONAL] if include_personal else []
    chosen = (
        select(
            c.id,
            c.reference,
            c.submitted_at,
            c.channel,
            c.company_name,
            c.sole_trader,
            c.industry,
            c.municipality_code,
            c.region,
            c.employee_band,
            c.method,
            c.category,
            c.category_secondary,
            c.dx_stage,
            c.status,
            _first_held(Booking.id, now).label("met_booking"),
            _next_meeting(now).label("next_at"),
            times_asked.label("times_asked"),
            *personal,
        )
        .where(c.submitted_at >= start, c.submitted_at < end)
        .subquery()
    )
    held = aliased(Booking)
    query = (
        select(
            *(column for column in chosen.c if column.name not in ("met_booking", *PERSONAL)),
            held.starts_at.label("met_at"),
            held.ends_at.label("met_until"),
            held.coordinator_id.label("coordinator_id"),
            *(chosen.c[name] for name in PERSONAL if include_personal),
        )
        .outerjoin(held, held.id == chosen.c.met_booking)
        .order_by(chosen.c.submitted_at, chosen.c.id)
        .execution_options(yield_per=batch)
    )
    coordinators = {co.id: co.name for co in desk.scheduling.coordinators}
    names = _Names(desk)
    industries, bands, methods = names.kind("industries"), names.kind("employee_bands"), names.kind("methods")
    categories, stages = names.kind("categories"), names.kind("dx_stages")
    records = RecordCells(desk, outcome_rows(session=session, start=start, end=end, batch=batch))
    try:
        # Unpacked by position (the order of `query`): much cheaper than 20 attribute lookups a row.
        for number, row in enumerate(session.execute(query), start=1):
            (_id, reference, submitted_at, channel, company, sole_trader, industry_id, municipality_code,
             region, band, method, category, secondary, stage, status, next_at, times_asked,
             met_at, met_until, coordinator_id, *secret) = row  # fmt: skip
            submitted = submitted_at.astimezone(JST)
            met = met_at.astimezone(JST) if met_at else None
            minutes = int((met_until - met_at).total_seconds() // 60) if met_at else None
            industry = industries[industry_id]
            if company is None:
                owner = _decrypt("owner_name", secret[3]) if include_personal else None
                company = owner or SOLE_TRADER_HIDDEN
            cells: list[Cell] = [
                number,
                reference,
                submitted.date(),
                f"{submitted.hour:02d}:{submitted.minute:02d}",
                CHANNELS.get(channel, channel),
                company,
                "○" if sole_trader else "",
            ]
            if include_personal:  # contact_name, phone, email
                cells += [_decrypt(name, token) for name, token in zip(PERSONAL[:3], secret, strict=False)]
            cells += [
                f"{industry_id} {industry}" if industry != industry_id else industry_id,
                names.municipality(municipality_code),
                municipality_code,
                names.region(region),
                bands[band],
                methods[method],
                categories[category],
                categories[secondary] or "",
                stages[stage],
                STATUSES.get(status, status),
                met.date() if met else None,
                f"{met.hour:02d}:{met.minute:02d}" if met else None,
                minutes,
                coordinators.get(coordinator_id, coordinator_id) if coordinator_id else None,
                "初回" if times_asked <= 1 else f"{times_asked}回目",
                *records.cells(_id),
                next_at.astimezone(JST).date() if next_at else None,
            ]
            if include_personal:
                cells.append(_decrypt("description", secret[4]))
            cells.append(None)  # 備考
            yield tuple(cells)
    finally:
        records.close()
