"""One report, any format: the summary and the detail list from one aggregation, written as xlsx, PDF or
CSV. What the CLI and the admin API both call, so their files agree."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from config import DeskConfig
from reporting.aggregate import Summary, build_summary
from reporting.csv_writer import write_csv
from reporting.detail import Cell, columns, detail_rows
from reporting.pdf_writer import write_pdf
from reporting.periods import ReportPeriod, fiscal_year_period, monthly_period, parse_month
from reporting.xlsx_writer import write_xlsx
from storage.base import UTCDateTime
from storage.database import Database
from storage.models import Consultation
from storage.slack_cards import ContactView

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
FORMATS = tuple(CONTENT_TYPES)
INTERNAL_SUFFIX = "_内部用"
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class ReportFile:
    path: Path
    file_name: str  # the Japanese name to offer, e.g. 相談対応実績_2026年11月.xlsx
    summary: Summary
    detail_rows: int | None  # None for the PDF, which has no detail list


def period_for_month(month: str) -> ReportPeriod:
    return monthly_period(parse_month(month))


def period_for_fiscal_year(year: int) -> ReportPeriod:
    return fiscal_year_period(year)


def file_name(period: ReportPeriod, fmt: str, *, include_personal: bool) -> str:
    return f"{period.file_stem}{INTERNAL_SUFFIX if include_personal else ''}.{fmt}"


def record_personal_export(
    *, session: Session, start: datetime, end: datetime, viewer: str, now: datetime
) -> int:
    """Writes one contact-view audit row per consultation whose contact details the internal copy shows
    (the audit the Slack card's 連絡先を表示 writes), in one INSERT … SELECT."""
    chosen = select(Consultation.id, literal(viewer[:32]), literal(now, UTCDateTime())).where(
        Consultation.submitted_at >= start, Consultation.submitted_at < end
    )
    result = session.execute(
        insert(ContactView).from_select(["consultation_id", "slack_user_id", "at"], chosen)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def write_report(
    *,
    db: Database,
    desk: DeskConfig,
    period: ReportPeriod,
    fmt: str,
    out: Path,
    now: datetime,
    include_personal: bool = False,
    bom: bool = True,
    viewer: str = "report",
    progress: Callable[[int, int], None] | None = None,
) -> ReportFile:
    """Builds the report of `period` into `out` in the format `fmt` (xlsx, pdf or csv). The internal copy
    (`include_personal`) is recorded in the audit, naming `viewer`, in the same transaction it is read in."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    start, end = period.column_bounds(period.main)
    with db.session() as session:
        summary = build_summary(session=session, desk=desk, period=period, now=now)
        total = summary.total

        def tick(count: int) -> None:
            if progress is not None and (count % 200 == 0 or count == total):
                progress(count, total)

        rows: int | None = None
        wanted = columns(include_personal=include_personal)
        detail = detail_rows(
            session=session, desk=desk, start=start, end=end, now=now, include_personal=include_personal
        )
        if fmt == "pdf":
            write_pdf(out, summary)
        elif fmt == "xlsx":
            rows = write_xlsx(out, summary, wanted, detail, progress=tick)
        else:
            with out.open("wb") as handle:
                rows = write_csv(handle, wanted, _ticking(detail, tick), bom=bom)
        if include_personal and fmt != "pdf":
            record_personal_export(session=session, start=start, end=end, viewer=viewer, now=now)
    return ReportFile(
        path=out,
        file_name=file_name(period, fmt, include_personal=include_personal and fmt != "pdf"),
        summary=summary,
        detail_rows=rows,
    )


def _ticking(rows: Iterable[Row], tick: Callable[[int], None]) -> Iterator[Row]:
    for count, row in enumerate(rows, start=1):
        tick(count)
        yield row
