"""`madoguchi jobs run follow-ups --at ISO8601` as an operator runs it: a child process on a real database;
the nudge and the survey it queues reach the LINE stand-in through the running server, once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bot.engine import IntakeEngine
from bot.intake import Step
from config import load_desk_config
from storage import follow_ups as store
from storage.clock import FixedClock
from storage.database import make_engine
from tests.bot.chat import Chat
from tests.conftest import DatabaseFactory
from tests.line.conftest import InProcessServer, server_env
from tests.line.standin import LineStandIn
from tests.owner import Owner
from tests.scheduling.reminder_support import confirmed_booking, line_owner
from tests.scheduling.support import jst, prepare_booking_tables


def madoguchi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_jobs_run_follow_ups_nudges_once_then_surveys_the_next_working_day_through_the_stand_in(
    fresh_database_url: DatabaseFactory,
    start_server: Callable[..., InProcessServer],
    standin: LineStandIn,
    tmp_path: Path,
) -> None:
    url = fresh_database_url(migrated=True)
    engine = make_engine(url)
    prepare_booking_tables(engine, migrate=False)
    engine.dispose()
    server = start_server(database_url=url)  # drains the outbox to the stand-in
    surveyed, silent = "U" + "a" * 32, "U" + "b" * 32
    line_owner(server.db, 1, surveyed)
    booking = confirmed_booking(
        server.db, FixedClock(jst(2027, 1, 29, 9, 0)), 1, jst(2027, 2, 5, 14, 0)
    )  # a Friday
    chat = Chat(
        IntakeEngine(load_desk_config(), FixedClock(jst(2027, 2, 4, 15, 0))),
        server.db,
        user=silent,
        channel="line",
    )
    Owner(chat).walk_to(Step.INDUSTRY)
    env = server_env(url, standin.url, tmp_path / "var")

    early = madoguchi(env, "jobs", "run", "follow-ups", "--at", "2027-02-05T14:59:00+09:00")
    assert (early.returncode, early.stdout) == (
        0,
        "follow-ups: nudges: none due; surveys: none due; outcomes: 0 card(s) offered 対応記録を入力\n",
    ), early.stderr
    ran = madoguchi(env, "jobs", "run", "follow-ups", "--at", "2027-02-05T15:00:00+09:00")
    assert (ran.returncode, ran.stdout) == (
        0,
        "follow-ups: nudges: 1 sent; surveys: none due; outcomes: 1 card(s) offered 対応記録を入力\n",
    ), ran.stderr
    [nudge] = standin.wait_for_deliveries(silent, 1)
    assert nudge.kind == "push" and nudge.retry_key
    assert nudge.texts == [
        "【かごしまDX相談窓口】\nご相談のお申し込みが途中のままになっています。\n"
        "入力いただいた内容は保存してありますので、続きから入力できます。最初から入力し直すこともできます。\n"
        "お申し込みをやめる場合は、このままで大丈夫です。"
    ]

    monday = madoguchi(env, "jobs", "run", "follow-ups", "--at", "2027-02-08T10:00:00+09:00")
    assert (monday.returncode, monday.stdout) == (
        0,
        "follow-ups: nudges: none due; surveys: 1 sent; outcomes: 0 card(s) offered 対応記録を入力\n",
    ), monday.stderr
    [survey] = standin.wait_for_deliveries(surveyed, 1)
    assert survey.texts == [
        "【かごしまDX相談窓口】\n2月5日(金) 14:00〜15:00のご相談、ありがとうございました。\n"
        "よろしければ、満足度を5段階でお聞かせください（5がいちばん満足）。"
    ]
    labels = [i["action"]["label"] for i in survey.messages[0]["quickReply"]["items"]]
    assert labels == ["5 とても満足", "4 満足", "3 ふつう", "2 やや不満", "1 不満"]

    again = madoguchi(env, "jobs", "run", "follow-ups", "--at", "2027-02-09T10:00:00+09:00")
    assert (again.returncode, again.stdout) == (
        0,
        "follow-ups: nudges: none due; surveys: none due; outcomes: 0 card(s) offered 対応記録を入力\n",
    )
    assert len(standin.deliveries_to(silent)) == 1 and len(standin.deliveries_to(surveyed)) == 1
    with server.db.session() as session:
        [row] = session.scalars(select(store.SatisfactionSurvey)).all()
        assert (row.booking_id, row.status) == (booking, "sent")
