"""The desk's own jobs, with an injected clock, through the real slack_sdk against the Slack stand-in (and
line-bot-sdk against the LINE stand-in): the coordinators' morning digest (its content, once a day, not on
a holiday), the LINE quota warning once a month at 80 %, a push LINE refused for the quota listed in the
digest, the monthly summary's figures on a hand-built month and once per month, and parked messages
reported once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select

from bot.digest import DigestSender
from bot.messages import OutMessage
from bot.monthly_summary import MonthlySummarySender
from bot.parked_report import ParkedReporter
from bot.quota import QuotaWatch
from bot.sending import Outbound
from config import DeskConfig
from handlers.line.client import LineApi
from handlers.line.delivery import LineDelivery
from handlers.line.quota import quota_reader
from handlers.line.sync import WriteGate
from handlers.settings import Settings
from handlers.slack.delivery import SlackDelivery
from storage import desk_posts
from storage.bookings import Booking
from storage.clock import JST, FixedClock
from storage.contacts import create_anonymous_contact, get_or_create_contact
from storage.database import Database
from storage.models import Company, Consultation, ConsultationEvent, OutboxMessage
from storage.outbox import FAILED, QUOTA_REFUSED, REJECTED, SENT, SKIPPED, enqueue
from tests.line.standin import TOKEN, LineStandIn
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_cards import rows

YAMADA, SUZUKI = "example-yamada", "example-suzuki"
_numbers = count(1)


def jst(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


@pytest.fixture
def clock() -> FixedClock:
    """Thursday 2026-12-03 08:30 in Japan, a working day."""
    return FixedClock(jst(2026, 12, 3, 8, 30))


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    server = LineStandIn().start()
    yield server
    server.close()


@pytest.fixture
def line_api(line: LineStandIn) -> Iterator[LineApi]:
    api = LineApi(base_url=line.url, access_token=TOKEN)
    yield api
    api.close()


def consultation(
    db: Database,
    *,
    company: str | None = "山田商店",
    submitted_at: datetime | None = None,
    status: str = "submitted",
    method: str = "online",
    category: str = "efficiency",
    region: str = "kagoshima",
    line_user: str | None = None,
    phone: str = "099-000-1234",
) -> int:
    with db.session() as session:
        if line_user:
            contact = get_or_create_contact(session=session, channel="line", external_id=line_user)
        else:
            contact = create_anonymous_contact(session=session, channel="web")
        firm = Company(name=company)
        session.add(firm)
        session.flush()
        row = Consultation(
            reference=f"202612-{next(_numbers):05d}",
            status=status,
            channel="line" if line_user else "web",
            contact_id=contact.id,
            company_id=firm.id,
            company_name=company,
            sole_trader=company is None,
            contact_name="鹿児島 太郎",
            phone=phone,
            industry="I",
            municipality_code="46201",
            region=region,
            employee_band="1-5",
            category=category,
            description="相談内容",
            dx_stage="none",
            method=method,
            notice_version="test",
            submitted_at=submitted_at or jst(2026, 12, 1, 10),
        )
        session.add(row)
        session.flush()
        return row.id


def booking(
    db: Database,
    consultation_id: int,
    starts_at: datetime,
    *,
    status: str = "confirmed",
    coordinator: str = YAMADA,
    method: str = "online",
) -> int:
    with db.session() as session:
        ends_at = starts_at + timedelta(hours=1)
        row = Booking(
            consultation_id=consultation_id,
            coordinator_id=coordinator,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_from=starts_at,
            blocked_until=ends_at,
            method=method,
            status=status,
            created_at=starts_at - timedelta(days=3),
        )
        session.add(row)
        session.flush()
        return row.id


def line_row(db: Database, clock: FixedClock, consultation_id: int, status: str, error: str = "") -> int:
    """An outbox row of a LINE message to the consultation's owner, left in `status`."""
    with db.session() as session:
        contact_id = session.get(Consultation, consultation_id).contact_id  # type: ignore[union-attr]
        row = enqueue(
            session=session,
            channel="line",
            contact_id=contact_id,
            messages=[OutMessage("ご予約のお知らせです").to_dict()],
            now=clock.now() - timedelta(hours=5),
            consultation_id=consultation_id,
            reason="booking_confirmed",
        )
        session.flush()
        row.status, row.last_error = status, error or None
        return row.id


def drain(delivery: SlackDelivery) -> None:
    while delivery.run_once():
        pass


def dms(slack: SlackStandIn, user: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls("chat.postMessage") if c.ok and c.args["channel"] == user]


def shown(message: dict[str, Any]) -> str:
    """Everything a coordinator reads of a message: its blocks' texts and the notification text."""
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return json.dumps(blocks, ensure_ascii=False) + message["text"]


def digest_sender(db: Database, outbound: Outbound, desk: DeskConfig, clock: FixedClock) -> DigestSender:
    return DigestSender(db=db, outbound=outbound, desk=desk, recorded=clock)


def test_the_digest_lists_todays_appointments_waiting_requests_and_owners_to_call_once_a_day(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    today = consultation(db, company="山田商店")
    booking(db, today, jst(2026, 12, 3, 14, 0))
    tomorrow = consultation(db, company="明日の会社")
    booking(db, tomorrow, jst(2026, 12, 4, 10, 0))
    waits = consultation(db, company=None, method="phone")  # a sole trader without a trade name
    booking(db, waits, jst(2026, 12, 8, 10, 0), status="requested", method="phone")
    quota = consultation(db, company="上限商会", line_user="U" + "a" * 32)
    booking(db, quota, jst(2026, 12, 10, 10, 0))
    line_row(db, clock, quota, REJECTED, f"refused by LINE: 429 {QUOTA_REFUSED}")
    blocked = consultation(db, company="ブロック工業", line_user="U" + "b" * 32)
    booking(db, blocked, jst(2026, 12, 11, 10, 0))
    with db.session() as session:
        session.get(Consultation, blocked).contact.reachable = False  # type: ignore[union-attr]
    failed = consultation(db, company="失敗物産", line_user="U" + "c" * 32)
    booking(db, failed, jst(2026, 12, 12, 10, 0))
    line_row(db, clock, failed, FAILED, "gave up after 8 attempts: 503 from LINE")
    others = consultation(db, company="鈴木さんの会社", line_user="U" + "d" * 32)
    booking(db, others, jst(2026, 12, 3, 16, 0), coordinator=SUZUKI)
    line_row(db, clock, others, SKIPPED, "the contact is not reachable (unfollowed)")

    job = digest_sender(db, outbound, desk, clock)
    assert job.run(clock.now()) == "3 digest(s) queued, 0 already sent for 2026-12-03"
    assert job.run(clock.now() + timedelta(hours=2)) == "0 digest(s) queued, 3 already sent for 2026-12-03"
    drain(delivery)

    [mine] = dms(slack, "U0EXYAMADA")
    text = shown(mine)
    assert "12月3日(木)のお知らせです" in text
    assert "本日のご相談（1件）" in text and "12/3(木) 14:00〜15:00　オンライン(Web会議)　山田商店" in text
    assert "明日の会社" not in text
    assert "お返事待ちのご依頼（1件）" in text and "12/8(火) 10:00〜11:00　電話　個人事業主（" in text
    assert "ご連絡が必要な方（3件）" in text
    assert "上限商会" in text and "LINEの月間送信上限のため未送信" in text
    assert "ブロック工業" in text and "LINEがブロックされています" in text
    assert "失敗物産" in text and "LINEで送信できませんでした" in text
    assert "「連絡先を見る」" in text
    assert "099-000-1234" not in text and "鹿児島 太郎" not in text  # no more than the card shows
    assert mine["text"] == "本日のご相談 1件・お返事待ち 1件・ご連絡が必要な方 3件"
    [theirs] = dms(slack, "U0EXSUZUKI")
    assert "鈴木さんの会社（" in shown(theirs) and "LINEがブロックされています" in shown(theirs)
    assert "山田商店" not in shown(theirs)
    [empty] = dms(slack, "U0EXTANAKA")
    assert empty["text"] == "本日のご相談 0件・お返事待ち 0件・ご連絡が必要な方 0件"
    assert [r.status for r in rows(db)] == [SENT, SENT, SENT]
    assert slack.messages(INTAKE_CHANNEL) == []  # direct messages only


@pytest.mark.parametrize(
    "day", [jst(2026, 11, 23, 8, 30), jst(2026, 12, 5, 8, 30), jst(2026, 12, 29, 8, 30)], ids=str
)
def test_no_digest_on_a_holiday_a_weekend_or_a_closure(
    db: Database, outbound: Outbound, desk: DeskConfig, clock: FixedClock, day: datetime
) -> None:
    booking(db, consultation(db), day + timedelta(hours=2))
    summary = digest_sender(db, outbound, desk, clock).run(day)
    assert summary == f"{day.date().isoformat()} is not a working day: no digest"
    assert rows(db) == []


def quota_job(db: Database, outbound: Outbound, api: LineApi, clock: FixedClock) -> Any:
    watch = QuotaWatch(db=db, outbound=outbound, warning_ratio=0.8, recorded=clock)
    return quota_reader(api, watch)


def test_the_quota_is_read_daily_and_the_desk_warned_once_a_month_at_80_percent(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    line: LineStandIn,
    line_api: LineApi,
    clock: FixedClock,
) -> None:
    read = quota_job(db, outbound, line_api, clock)
    line.set_quota(200, used=159)
    assert read(jst(2026, 12, 3, 9, 7)) == "159 of 200 messages used in 2026-12"
    line.set_quota(200, used=160)
    assert read(jst(2026, 12, 4, 9, 7)) == "160 of 200 messages used in 2026-12; the desk is warned"
    line.set_quota(200, used=190)
    assert read(jst(2026, 12, 5, 9, 7)).endswith("the desk was warned already this month")
    drain(delivery)
    [warning] = slack.messages(INTAKE_CHANNEL)
    assert "上限の80%に達しました（160／200通）" in warning["text"]
    line.set_quota(200, used=170)  # the next month is warned again
    assert read(jst(2027, 1, 4, 9, 7)).endswith("the desk is warned")
    line.set_quota(None, used=5000)  # a plan without a limit warns nobody
    assert read(jst(2027, 1, 5, 9, 7)) == "5000 of unlimited messages used in 2027-01"
    with db.session() as session:
        readings = session.scalars(select(desk_posts.QuotaReading).order_by(desk_posts.QuotaReading.id))
        assert [(r.month, r.quota, r.used) for r in readings] == [
            ("2026-12", 200, 159),
            ("2026-12", 200, 160),
            ("2026-12", 200, 190),
            ("2027-01", 200, 170),
            ("2027-01", None, 5000),
        ]
    line.fail("/v2/bot/message/quota", 500)
    assert read(jst(2027, 1, 6, 9, 7)) == "LINE did not tell the quota (HTTP 500): nothing recorded"


def test_a_push_refused_for_the_monthly_quota_is_not_retried_and_the_digest_lists_whom_to_call(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    line: LineStandIn,
    line_api: LineApi,
    clock: FixedClock,
) -> None:
    owner = consultation(db, company="上限商会", line_user="U" + "e" * 32)
    booking(db, owner, jst(2026, 12, 3, 15, 0))
    with db.session() as session:
        contact = session.get(Consultation, owner).contact  # type: ignore[union-attr]
        outbound.to_contact(
            session=session,
            contact=contact,
            messages=[OutMessage("ご予約が確定しました")],
            reason="booking_confirmed",
            consultation_id=owner,
        )
    line.set_quota(200, used=200, enforce=True)
    tuning = Settings(_env_file=None).line_tuning  # type: ignore[call-arg]
    sender = LineDelivery(db=db, api=line_api, clock=clock, tuning=tuning, gate=WriteGate(enabled=False))
    for due in sender.claim(10):
        sender.deliver(due)
    assert sender.claim(10) == []  # parked, not retried against a quota that is used up
    with db.session() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "line"))
        assert row.status == REJECTED and QUOTA_REFUSED in (row.last_error or "")
    assert line.deliveries == [] and line.statuses("/v2/bot/message/push") == [429]

    digest_sender(db, outbound, desk, clock).run(clock.now())
    drain(delivery)
    [mine] = dms(slack, "U0EXYAMADA")
    assert "上限商会" in shown(mine) and "LINEの月間送信上限のため未送信" in shown(mine)


def november(db: Database) -> None:
    """A hand-built November 2026 (Japan time), with a consultation on each side of it."""
    a = consultation(db, submitted_at=jst(2026, 11, 1, 0, 0), status="closed", method="onsite")
    b = consultation(db, submitted_at=jst(2026, 11, 10, 9), status="in_progress", method="onsite")
    c = consultation(db, submitted_at=jst(2026, 11, 20, 9), method="online", category="ec_sales")
    d = consultation(db, submitted_at=jst(2026, 11, 30, 23, 59), method="online", region="nansatsu")
    consultation(db, submitted_at=jst(2026, 10, 31, 23, 59))  # October
    consultation(db, submitted_at=jst(2026, 12, 1, 0, 0))  # December
    booking(db, a, jst(2026, 11, 5, 10), status="done", method="onsite")
    booking(db, b, jst(2026, 11, 12, 10), status="done", method="onsite")
    booking(db, c, jst(2026, 11, 25, 10), status="done", method="online")
    booking(db, d, jst(2026, 12, 2, 10), status="confirmed", method="online")
    booking(db, a, jst(2026, 10, 30, 10), status="done", method="onsite")  # held in October
    with db.session() as session:
        for consultation_id, kind, actor, at in (
            (a, "booking_requested", "owner", jst(2026, 11, 1, 0, 5)),
            (a, "booking_confirmed", "U0EXYAMADA", jst(2026, 11, 1, 1, 0)),  # 60 minutes
            (b, "booking_confirmed", "U0EXSUZUKI", jst(2026, 11, 10, 11)),  # 120 minutes
            (b, "in_progress", "U0EXSUZUKI", jst(2026, 11, 10, 12)),
            (c, "booking_cancelled", "owner", jst(2026, 11, 20, 9, 30)),  # the owner's: not a response
            (c, "booking_declined", "U0EXYAMADA", jst(2026, 11, 21, 9)),  # 1440 minutes
            (d, "booking_expired", "system", jst(2026, 12, 1, 9)),
        ):
            session.add(
                ConsultationEvent(consultation_id=consultation_id, kind=kind, actor=actor, detail={}, at=at)
            )


def test_the_monthly_summary_counts_the_previous_japan_month_and_is_posted_once(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    desk: DeskConfig,
    clock: FixedClock,
) -> None:
    november(db)
    job = MonthlySummarySender(db=db, outbound=outbound, desk=desk, recorded=clock)
    assert job.run(jst(2026, 12, 1, 9, 0)) == "the summary of 2026-11 is posted (4 consultation(s))"
    assert job.run(jst(2026, 12, 1, 9, 5)) == "the summary of 2026-11 was posted already: nothing posted"
    [row] = rows(db)
    assert row.payload["messages"][0]["detail"] == {"month": "2026-11"}  # counted when delivered
    drain(delivery)
    [post] = slack.messages(INTAKE_CHANNEL)
    text = shown(post)
    assert post["text"] == "2026年11月のまとめ：受付 4件、実施 3件、現地訪問 2／目標5件"
    assert "2026年11月のご相談のまとめ" in text
    assert "*現地訪問*：2件（目標 5件）" in text and "*満足度の平均*：—" in text
    assert "*初回対応までの時間（中央値）*：2.0時間" in text
    assert "業務効率化（会計・勤怠・受発注・在庫・RPA）：3件" in text and "南薩地域振興局：1件" in text
    assert "対応中：1件" in text and "訪問(現地)：2件" in text


def test_parked_messages_are_reported_to_the_desk_once_in_one_post_per_batch(
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    clock: FixedClock,
) -> None:
    owner = consultation(db, line_user="U" + "f" * 32)
    for status in (FAILED, FAILED, REJECTED, SKIPPED, SENT):
        line_row(db, clock, owner, status)
    reporter = ParkedReporter(db=db, outbound=outbound, recorded=clock)
    assert reporter.run(clock.now()) == "3 newly parked message(s) reported"
    assert reporter.run(clock.now()) == "nothing newly parked"
    line_row(db, clock, owner, FAILED)
    assert reporter.run(clock.now()) == "1 newly parked message(s) reported"
    drain(delivery)
    posts = [m["text"] for m in slack.messages(INTAKE_CHANNEL)]
    assert posts == [
        "送信できずに止まっているメッセージが新たに3件あります（LINE 3件）。"
        "原因を確かめたうえで `madoguchi outbox retry --all` で再送できます。",
        "送信できずに止まっているメッセージが新たに1件あります（LINE 1件）。"
        "原因を確かめたうえで `madoguchi outbox retry --all` で再送できます。",
    ]
    assert "ご予約のお知らせです" not in repr(slack.calls("chat.postMessage"))  # counts only
    assert reporter.run(clock.now()) == "nothing newly parked"
