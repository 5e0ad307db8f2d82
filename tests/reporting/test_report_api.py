"""GET /api/reports/monthly: the bearer token, the content type, the Japanese file name, and the same
totals as the files the CLI writes."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from fastapi.testclient import TestClient

from storage.clock import FixedClock
from tests.reporting.fixture import EXPECTED, NOW

URL = "/api/reports/monthly?month=2026-11&format="


@pytest.fixture(autouse=True)
def _report_time(clock: FixedClock) -> None:
    clock.set(NOW)


def test_the_report_needs_the_token(client: TestClient) -> None:
    assert client.get(URL + "xlsx").status_code == 401
    assert client.get(URL + "xlsx", headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.usefixtures("november")
@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
        ("csv", "text/csv; charset=utf-8"),
    ],
)
def test_each_format_comes_with_its_type_and_japanese_name(
    client: TestClient, admin_headers: dict[str, str], fmt: str, content_type: str, tmp_path: Path
) -> None:
    answer = client.get(URL + fmt, headers=admin_headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    name = quote(f"相談対応実績_2026年11月.{fmt}")
    assert answer.headers["content-disposition"] == (
        f"attachment; filename=\"report-2026-11.{fmt}\"; filename*=UTF-8''{name}"
    )
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert len(rows) - 1 == EXPECTED["受付件数"][0]
    elif fmt == "xlsx":
        (tmp_path / "r.xlsx").write_bytes(answer.content)
        summary = openpyxl.load_workbook(tmp_path / "r.xlsx")["集計表"]
        lines = {r[0]: r[1:4] for r in summary.iter_rows(values_only=True) if r[0] in EXPECTED}
        assert lines == EXPECTED  # the referrals (with consent), the programmes, the quota among them
    else:
        assert answer.content.startswith(b"%PDF-")


def test_a_bad_month_or_format_is_refused_politely(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert (
        client.get("/api/reports/monthly?month=2026-13&format=pdf", headers=admin_headers).status_code == 422
    )
    assert (
        client.get("/api/reports/monthly?month=2026-11&format=doc", headers=admin_headers).status_code == 422
    )
    assert client.get("/api/reports/monthly", headers=admin_headers).status_code == 422
