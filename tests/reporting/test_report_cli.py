"""`madoguchi report monthly` and `report fiscal-year` in a subprocess, on a database of their own: the
files agree with the admin API's totals; no progress bar when the output is not a terminal."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.slack_cards import ContactView
from tests.conftest import TEST_KEY, DatabaseFactory
from tests.reporting.fixture import CONTACT_NAME, EXPECTED, build_fixture_month


@pytest.fixture
def filled_url(fresh_database_url: DatabaseFactory) -> str:
    url = fresh_database_url(migrated=True)
    db = Database(url)
    with db.session() as session:
        build_fixture_month(session)
    db.dispose()
    return url


def madoguchi(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINE_", "SLACK_", "MADOGUCHI_", "DATABASE_"))
    }
    env.update(
        {
            "DATABASE_URL": url,
            "MADOGUCHI_PII_KEY": TEST_KEY,
            "MADOGUCHI_DEMO": "1",
            "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_the_three_monthly_files_agree(filled_url: str, tmp_path: Path) -> None:
    totals = {}
    for fmt in ("xlsx", "pdf", "csv"):
        out = tmp_path / f"november.{fmt}"
        done = madoguchi(
            filled_url,
            tmp_path,
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--format",
            fmt,
            "--out",
            str(out),
        )
        assert done.returncode == 0, done.stderr
        assert "相談 3 件" in done.stdout
        assert "明細 [" not in done.stderr  # not a terminal: no progress bar
        totals[fmt] = out
    summary = openpyxl.load_workbook(totals["xlsx"])["集計表"]
    row = next(r for r in summary.iter_rows(values_only=True) if r[0] == "受付件数")
    assert row[1:4] == EXPECTED["受付件数"]
    rows = list(csv.reader(io.StringIO(totals["csv"].read_text(encoding="utf-8-sig"))))
    assert len(rows) - 1 == EXPECTED["受付件数"][0]
    text = subprocess.run(
        ["pdftotext", "-layout", str(totals["pdf"]), "-"], capture_output=True, text=True
    ).stdout
    assert next(ln for ln in text.splitlines() if ln.strip().startswith("受付件数")).split()[1:4] == [
        "3",
        "5",
        "1",
    ]


def test_the_internal_copy_from_the_command_is_audited(filled_url: str, tmp_path: Path) -> None:
    out = tmp_path / "internal.csv"
    done = madoguchi(
        filled_url,
        tmp_path,
        "report",
        "monthly",
        "--month",
        "2026-11",
        "--format",
        "csv",
        "--out",
        str(out),
        "--include-personal",
        "--no-bom",
    )
    assert done.returncode == 0, done.stderr
    assert "閲覧記録" in done.stdout
    assert CONTACT_NAME in out.read_text(encoding="utf-8") and not out.read_bytes().startswith(
        b"\xef\xbb\xbf"
    )
    assert CONTACT_NAME not in done.stdout + done.stderr
    db = Database(filled_url)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ContactView)) == 3
        viewer = session.scalars(select(ContactView.slack_user_id)).first()
        assert viewer is not None and viewer.startswith("cli:")
    db.dispose()


def test_the_fiscal_year_command_and_a_bad_month(filled_url: str, tmp_path: Path) -> None:
    out = tmp_path / "fy.xlsx"
    done = madoguchi(
        filled_url, tmp_path, "report", "fiscal-year", "--year", "2026", "--format", "xlsx", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "相談 6 件" in done.stdout
    bad = madoguchi(
        filled_url, tmp_path, "report", "monthly", "--month", "2026/11", "--format", "pdf", "--out", str(out)
    )
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
