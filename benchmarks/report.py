# ruff: noqa: T201
"""Time and peak memory to build the monthly report's xlsx, PDF and CSV and the fiscal-year xlsx, beside a
naive version that loads every consultation and interaction into Python, measured in the same run.

100,000 consultations over 24 months and 2,000,000 interaction rows by default. Each measurement runs in a
fresh interpreter, so its peak RSS (VmHWM) is its own. Run:
`.venv/bin/python -m benchmarks.report [--database-url URL | --sqlite-path FILE] [--consultations N]
[--interactions N] [--skip-fill] [--only WHAT ...]` (SQLite in a temporary file by default; a PostgreSQL URL
names an empty database it may fill; `--sqlite-path` keeps the filled SQLite file, to reuse with --skip-fill).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, "") and str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = base64.urlsafe_b64encode(bytes(32)).decode()  # a fixed Fernet key: fictitious data only
MONTH = "2026-11"
START = datetime(2024, 12, 1, tzinfo=UTC)  # 24 months up to November 2026


def _keyring() -> None:
    from storage.crypto import Keyring, configure_keyring

    configure_keyring(Keyring([KEY]))


def fill(url: str, consultations: int, interactions: int, seed: int) -> None:
    """Writes fictitious rows with Core bulk inserts."""
    from sqlalchemy import insert

    from config import load_desk_config
    from storage.bookings import Booking
    from storage.database import Database, upgrade_schema
    from storage.models import Company, Consultation, ConsultationEvent, Contact, Interaction
    from storage.outcomes import OutcomeRecord, ReferralConsent

    _keyring()
    upgrade_schema(url)
    desk = load_desk_config()
    rng = random.Random(seed)
    db = Database(url)
    span = (datetime(2026, 12, 1, tzinfo=UTC) - START).total_seconds()
    contacts = max(1, consultations * 2 // 3)
    towns = desk.municipalities
    with db.session() as session:
        session.execute(
            insert(Contact), [{"channel": "line", "external_id_hash": f"h{i}"} for i in range(contacts)]
        )
        session.execute(insert(Company), [{"name": f"会社{i}"} for i in range(consultations)])
    programmes = [p.id for p in desk.outcomes.programmes]
    partners = [p.id for p in desk.outcomes.partners]
    batch = 5000
    booking_id = 0
    for first in range(0, consultations, batch):
        rows, events, bookings, records, consents = [], [], [], [], []
        for i in range(first, min(first + batch, consultations)):
            at = START + timedelta(seconds=rng.random() * span)
            town = rng.choice(towns)
            rows.append(
                {
                    "id": i + 1,
                    "reference": f"KG-{i + 1:06d}",
                    "status": rng.choice(("submitted", "in_progress", "closed", "closed", "withdrawn")),
                    "channel": "line",
                    "contact_id": rng.randint(1, contacts),
                    "company_id": i + 1,
                    "company_name": f"会社{i}",
                    "industry": rng.choice(desk.industries).id,
                    "municipality_code": town.code,
                    "region": town.region,
                    "employee_band": rng.choice(desk.employee_bands).id,
                    "category": rng.choice(desk.categories).id,
                    "description": "相談内容",
                    "dx_stage": rng.choice(desk.dx_stages).id,
                    "method": rng.choice(desk.methods).id,
                    "notice_version": "1",
                    "submitted_at": at,
                }
            )
            events.append(
                {"consultation_id": i + 1, "kind": "submitted", "actor": "line", "at": at, "detail": {}}
            )
            if rng.random() < 0.8:
                acted = at + timedelta(hours=rng.expovariate(1 / 20))
                events.append(
                    {
                        "consultation_id": i + 1,
                        "kind": "booking_confirmed",
                        "actor": "U0X",
                        "at": acted,
                        "detail": {},
                    }
                )
            if rng.random() < 0.4:
                meets = at + timedelta(days=rng.randint(2, 14))
                bookings.append(
                    {
                        "consultation_id": i + 1,
                        "coordinator_id": "example-yamada",
                        "starts_at": meets,
                        "ends_at": meets + timedelta(hours=1),
                        "blocked_from": meets,
                        "blocked_until": meets + timedelta(hours=1),
                        "method": rows[-1]["method"],
                        "status": "done",
                    }
                )
                booking_id += 1
                bookings[-1]["id"] = booking_id
                referral = rng.random() < 0.3
                records.append(
                    {
                        "id": booking_id,
                        "consultation_id": i + 1,
                        "booking_id": booking_id,
                        "revision": 1,
                        "method": rows[-1]["method"],
                        "minutes": 60,
                        "summary": "要約",
                        "result": "referred" if referral else rng.choice(("resolved", "continuing")),
                        "programmes": rng.sample(programmes, rng.randint(0, 2)),
                        "partners": [rng.choice(partners)] if referral else [],
                        "vendors": ["ベンダー株式会社"] if referral and rng.random() < 0.5 else [],
                        "onsite": False,
                        "recorded_by": "U0X",
                        "recorded_at": meets + timedelta(hours=2),
                    }
                )
                if referral:
                    consents.append(
                        {
                            "outcome_id": booking_id,
                            "consultation_id": i + 1,
                            "contact_id": rows[-1]["contact_id"],
                            "asked_at": meets + timedelta(hours=2),
                            "asked": True,
                            "answer": rng.choice(("agree", "agree", "disagree", None)),
                        }
                    )
        with db.session() as session:
            session.execute(insert(Consultation), rows)
            session.execute(insert(ConsultationEvent), events)
            if bookings:
                session.execute(insert(Booking), bookings)
                session.execute(insert(OutcomeRecord), records)
            if consents:
                session.execute(insert(ReferralConsent), consents)
    batch = 20000
    for first in range(0, interactions, batch):
        messages = []
        for _ in range(first, min(first + batch, interactions)):
            at = START + timedelta(seconds=rng.random() * span)
            out = rng.random() < 0.5
            messages.append(
                {
                    "at": at,
                    "channel": "line",
                    "direction": "out" if out else "in",
                    "kind": "text",
                    "contact_id": rng.randint(1, contacts),
                    "delivered_at": at if out and rng.random() < 0.98 else None,
                }
            )
        with db.session() as session:
            session.execute(insert(Interaction), messages)
    db.dispose()
    analyse(url)


def analyse(url: str) -> None:
    """The planner's statistics (and PostgreSQL's visibility map, which index-only scans need), as
    autovacuum would have them after a while."""
    from sqlalchemy import text

    from storage.database import make_engine

    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    engine.dispose()


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(url: str, what: str, out: str) -> dict[str, float]:
    """One measurement in this (fresh) interpreter: seconds and peak RSS."""
    from config import load_desk_config
    from reporting.build import period_for_fiscal_year, period_for_month, write_report
    from storage.database import Database

    _keyring()
    desk = load_desk_config()
    db = Database(url)
    now = datetime(2026, 12, 3, tzinfo=UTC)
    before = _peak_rss_mb()
    started = time.perf_counter()
    if what == "naive-month":
        naive_month(db, desk, now, Path(out))
    else:
        kind, fmt = what.split("-")
        period = period_for_fiscal_year(2026) if kind == "fy" else period_for_month(MONTH)
        write_report(db=db, desk=desk, period=period, fmt=fmt, out=Path(out), now=now)
    seconds = time.perf_counter() - started
    db.dispose()
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": before}


def naive_month(db: object, desk: object, now: datetime, out: Path) -> None:
    """Everything loaded into Python, then counted and written: what the report must not do."""
    import csv
    from collections import Counter

    from sqlalchemy import select

    from reporting.periods import monthly_period, parse_month
    from storage.models import Consultation, Interaction

    period = monthly_period(parse_month(MONTH))
    start, end = period.column_bounds(period.main)
    with db.session() as session:  # type: ignore[attr-defined]
        everything = list(session.scalars(select(Consultation)))
        messages = list(session.execute(select(Interaction.__table__)))
    month = [c for c in everything if start <= c.submitted_at < end]
    counts = {
        key: Counter(getattr(c, key) for c in month) for key in ("status", "method", "category", "region")
    }
    lines = Counter(
        m.direction for m in messages if (m.delivered_at or m.at) and start <= (m.delivered_at or m.at) < end
    )
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["受付番号", "受付日", "相談内容"])
        for c in month:
            writer.writerow([c.reference, c.submitted_at.date(), c.description])
    assert counts and lines is not None


WHATS = ("month-xlsx", "month-pdf", "month-csv", "fy-xlsx", "naive-month")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--consultations", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--measure", nargs=3, metavar=("URL", "WHAT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--sqlite-path", default=None, help="a SQLite file to fill and keep (or reuse)")
    parser.add_argument("--skip-fill", action="store_true", help="the database is filled already")
    parser.add_argument("--only", nargs="+", choices=WHATS, default=WHATS, help="measure only these")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    if args.database_url:
        url = args.database_url
    elif args.sqlite_path:
        url = f"sqlite:///{Path(args.sqlite_path).resolve()}"
    else:
        url = f"sqlite:///{work / 'bench.db'}"
    if not args.skip_fill:
        started = time.perf_counter()
        fill(url, args.consultations, args.interactions, args.seed)
        print(f"filled {args.consultations:,} consultations, {args.interactions:,} interactions "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    print(f"load average at start: {_load()}")
    print(f"{'what':<16} {'seconds':>8} {'peak RSS MB':>12} {'(at start)':>11}")
    for what in args.only:
        out = work / f"{what}.{what.split('-')[-1] if what != 'naive-month' else 'csv'}"
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.report", "--measure", url, what, str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{what:<16} {figures['seconds']:>8.2f} {figures['peak_rss_mb']:>12.0f} {figures['rss_before_mb']:>11.0f}"
        )
    print(f"load average at end: {_load()}")
    return 0


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    raise SystemExit(main())
