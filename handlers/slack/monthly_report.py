"""The monthly summary's post and its attachments: the month's report built by reporting/ as xlsx and PDF
when the post is delivered (never in the scheduler's transaction), the post's figures read from the same
aggregation as the xlsx, and the files shared in the post's thread under their Japanese names.

Which files an attempt shared is recorded in the outbox row; a file an attempt shared without living to
record it is found by its name in the post's thread (conversations.replies), so none is shared twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from config import DeskConfig
from reporting.aggregate import Summary, build_summary
from reporting.build import period_for_month, write_report
from storage.database import Database

FORMATS = (("xlsx", "Excel"), ("pdf", "PDF"))
ATTACHED = "{year}年{month}月の相談対応実績報告です（Excel・PDF）。"


@dataclass(frozen=True)
class Attachment:
    path: Path
    file_name: str  # e.g. 相談対応実績_2026年11月.xlsx
    title: str


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    summary: Summary  # the xlsx's own: the post shows its numbers
    files: tuple[Attachment, ...]


def build_monthly_report(
    *, db: Database, desk: DeskConfig, month: str, now: datetime, directory: Path
) -> MonthlyReport:
    """Writes the month's xlsx and PDF (the prefecture's copy, without personal data) into `directory`."""
    period = period_for_month(month)
    files: list[Attachment] = []
    summary: Summary | None = None
    for fmt, kind in FORMATS:
        made = write_report(
            db=db, desk=desk, period=period, fmt=fmt, out=directory / f"report.{fmt}", now=now
        )
        summary = summary or made.summary
        files.append(Attachment(made.path, made.file_name, f"{period.title}（{kind}）"))
    assert summary is not None
    return MonthlyReport(month, summary, tuple(files))


def month_summary(*, db: Database, desk: DeskConfig, month: str, now: datetime) -> Summary:
    """The month's figures alone, as the report counts them (for a post whose files cannot be built)."""
    with db.session() as session:
        return build_summary(session=session, desk=desk, period=period_for_month(month), now=now)


def attached_comment(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return ATTACHED.format(year=year, month=number)


def shared_in_thread(client: WebClient, channel: str, ts: str) -> set[str]:
    """The names of the files shared in the thread of the post `ts` (the post's own files included)."""
    page = client.conversations_replies(channel=channel, ts=ts, limit=200)
    names: set[str] = set()
    for message in page.get("messages") or []:
        files: list[Mapping[str, Any]] = message.get("files") or []
        names |= {str(f.get("name")) for f in files if f.get("name")}
    return names


def upload(client: WebClient, *, channel: str, ts: str, month: str, files: list[Attachment]) -> None:
    """Shares the files in the post's thread, in one message (files_upload_v2: one complete call)."""
    client.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        initial_comment=attached_comment(month),
        file_uploads=[{"file": str(f.path), "filename": f.file_name, "title": f.title} for f in files],
    )
