"""`madoguchi demo-data`, then the reports: the xlsx, PDF and CSV of the latest whole month and the admin API
agree; every status and every section of that month has something to show; the data is fictitious but
encrypted like real data; one seed gives one data set; a database with real data is refused unless forced."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.demo_data import _Year
from bot.engine import IntakeEngine
from config import DeskConfig
from handlers import cli
from handlers.app import create_app
from handlers.services import Services
from handlers.settings import get_settings
from reporting.aggregate import STATUS_LINES, build_summary
from reporting.build import period_for_month
from storage.bookings import BOOKING_STATUSES, Booking
from storage.channels import Channel
from storage.clock import JST, SystemClock
from storage.consultations import create_consultation
from storage.contacts import create_anonymous_contact
from storage.crypto import as_stored, keyring
from storage.database import Database, upgrade_schema
from storage.demo_rows import Row, count_real_data
from storage.follow_ups import SatisfactionSurvey
from storage.models import Consultation, Contact, Interaction
from storage.outcomes import RESULTS, OutcomeRecord, ReferralConsent
from storage.proposals import ACCEPTED, ASKED_AGAIN, TimeProposal
from tests.conftest import ADMIN_TOKEN, TEST_KEY, make_settings


def _month_before(now: datetime) -> str:
    first = now.astimezone(JST).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


MONTH = _month_before(datetime.now(JST))  # the latest whole month of the demo data


@pytest.fixture(scope="module")
def demo(
    fresh_database_url: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A database of its own filled by `madoguchi demo-data --seed 7`, and the command's environment."""
    url = fresh_database_url()
    upgrade_schema(url)
    var = tmp_path_factory.mktemp("demo") / "var"
    with pytest.MonkeyPatch.context() as env:
        for name in (
            "LINE_CHANNEL_SECRET",
            "LINE_CHANNEL_ACCESS_TOKEN",
            "SLACK_SIGNING_SECRET",
            "SLACK_BOT_TOKEN",
        ):
            env.delenv(name, raising=False)
        env.setenv("DATABASE_URL", url)
        env.setenv("MADOGUCHI_PII_KEY", TEST_KEY)
        env.setenv("MADOGUCHI_DEMO", "1")
        env.setenv("MADOGUCHI_ADMIN_TOKEN", ADMIN_TOKEN)
        env.setenv("MADOGUCHI_VAR_DIR", str(var))
        get_settings.cache_clear()
        code = cli.main(["demo-data", "--seed", "7"])
        assert code == 0
        yield {"url": url, "var": var}
    get_settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def summary_rows(path: Path) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in openpyxl.load_workbook(path)["集計表"].iter_rows(values_only=True)]


def first_value(rows: list[tuple[Any, ...]], label: str) -> Any:
    return next(r for r in rows if r[0] == label)[1]


def test_the_files_and_the_admin_api_agree(
    demo: dict[str, Any], desk: DeskConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {}
    for fmt in ("xlsx", "pdf", "csv"):
        files[fmt] = tmp_path / f"report.{fmt}"
        code, out, err = run(
            capsys, "report", "monthly", "--month", MONTH, "--format", fmt, "--out", str(files[fmt])
        )
        assert code == 0, err
    rows = summary_rows(files["xlsx"])
    total = first_value(rows, "受付件数")
    assert 40 <= total <= 80
    statuses = {label: first_value(rows, label) for _, label in STATUS_LINES}
    assert sum(statuses.values()) == total

    detail = list(csv.DictReader(io.StringIO(files["csv"].read_text(encoding="utf-8-sig"))))
    assert len(detail) == total
    assert all(row["受付番号"].startswith("DEMO-") for row in detail)
    shown = Counter(row["状況"] for row in detail)
    assert shown == {"対応完了": statuses["対応完了"], "対応中": statuses["対応中"],
                     "受付済み": statuses["受付済み（未対応）"], "取り下げ": statuses["取り下げ"]}  # fmt: skip

    text = subprocess.run(
        ["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True
    ).stdout
    for label in ("受付件数", *statuses):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(label))
        assert line.split()[1] == str(first_value(rows, label)), label

    services = Services(
        settings=make_settings(demo["url"], demo["var"]),
        desk=desk,
        db=Database(demo["url"]),
        clock=SystemClock(),
        engine=IntakeEngine(desk, SystemClock()),
    )
    with TestClient(create_app(services)) as client:
        answer = client.get(
            f"/api/reports/monthly?month={MONTH}&format=xlsx",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    services.db.dispose()
    assert answer.status_code == 200
    (tmp_path / "api.xlsx").write_bytes(answer.content)

    def made_at(row: tuple[Any, ...]) -> bool:  # the minute each file was made: two calls may straddle one
        return isinstance(row[0], str) and row[0].startswith("作成日時")

    api_rows = summary_rows(tmp_path / "api.xlsx")
    assert [r for r in api_rows if not made_at(r)] == [r for r in rows if not made_at(r)]
    assert sum(map(made_at, api_rows)) == sum(map(made_at, rows)) == 1


def test_every_status_and_section_of_the_month_has_data(demo: dict[str, Any], desk: DeskConfig) -> None:
    db = Database(demo["url"])
    with db.session() as session:
        summary = build_summary(
            session=session, desk=desk, period=period_for_month(MONTH), now=datetime.now(JST)
        )
        for code, label in STATUS_LINES:
            assert (summary.value("consultations", label) or 0) > 0, code
        for section in summary.sections:
            assert any(line.values[0] for line in section.lines), section.key
        for label in ("解決", "継続支援", "他機関紹介", "情報提供のみ", "保留"):
            assert (summary.value("outcomes", label) or 0) > 0, label
        assert (summary.value("meetings", "うち企業訪問（現地）") or 0) > 0
        assert (summary.value("line", "うちプッシュ送信（無料枠の対象）") or 0) > 0

        statuses = set(session.scalars(select(Booking.status).distinct()))
        assert statuses == set(BOOKING_STATUSES) - {"held"}  # a hold lives only while an owner answers
        assert set(session.scalars(select(OutcomeRecord.result).distinct())) == set(RESULTS)
        assert set(session.scalars(select(ReferralConsent.answer).distinct())) == {"agree", "disagree", None}
        assert {ACCEPTED, ASKED_AGAIN} <= set(session.scalars(select(TimeProposal.status).distinct()))
        assert session.scalars(select(func.count()).where(SatisfactionSurvey.score.is_not(None))).one() > 0
        assert session.scalars(select(func.count()).where(OutcomeRecord.onsite.is_(True))).one() > 0
        assert set(session.scalars(select(Consultation.municipality_code).distinct())) == {
            m.code for m in desk.municipalities
        }
        assert set(session.scalars(select(Consultation.industry).distinct())) == {
            c.id for c in desk.industries
        }
        undelivered = select(func.count()).where(
            Interaction.direction == "out", Interaction.delivered_at.is_(None)
        )
        assert session.scalar(undelivered) == 0

        # Personal data is stored encrypted, as real data is, and reads back.
        stored = session.execute(
            select(
                as_stored(Consultation.__table__.c.contact_name),
                Consultation.contact_name,
                Consultation.contact_id,
            )
        ).first()
        assert stored is not None
        token, name, contact = stored
        assert token.startswith("gAAAAA") and name not in token and keyring().decrypt(token) == name
        line_contact = session.scalars(select(Contact).where(Contact.channel == Channel.LINE)).first()
        assert line_contact is not None and line_contact.external_id is not None
        assert line_contact.external_id_hash == keyring().lookup_hash(line_contact.external_id)
        assert not count_real_data(session=session)
    db.dispose()


def _digest(rows: list[Row]) -> str:
    """A digest of generated rows, their references to other rows as those rows' positions."""
    position = {id(row): index for index, row in enumerate(rows)}
    for index, row in enumerate(rows):
        row.id = index  # what a callable detail reads
    lines = []
    for row in rows:
        values = {k: v() if callable(v) else v for k, v in row.values.items()}
        values.update({k: None if ref is None else position[id(ref)] for k, ref in row.refs.items()})
        lines.append(
            json.dumps([row.model.__name__, values], default=str, ensure_ascii=False, sort_keys=True)
        )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_one_seed_gives_one_data_set(desk: DeskConfig) -> None:
    now = datetime(2026, 12, 3, 15, 0, tzinfo=JST)

    def generated(seed: int, at: datetime, months: int = 13) -> list[Row]:
        return [row for _, rows in islice(_Year(desk, seed, at).months(), months) for row in rows]

    first = generated(7, now)
    assert _digest(first) == _digest(generated(7, now + timedelta(hours=5)))  # the same day: the same data
    assert _digest(generated(7, now, 1)) != _digest(generated(8, now, 1))


def test_real_data_is_refused_unless_forced(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = Database(demo["url"])
    with db.session() as session:
        before = session.scalars(select(func.count()).select_from(Consultation)).one()
        contact = create_anonymous_contact(session=session, channel=Channel.WEB)
        fields = {
            "company_name": "株式会社ためし商会", "industry": "I", "municipality_code": "46201", "region": "kagoshima",
            "employee_band": "1_5", "category": "web_sns", "description": "ホームページを直したい", "dx_stage": "partial",
            "method": "online", "notice_version": "2026-12", "contact_name": "試験 太郎",
        }  # fmt: skip
        real = create_consultation(session=session, contact=contact, channel="web", fields=fields,
                                   submitted_at=datetime.now(JST), reference_prefix="202612")  # fmt: skip
        real_id, real_contact = real.id, contact.id
    try:
        code, out, err = run(capsys, "demo-data", "--seed", "7")
        assert code == 1
        assert "not made by demo-data (1 consultation(s), 1 contact(s))" in err and "--force" in err
        assert "デモデータ [" not in err  # not a terminal: no progress bar
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Consultation)) == before + 1

        code, out, err = run(capsys, "demo-data", "--seed", "7", "--force")
        assert code == 0, err
        assert f"replacing {before} earlier demo consultation(s)" in out
        assert "デモデータ [" not in err
        with db.session() as session:
            assert session.get(Consultation, real_id) is not None  # the real data is kept
            assert (
                session.scalar(select(func.count()).select_from(Consultation)) == before + 1
            )  # same seed, same day
            assert count_real_data(session=session).consultations == 1
    finally:
        with db.session() as session:
            session.delete(session.get(Contact, real_contact))
        db.dispose()
