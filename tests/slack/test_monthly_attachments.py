"""The monthly summary's report files, through the real slack_sdk (`files_upload_v2`) against the Slack
stand-in: the month's xlsx and PDF shared once in the post's thread, their numbers the post's; nothing posted
or shared twice after a crash or a lost answer; a 429 waited out; a refused upload leaves the post."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot.monthly_summary import MonthlySummarySender
from bot.sending import Outbound
from config import DeskConfig
from handlers.slack.delivery import SlackDelivery
from storage.clock import FixedClock
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import PENDING, REJECTED, SENT, requeue_parked
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_desk_jobs import drain, jst, november, shown

XLSX = "相談対応実績_2026年11月.xlsx"
PDF = "相談対応実績_2026年11月.pdf"
POST = re.compile(r"受付 (\d+)件、実施 (\d+)件、現地訪問 (\d+)／目標(\d+)件")


def post_november(db: Database, outbound: Outbound, desk: DeskConfig, clock: FixedClock) -> None:
    november(db)
    job = MonthlySummarySender(db=db, outbound=outbound, desk=desk, recorded=clock)
    assert job.run(jst(2026, 12, 1, 9, 0)) == "the summary of 2026-11 is posted (4 consultation(s))"


def row(db: Database) -> OutboxMessage:
    with db.session() as session:
        [found] = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "slack"))
        return found


def summary_cells(data: bytes) -> dict[str, Any]:
    """The summary sheet's first column of values (the month's), by label."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheet = book["集計表"]
    return {r[0]: r[1] for r in sheet.iter_rows(values_only=True) if r and isinstance(r[0], str)}


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def the_files(slack: SlackStandIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one post, and the messages of its thread."""
    [post] = slack.messages(INTAKE_CHANNEL)
    return post, slack.thread(INTAKE_CHANNEL, post["ts"])


def test_the_post_carries_the_months_xlsx_and_pdf_in_its_thread_with_the_same_numbers(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    post_november(db, outbound, desk, clock)
    drain(delivery)

    post, thread = the_files(slack)
    assert "県への報告書（Excel・PDF）はこのスレッドに添付します。" in shown(post)
    [shared] = thread
    assert shared["text"] == "2026年11月の相談対応実績報告です（Excel・PDF）。"
    assert [f["name"] for f in shared["files"]] == [XLSX, PDF]
    xlsx, pdf = slack.files()
    assert (xlsx.filename, xlsx.title, xlsx.channel, xlsx.thread_ts) == (
        XLSX,
        "2026年11月 相談対応実績報告（Excel）",
        INTAKE_CHANNEL,
        post["ts"],
    )
    assert (pdf.filename, pdf.title) == (PDF, "2026年11月 相談対応実績報告（PDF）")

    match = POST.search(post["text"])
    assert match is not None, post["text"]
    received, held, visits, target = (int(n) for n in match.groups())
    assert (received, held, visits, target) == (4, 3, 2, 5)
    assert xlsx.data is not None and pdf.data is not None
    cells = summary_cells(xlsx.data)
    assert cells["受付件数"] == received and cells["面談実施件数"] == held
    assert cells["うち企業訪問（現地）"] == visits and cells["企業訪問の目標"] == target
    assert "*初回対応までの時間（中央値）*：2.0時間" in shown(post) and cells["中央値"] == 2.0
    assert pdf.data.startswith(b"%PDF-")
    text = pdf_text(pdf.data, tmp_path)
    assert "2026年11月" in text and "相談対応実績報告" in text

    assert len(slack.calls("chat.postMessage")) == 1
    assert len(slack.calls("files.completeUploadExternal")) == 1
    sent = row(db)
    assert (sent.status, sent.delivered_via) == (SENT, "posted")
    assert sent.payload["progress"] == {"channel": INTAKE_CHANNEL, "ts": post["ts"], "files": [XLSX, PDF]}


class Crashing(SlackDelivery):
    """A delivery whose process dies at one point: after the post, or after the files were shared."""

    def __init__(self, base: SlackDelivery, at: str) -> None:
        super().__init__(
            db=base.db,
            client=base.client,
            clock=base.clock,
            desk=base.desk,
            channel=base.channel,
            tuning=base.tuning,
            post_interval=0,
        )
        self.at = at

    def _progress(self, due: Any, progress: dict[str, Any]) -> bool:
        if self.at == "after the post":
            raise RuntimeError("killed")
        return super()._progress(due, progress)

    def finish(self, due: Any, progress: dict[str, Any], via: str) -> None:
        raise RuntimeError("killed")


@pytest.mark.parametrize("at", ["after the post", "after the files"])
def test_a_delivery_killed_before_it_recorded_posts_and_shares_nothing_twice(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
    at: str,
) -> None:
    post_november(db, outbound, desk, clock)
    assert Crashing(delivery, at).run_once()
    assert row(db).status == PENDING  # leased to the process that died
    assert len(slack.messages(INTAKE_CHANNEL)) == 1
    clock.advance(seconds=delivery.tuning.lease + 1)  # its lease runs out: taken again

    drain(delivery)

    post, thread = the_files(slack)
    assert [f["name"] for m in thread for f in m.get("files", [])] == [XLSX, PDF]
    assert len(slack.calls("chat.postMessage")) == 1
    assert len(slack.files()) == 2
    assert len(slack.calls("files.completeUploadExternal")) == 1
    sent = row(db)
    assert (sent.status, sent.delivered_via) == (SENT, "adopted")


def test_a_lost_answer_to_the_upload_is_not_shared_again(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    post_november(db, outbound, desk, clock)
    slack.drop(method="files.completeUploadExternal", accept_first=True)
    drain(delivery)
    assert row(db).status == PENDING and len(slack.files()) == 2  # shared, but the delivery cannot know
    clock.advance(minutes=10)

    drain(delivery)

    _, thread = the_files(slack)
    assert len(thread) == 1 and len(slack.files()) == 2
    assert len(slack.calls("files.getUploadURLExternal")) == 2  # one per file, once
    assert (row(db).status, row(db).delivered_via) == (SENT, "adopted")


def test_a_429_on_the_upload_is_waited_out_by_the_client(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    post_november(db, outbound, desk, clock)
    slack.rate_limit(1, method="files.getUploadURLExternal", retry_after=1)
    drain(delivery)
    first, again, *_ = slack.calls("files.getUploadURLExternal")
    assert (first.status, again.status) == (429, 200)
    assert again.at - first.at >= 1.0  # the client waited out Retry-After
    assert row(db).status == SENT and len(slack.files()) == 2


def test_past_the_clients_retries_a_429_is_retried_by_the_outbox_no_sooner_than_retry_after(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    eager = SlackDelivery(  # no backoff of its own: only Retry-After keeps it waiting
        db=db,
        client=delivery.client,
        clock=clock,
        desk=desk,
        channel=INTAKE_CHANNEL,
        tuning=replace(delivery.tuning, retry_base=0),
        post_interval=0,
    )
    post_november(db, outbound, desk, clock)
    slack.rate_limit(4, method="files.getUploadURLExternal", retry_after=1)
    drain(eager)
    waiting = row(db)
    assert waiting.status == PENDING and "ratelimited" in (waiting.last_error or "")
    assert (waiting.next_attempt_at - clock.now()).total_seconds() >= 1.0
    assert len(slack.messages(INTAKE_CHANNEL)) == 1 and slack.files() == []
    clock.advance(seconds=1.5)

    drain(eager)

    _, [shared] = the_files(slack)
    assert [f["name"] for f in shared["files"]] == [XLSX, PDF]
    assert len(slack.calls("chat.postMessage")) == 1 and row(db).status == SENT


def test_a_refused_upload_leaves_the_post_and_is_resent_with_outbox_retry(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    post_november(db, outbound, desk, clock)
    slack.refuse("missing_scope", method="files.getUploadURLExternal")  # an app made without files:write
    drain(delivery)
    parked = row(db)
    assert parked.status == REJECTED
    assert parked.last_error == "refused by Slack: posted; its files not attached: missing_scope"
    post, thread = the_files(slack)
    assert post["text"].startswith("2026年11月のまとめ：受付 4件") and thread == []

    with db.session() as session:  # madoguchi outbox retry, once the scope is granted
        assert requeue_parked(session=session, now=clock.now(), message_id=parked.id) == 1
    drain(delivery)

    _, [shared] = the_files(slack)
    assert [f["name"] for f in shared["files"]] == [XLSX, PDF]
    assert len(slack.calls("chat.postMessage")) == 1 and row(db).status == SENT


class NoReport(SlackDelivery):
    """A delivery whose report cannot be built (a font gone missing, say)."""

    def build_report(self, month: str, directory: Path) -> Any:
        raise OSError("no font")


def test_a_report_that_cannot_be_built_does_not_hold_up_the_post(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    post_november(db, outbound, desk, clock)
    broken = NoReport(
        db=db, client=delivery.client, clock=clock, desk=desk, channel=INTAKE_CHANNEL, tuning=delivery.tuning
    )
    drain(broken)
    parked = row(db)
    assert (parked.status, parked.last_error) == ("failed", "posted; its report could not be built")
    post, thread = the_files(slack)
    assert post["text"] == "2026年11月のまとめ：受付 4件、実施 3件、現地訪問 2／目標5件" and thread == []
    assert "スレッドに添付します" not in shown(post)

    with db.session() as session:  # madoguchi outbox retry
        assert requeue_parked(session=session, now=clock.now(), message_id=parked.id) == 1
    drain(delivery)

    _, [shared] = the_files(slack)
    assert [f["name"] for f in shared["files"]] == [XLSX, PDF]
    assert len(slack.calls("chat.postMessage")) == 1 and row(db).status == SENT
