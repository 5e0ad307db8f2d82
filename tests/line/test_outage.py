"""A LINE outage (5xx and timeouts for a minute and more) loses no answer: every one arrives after it, once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.messages import OutMessage
from handlers.line.client import LineApi
from handlers.line.delivery import LineDelivery
from handlers.line.sync import WriteGate
from handlers.settings import Settings
from storage.clock import FixedClock
from storage.contacts import find_contact, get_or_create_contact
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import claim_due_messages, enqueue
from tests.idle import wait_servers_idle
from tests.line.conftest import InProcessServer, LineUser, RunningClock, server_env
from tests.line.standin import TOKEN, LineStandIn

PUSH, REPLY = "/v2/bot/message/push", "/v2/bot/message/reply"
SPEED = 20.0  # clock seconds per wall-clock second: a 70 s outage lasts 3.5 s
# In clock seconds, except the HTTP timeouts and the poll (wall-clock seconds).
OUTAGE_TUNING = {
    "MADOGUCHI_LINE_READ_TIMEOUT": "0.3",
    "MADOGUCHI_LINE_CONNECT_TIMEOUT": "0.3",
    "MADOGUCHI_LINE_LEASE": "30",
    "MADOGUCHI_LINE_RETRY_BASE": "2",
    "MADOGUCHI_LINE_RETRY_CAP": "16",
    "MADOGUCHI_LINE_MAX_ATTEMPTS": "4",
    "MADOGUCHI_LINE_POLL": "0.05",
    "MADOGUCHI_LINE_REORDER_WINDOW": "0.5",
}


def outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def line_counts(server: InProcessServer) -> dict[str, Any]:
    detail: dict[str, Any] = httpx.get(f"{server.url}/healthz?detail=1", timeout=5).json()["detail"]
    return dict(detail["line"])


def contact_id(db: Database, user: LineUser) -> int:
    with db.session() as session:
        contact = find_contact(session=session, channel="line", external_id=user.user_id)
        assert contact is not None
        return contact.id


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def all_sent(db: Database, count: int) -> bool:
    rows = outbox(db)
    return len(rows) == count and all(r.status == "sent" for r in rows)


def say_at(user: LineUser, clock: RunningClock, text: str, age: float = 0.0) -> None:
    """Posts a text event stamped by the server's clock (`age` seconds ago)."""
    ts = int((clock.now().timestamp() - age) * 1000)
    assert user.post(user.text(text, ts=ts)).status_code == 200


def test_every_answer_arrives_once_after_a_line_outage_of_more_than_a_minute(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    clock = RunningClock(SPEED)
    # Parked rows may only come back because LINE answered a call again: no probe within the test.
    server = start_server(clock=clock, MADOGUCHI_LINE_RESUME_INTERVAL="100000", **OUTAGE_TUNING)
    standin.begin_outage(hang=2.0)
    began = clock.seconds()
    early = [LineUser(server.url, standin) for _ in range(8)]
    for i, user in enumerate(early):
        # Half of them come from events 45 s old (as after a backlog): their reply tokens go stale at once,
        # so they are pushed during the outage, and LINE accepts some of those pushes without saying so.
        say_at(user, clock, "相談したい", age=45.0 if i % 2 else 0.0)
    most_parked = 0
    while clock.seconds() - began < 45:
        most_parked = max(most_parked, line_counts(server)["outbox_failed"])
        time.sleep(0.1)
    late = [LineUser(server.url, standin) for _ in range(4)]  # their reply tokens outlast the outage
    for user in late:
        say_at(user, clock, "相談したい")
    while clock.seconds() - began < 70:
        counts = line_counts(server)
        most_parked = max(most_parked, counts["outbox_failed"])
        time.sleep(0.1)
    assert counts["outbox_pending"] + counts["outbox_failed"] == 12  # nothing got through the outage
    assert most_parked > 0  # answers were parked as failed during it, and came back after it
    assert {d.kind for d in standin.deliveries} <= {"push"}  # accepted, but never answered 200
    standin.end_outage()
    # The next owner to write: the first call LINE answers brings the parked answers back. (The late ones'
    # own retries may all have failed fast and parked them before the outage ended: then nothing else
    # would call LINE in this test, which turns off the probe that does so in production.)
    after = LineUser(server.url, standin)
    say_at(after, clock, "相談したい")

    wait_until(lambda: all_sent(server.db, 13), 20, "every answer sent")
    wait_servers_idle(server)
    rows = outbox(server.db)
    users = early + late + [after]
    firsts = [standin.deliveries_to(user.user_id) for user in users]
    assert [len(d) for d in firsts] == [1] * len(users)  # every owner has the answer, once
    assert len({tuple(d[0].texts) for d in firsts}) == 1 and firsts[0][0].texts[0]
    via = {r.delivered_via for r in rows}
    assert {"push", "push-409"} <= via  # 409: a push LINE had accepted in the outage, not shown twice
    fresh = {contact_id(server.db, u) for i, u in enumerate(early) if not i % 2} | {
        contact_id(server.db, u) for u in [*late, after]
    }
    for row in rows:
        # Every failed reply was a 5xx or a timeout: a push after one may repeat a reply that did arrive.
        pushed = row.delivered_via in ("push", "push-409")
        assert not (row.duplicate_possible and not pushed), row.delivered_via
        if row.contact_id in fresh:  # (the others may have found their tokens stale before any reply)
            assert row.duplicate_possible is pushed, row.delivered_via
    row_keys = {r.retry_key for r in rows}
    push_keys = [key for path, _, key in standin.state.requests if path == PUSH]
    assert push_keys and set(push_keys) <= row_keys
    assert line_counts(server) == {
        "inbox_pending": 0,
        "inbox_failed": 0,
        "outbox_pending": 0,
        "outbox_failed": 0,
        "outbox_skipped": 0,
        "outbox_rejected": 0,
    }


def test_answers_parked_with_nothing_else_to_send_go_out_once_line_answers_again(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    clock = RunningClock(SPEED)
    tuning = OUTAGE_TUNING | {"MADOGUCHI_LINE_MAX_ATTEMPTS": "2", "MADOGUCHI_LINE_RESUME_INTERVAL": "20"}
    server = start_server(clock=clock, **tuning)
    standin.begin_outage(hang=2.0, accepting_pushes=False)
    users = [LineUser(server.url, standin) for _ in range(3)]
    for user in users:
        say_at(user, clock, "相談したい")
    wait_until(lambda: line_counts(server)["outbox_failed"] == 3, 15, "every answer parked")
    time.sleep(60 / SPEED)  # a minute more of outage, with every answer parked
    assert standin.deliveries == []
    standin.end_outage()  # and nothing else happens: no owner writes, no new answer to send

    wait_until(lambda: all_sent(server.db, 3), 15, "the parked answers sent")
    wait_servers_idle(server)
    for user in users:
        assert len(standin.deliveries_to(user.user_id)) == 1
    assert line_counts(server)["outbox_failed"] == 0


def test_an_owner_who_writes_again_after_the_outage_gets_the_parked_answer_first(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    clock = RunningClock(SPEED)
    tuning = OUTAGE_TUNING | {"MADOGUCHI_LINE_MAX_ATTEMPTS": "2", "MADOGUCHI_LINE_RESUME_INTERVAL": "100000"}
    server = start_server(clock=clock, **tuning)
    standin.begin_outage(hang=2.0, accepting_pushes=False)
    user = LineUser(server.url, standin)
    say_at(user, clock, "相談したい")
    wait_until(lambda: line_counts(server)["outbox_failed"] == 1, 15, "the answer parked")
    standin.end_outage()
    say_at(user, clock, "はい")  # the owner, still waiting, writes again once LINE is back

    wait_until(lambda: all_sent(server.db, 2), 15, "both answers")
    wait_servers_idle(server)
    rows = outbox(server.db)
    expected = [[m["text"] for m in row.payload["messages"]] for row in rows]
    assert [d.texts for d in standin.deliveries_to(user.user_id)] == expected  # in order, once each
    assert [r.delivered_via for r in rows] == ["push", "reply"]


def park_answers(server: InProcessServer, standin: LineStandIn, count: int) -> list[LineUser]:
    standin.begin_outage(hang=1.0, accepting_pushes=False)
    users = [LineUser(server.url, standin) for _ in range(count)]
    for user in users:
        assert user.post(user.text("相談したい")).status_code == 200
    wait_until(lambda: line_counts(server)["outbox_failed"] == count, 15, "the answers parked")
    standin.end_outage()
    return users


def madoguchi(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_"))},
        **server_env(database_url, "http://127.0.0.1:9", tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


QUIET = {"MADOGUCHI_LINE_MAX_ATTEMPTS": "2", "MADOGUCHI_LINE_RESUME_INTERVAL": "100000"} | {
    k: OUTAGE_TUNING[k] for k in ("MADOGUCHI_LINE_READ_TIMEOUT", "MADOGUCHI_LINE_CONNECT_TIMEOUT")
}


def test_outbox_retry_all_resends_what_was_parked(
    start_server: Callable[..., InProcessServer], standin: LineStandIn, tmp_path: Path
) -> None:
    server = start_server(**QUIET)
    users = park_answers(server, standin, 2)
    wait_servers_idle(server)
    assert [r.status for r in outbox(server.db)] == ["failed", "failed"]  # nothing sends them by itself here
    assert standin.deliveries == []

    done = madoguchi(server.services.settings.database_url, tmp_path, "outbox", "retry", "--all")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 message(s) queued to be sent again")
    wait_until(lambda: all_sent(server.db, 2), 15, "the resent answers")
    wait_servers_idle(server)
    for user in users:
        [delivery] = standin.deliveries_to(user.user_id)
        assert delivery.kind == "push"
    row = outbox(server.db)[0]
    again = madoguchi(server.services.settings.database_url, tmp_path, "outbox", "retry", str(row.id))
    assert (again.returncode, again.stderr) == (1, f"outbox message {row.id} was already sent (push)\n")
    unknown = madoguchi(server.services.settings.database_url, tmp_path, "outbox", "retry", "424242")
    assert (unknown.returncode, unknown.stderr) == (1, "no outbox message 424242\n")
    nothing = madoguchi(server.services.settings.database_url, tmp_path, "outbox", "retry", "--all")
    assert nothing.stdout.startswith("0 message(s)")


def test_outbox_retry_one_id_queues_that_row_only(
    start_server: Callable[..., InProcessServer], standin: LineStandIn, tmp_path: Path
) -> None:
    first = start_server(**QUIET)
    url = first.services.settings.database_url
    users = park_answers(first, standin, 2)
    first.stop()
    [one, other] = outbox(first.db)

    done = madoguchi(url, tmp_path, "outbox", "retry", str(one.id))
    assert (done.returncode, done.stdout[:2]) == (0, "1 ")
    assert [(r.status, r.attempts) for r in outbox(first.db)] == [("pending", 0), ("failed", 2)]

    second = start_server(database_url=url, **QUIET)
    # The row resent by hand goes out; LINE's answer to it brings the other parked one back as well.
    wait_until(lambda: all_sent(second.db, 2), 15, "both answers")
    wait_servers_idle(second)
    assert [len(standin.deliveries_to(u.user_id)) for u in users] == [1, 1]
    assert standin.deliveries[0].user_id == users[0].user_id


def _delivery(db: Database, standin: LineStandIn, clock: FixedClock) -> LineDelivery:
    api = LineApi(base_url=standin.url, access_token=TOKEN, connect_timeout=0.3, read_timeout=0.3)
    tuning = Settings(_env_file=None).line_tuning  # type: ignore[call-arg]
    return LineDelivery(db=db, api=api, clock=clock, tuning=tuning, gate=WriteGate(enabled=False))


def _answer_with_reply_token(db: Database, standin: LineStandIn, clock: FixedClock, user_id: str) -> int:
    with db.session() as session:
        contact = get_or_create_contact(session=session, channel="line", external_id=user_id)
        row = enqueue(
            session=session,
            channel="line",
            contact_id=contact.id,
            messages=[OutMessage("ご相談を承ります。").to_dict()],
            now=clock.now(),
            reply_token=standin.issue_reply_token(user_id),
            reply_expires_at=clock.now() + timedelta(seconds=50),
        )
        session.flush()
        return row.id


def _deliver_due(delivery: LineDelivery) -> int:
    """What the worker's senders do with what it claims, one row after the other in this thread."""
    due = delivery.claim(8)
    for message in due:
        delivery.deliver_safely(message)
    return len(due)


def test_a_process_that_died_mid_reply_is_followed_by_a_push_once_the_token_is_stale(
    db: Database, standin: LineStandIn, clock: FixedClock
) -> None:
    user_id = "U" + "c" * 32
    row_id = _answer_with_reply_token(db, standin, clock, user_id)
    with db.session() as session:  # what the process did before it died: the token marked as tried
        [claimed] = claim_due_messages(
            session=session, channel="line", now=clock.now(), lease=timedelta(seconds=30), limit=1
        )
    assert claimed.id == row_id and claimed.reply_token
    clock.advance(seconds=60)  # its lease and the reply token have both run out
    delivery = _delivery(db, standin, clock)
    assert _deliver_due(delivery) == 1
    with db.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        assert (row.status, row.delivered_via, row.duplicate_possible) == ("sent", "push", True)
    [push] = standin.deliveries_to(user_id)
    assert (push.kind, push.retry_key, push.texts) == ("push", row.retry_key, ["ご相談を承ります。"])
    delivery.api.close()


def test_a_reply_that_timed_out_after_arriving_is_pushed_too_and_the_row_says_it_may_be_twice(
    db: Database, standin: LineStandIn, clock: FixedClock
) -> None:
    user_id = "U" + "d" * 32
    row_id = _answer_with_reply_token(db, standin, clock, user_id)
    delivery = _delivery(db, standin, clock)
    standin.hang_after_accepting(REPLY, 2.0)  # LINE has the reply; its answer never comes back
    assert _deliver_due(delivery) == 1
    standin.release_hangs()
    clock.advance(seconds=60)  # the retry comes after the token went stale
    assert _deliver_due(delivery) == 1
    with db.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        assert (row.status, row.delivered_via, row.duplicate_possible) == ("sent", "push", True)
    # The desk's choice: a rare duplicate (recorded on the row) rather than a lost answer.
    assert [d.kind for d in standin.deliveries_to(user_id)] == ["reply", "push"]
    delivery.api.close()


def test_a_message_line_refuses_is_parked_as_rejected_and_not_sent_again_by_itself(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.fail(REPLY, 400)  # e.g. a message LINE will not take: sending it again fails the same way
    server = start_server()
    refused, other = LineUser(server.url, standin), LineUser(server.url, standin)
    refused.post(refused.text("相談したい"))
    wait_until(lambda: line_counts(server)["outbox_rejected"] == 1, 10, "the refused answer parked")
    other.say("相談したい")  # LINE answers this one: what was parked as failed would go out again now
    wait_servers_idle(server)
    [row, sent] = outbox(server.db)
    assert (row.status, sent.status) == ("rejected", "sent")
    assert row.last_error is not None and row.last_error.startswith("refused by LINE: 400")
    assert standin.deliveries_to(refused.user_id) == []
    counts = line_counts(server)
    assert (counts["outbox_failed"], counts["outbox_rejected"]) == (0, 1)
