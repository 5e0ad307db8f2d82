"""One report, any format: the summary and the detail list from one aggregation, written as xlsx, PDF or
CSV. What the CLI and the admin API both call, so their files agree.

The summary's queries (a second or more for a fiscal year) run on a connection of their own in a worker
thread while the detail list streams: the database (or SQLite, which leaves Python's lock while it
steps) counts while Python writes the rows. Both read one view of the database (storage/snapshots.py):
a consultation that arrives meanwhile is in neither, so the summary's totals always match the list. Where
every session shares one connection (a test's transaction) the summary is counted on it, after the rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, insert, literal, select
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
from storage.snapshots import join_snapshot, share_snapshot

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
    with db.session() as session, ThreadPoolExecutor(max_workers=1) as worker:
        # The report's transaction begins here (on SQLite, with the write lock) before the worker reads.
        one_connection = db.sessions_share_one_connection  # whose transaction has begun: one view already
        snapshot = None if one_connection else share_snapshot(session)
        total = _consultations(session, start, end)
        if fmt == "pdf" or one_connection:
            counted = None
        else:
            counted = worker.submit(_summary_beside, db, desk, period, now, snapshot)

        def summary_of() -> Summary:
            if counted is None:
                return build_summary(session=session, desk=desk, period=period, now=now)
            return counted.result()

        def tick(count: int) -> None:
            if progress is not None and (count % 200 == 0 or count == total):
                progress(count, total)

        rows: int | None = None
        wanted = columns(include_personal=include_personal)
        detail = detail_rows(
            session=session, desk=desk, start=start, end=end, now=now, include_personal=include_personal
        )
        if fmt == "pdf":
            summary = summary_of()
            write_pdf(out, summary)
        elif fmt == "xlsx":
            summary, rows = write_xlsx(out, period, summary_of, wanted, detail, progress=tick)
        else:
            with out.open("wb") as handle:
                rows = write_csv(handle, wanted, _ticking(detail, tick), bom=bom)
            summary = summary_of()
        if include_personal and fmt != "pdf":
            record_personal_export(session=session, start=start, end=end, viewer=viewer, now=now)
    return ReportFile(
        path=out,
        file_name=file_name(period, fmt, include_personal=include_personal and fmt != "pdf"),
        summary=summary,
        detail_rows=rows,
    )


def _consultations(session: Session, start: datetime, end: datetime) -> int:
    """Consultations received in [start, end): the detail list's length, for the progress."""
    query = select(func.count()).where(Consultation.submitted_at >= start, Consultation.submitted_at < end)
    return int(session.scalar(query) or 0)


def _summary_beside(
    db: Database, desk: DeskConfig, period: ReportPeriod, now: datetime, snapshot: str | None
) -> Summary:
    """The summary, counted on a connection of its own in a read-only transaction on the report's
    snapshot (on SQLite a deferred one: it takes no lock, in WAL mode, and sees the rows committed before
    the report's began)."""
    with (
        db.engine.connect().execution_options(sqlite_read_only=True) as connection,
        Session(bind=connection) as session,
    ):
        join_snapshot(connection, snapshot)
        return build_summary(session=session, desk=desk, period=period, now=now)


def _ticking(rows: Iterable[Row], tick: Callable[[int], None]) -> Iterator[Row]:
    for count, row in enumerate(rows, start=1):
        tick(count)
        yield row
