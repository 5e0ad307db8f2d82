"""`madoguchi jobs run digest|monthly-summary --at …` as an operator runs them, in a child process on a real
database: a missed monthly post is posted, a posted one is not doubled, and what is queued reaches the
Slack stand-in through the running server (the monthly post with its xlsx and PDF in its thread)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
from sqlalchemy import select

from storage.database import Database, make_engine
from storage.models import OutboxMessage
from tests.conftest import DatabaseFactory
from tests.line.conftest import InProcessServer
from tests.scheduling.support import prepare_booking_tables
from tests.slack.appserver import slack_env
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn


def madoguchi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_jobs_run_posts_a_missed_monthly_summary_once_and_the_digest_once_a_working_day(
    fresh_database_url: DatabaseFactory,
    slack: SlackStandIn,
    slack_servers: Callable[..., InProcessServer],
    tmp_path: Path,
) -> None:
    url = fresh_database_url(migrated=True)
    engine = make_engine(url)
    prepare_booking_tables(engine, migrate=False)  # 60 consultations submitted on 2026-11-01 09:00 JST
    engine.dispose()
    env = slack_env(url, slack.api_url, str(tmp_path / "var"))

    ran = madoguchi(env, "jobs", "run", "monthly-summary", "--at", "2026-12-01T09:00+09:00")
    assert (ran.returncode, ran.stdout) == (
        0,
        "monthly-summary: the summary of 2026-11 is posted (60 consultation(s))\n",
    ), ran.stderr
    again = madoguchi(env, "jobs", "run", "monthly-summary", "--at", "2026-12-02T10:00+09:00")
    assert (again.returncode, again.stdout) == (
        0,
        "monthly-summary: the summary of 2026-11 was posted already: nothing posted\n",
    ), again.stderr
    holiday = madoguchi(env, "jobs", "run", "digest", "--at", "2026-11-23T08:30+09:00")  # 勤労感謝の日
    assert holiday.stdout == "digest: 2026-11-23 is not a working day: no digest\n", holiday.stderr
    digest = madoguchi(env, "jobs", "run", "digest", "--at", "2026-12-03T08:30+09:00")
    assert digest.stdout == "digest: 3 digest(s) queued, 0 already sent for 2026-12-03\n", digest.stderr

    slack_servers(url)  # the running server delivers what the jobs queued
    slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 4, 15, "the posts")
    [summary] = slack.messages(INTAKE_CHANNEL)
    assert summary["text"].startswith("2026年11月のまとめ：受付 60件")
    slack.wait_for(lambda: len(slack.files()) >= 2, 30, "the report's files")
    assert [(f.filename, f.thread_ts) for f in slack.files()] == [
        ("相談対応実績_2026年11月.xlsx", summary["ts"]),
        ("相談対応実績_2026年11月.pdf", summary["ts"]),
    ]
    xlsx = slack.files()[0].data
    assert xlsx is not None
    [received] = [
        r[1]
        for r in openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)["集計表"].iter_rows(
            values_only=True
        )
        if r and r[0] == "受付件数"
    ]
    assert received == 60
    posted_to = sorted(c.args["channel"] for c in slack.calls("chat.postMessage"))
    assert posted_to == sorted([INTAKE_CHANNEL, "U0EXSUZUKI", "U0EXTANAKA", "U0EXYAMADA"])
    db = Database(url)
    with db.session() as session:
        assert len(session.scalars(select(OutboxMessage.id)).all()) == 4
    db.dispose()
