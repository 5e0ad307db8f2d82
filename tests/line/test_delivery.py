"""The outbox over the real SDK and the stand-in: reply first, push with one retry key, bounded retries."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from bot.messages import Button, DatePicker, MessageLimitError, OutMessage
from handlers.line.client import LineApi, Outcome
from handlers.line.render import render_messages
from storage.contacts import find_contact
from storage.database import Database
from storage.models import Contact, OutboxMessage
from storage.outbox import enqueue
from tests.idle import wait_servers_idle
from tests.line.conftest import InProcessServer, LineUser, free_port
from tests.line.standin import TOKEN, LineStandIn

PUSH, REPLY = "/v2/bot/message/push", "/v2/bot/message/reply"


def outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def wait_settled(db: Database, count: int = 1, timeout: float = 10.0) -> list[OutboxMessage]:
    deadline = time.monotonic() + timeout
    while True:
        rows = outbox(db)
        if len(rows) >= count and all(r.status != "pending" for r in rows):
            return rows
        assert time.monotonic() < deadline, [(r.status, r.last_error) for r in rows]
        time.sleep(0.02)


def test_a_fresh_reply_token_is_used_and_no_push_is_made(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    delivery = user.say("相談したい")
    assert delivery.kind == "reply" and delivery.retry_key is None
    [row] = wait_settled(server.db)
    assert (row.status, row.delivered_via, row.reply_token) == ("sent", "reply", None)
    assert standin.statuses(PUSH) == []


def test_a_spent_reply_token_falls_back_to_a_push_with_the_rows_retry_key(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.refuse_reply_tokens()
    server = start_server()
    user = LineUser(server.url, standin)
    delivery = user.say("相談したい")
    [row] = wait_settled(server.db)
    assert delivery.kind == "push" and delivery.retry_key == row.retry_key
    assert (row.status, row.delivered_via) == ("sent", "push")
    assert standin.statuses(REPLY) == [400]


def test_a_push_that_got_500_is_retried_with_the_same_key_and_delivered_once(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.refuse_reply_tokens()
    standin.fail(PUSH, 500, deliver_first=True)  # LINE delivered it, but the answer was a 500
    standin.fail(PUSH, 503)  # and then one that really failed
    server = start_server()
    user = LineUser(server.url, standin)
    user.post(user.text("相談したい"))
    [row] = wait_settled(server.db)
    assert (row.status, row.delivered_via) == ("sent", "push-409")
    assert len(standin.deliveries_to(user.user_id)) == 1
    pushes = [(status, key) for path, status, key in standin.state.requests if path == PUSH]
    assert [status for status, _ in pushes] == [500, 503, 409]
    assert {key for _, key in pushes} == {row.retry_key}


def test_a_refused_access_token_is_retried_not_parked(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.refuse_reply_tokens()
    standin.fail(PUSH, 401, times=2)  # the channel's token was rotated; the operator renews it meanwhile
    server = start_server()
    user = LineUser(server.url, standin)
    user.post(user.text("相談したい"))
    [row] = wait_settled(server.db)
    assert (row.status, row.delivered_via, row.attempts) == ("sent", "push", 3)
    assert len(standin.deliveries_to(user.user_id)) == 1


def test_a_reply_that_got_500_is_retried_with_its_token_while_fresh(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.fail(REPLY, 500)
    server = start_server()
    user = LineUser(server.url, standin)
    user.post(user.text("相談したい"))
    [row] = wait_settled(server.db)
    assert (row.status, row.delivered_via) == ("sent", "reply")
    assert standin.statuses(REPLY) == [500, 200] and standin.statuses(PUSH) == []
    assert len(standin.deliveries_to(user.user_id)) == 1


def test_a_reply_whose_answer_was_lost_is_not_pushed_again(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.fail(REPLY, 500, deliver_first=True)
    server = start_server()
    user = LineUser(server.url, standin)
    user.post(user.text("相談したい"))
    [row] = wait_settled(server.db)
    assert (row.status, row.delivered_via) == ("sent", "reply-uncertain")
    assert standin.statuses(REPLY) == [500, 400] and standin.statuses(PUSH) == []
    assert len(standin.deliveries_to(user.user_id)) == 1


def test_429_waits_for_retry_after_then_delivers_once(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.refuse_reply_tokens()
    standin.fail(PUSH, 429)
    server = start_server()
    user = LineUser(server.url, standin)
    user.post(user.text("相談したい"))
    [row] = wait_settled(server.db)
    assert row.status == "sent" and standin.statuses(PUSH) == [429, 200]
    times = [d.at for d in standin.deliveries_to(user.user_id)]
    assert len(times) == 1


def test_an_unreachable_line_api_is_retried_a_bounded_number_of_times_then_parked(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server(api_url=f"http://127.0.0.1:{free_port()}", MADOGUCHI_LINE_MAX_ATTEMPTS="3")
    user = LineUser(server.url, standin)
    user.post(user.text("相談したい"))
    [row] = wait_settled(server.db)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error is not None and "gave up after 3 attempts" in row.last_error
    health = httpx.get(f"{server.url}/healthz?detail=1").json()
    assert health["status"] == "ok"
    assert health["detail"]["line"] == {
        "inbox_pending": 0,
        "inbox_failed": 0,
        "outbox_pending": 0,
        "outbox_failed": 1,
        "outbox_skipped": 0,
        "outbox_rejected": 0,
    }


def test_an_unfollowed_contact_gets_no_push(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    user.say("相談したい")
    user.post(user.event("unfollow", reply=False))
    deadline = time.monotonic() + 5
    while True:
        with server.db.session() as session:
            contact = find_contact(session=session, channel="line", external_id=user.user_id)
            assert contact is not None
            if not contact.reachable:
                # What a reminder would do: a message with no reply token, for the push path.
                enqueue(
                    session=session,
                    channel="line",
                    contact_id=contact.id,
                    now=server.services.clock.now(),
                    messages=[OutMessage("明日のご相談のお知らせです。").to_dict()],
                )
                break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    rows = wait_settled(server.db, 2)
    assert (rows[-1].status, rows[-1].last_error) == ("skipped", "the contact is not reachable (unfollowed)")
    assert standin.statuses(PUSH) == [] and len(standin.deliveries_to(user.user_id)) == 1
    with server.db.session() as session:
        assert session.get(Contact, rows[-1].contact_id).reachable is False  # type: ignore[union-attr]


def test_rendering_refuses_what_line_would_refuse() -> None:
    with pytest.raises(MessageLimitError):
        render_messages([OutMessage("x")] * 6)
    with pytest.raises(MessageLimitError):
        render_messages([])
    with pytest.raises(MessageLimitError):
        render_messages(
            [
                {
                    "text": "x",
                    "actions": [
                        {"type": "datetime", "label": "日時", "data": "d", "initial": "2026-12-01 10:00"}
                    ],
                }
            ]
        )
    with pytest.raises(MessageLimitError):
        Button("二十文字を超えるとても長いボタンのラベルです", "data")


def test_quick_replies_and_a_datetime_picker_reach_line_as_line_expects(standin: LineStandIn) -> None:
    api = LineApi(base_url=standin.url, access_token=TOKEN)
    buttons = tuple(Button(f"選択肢{i}", f"tok|step|{i}", display=f"選択肢{i}") for i in range(12))
    picker = DatePicker(
        "日時を選ぶ",
        "tok|when|pick",
        initial="2026-12-01T10:00",
        min="2026-11-26T09:00",
        max="2027-01-31T17:00",
    )
    messages = render_messages([OutMessage("ご希望の日時をお選びください。", (*buttons, picker))])
    token = standin.issue_reply_token("Uabc")
    assert api.reply(token, messages).outcome is Outcome.DELIVERED
    [delivery] = standin.deliveries
    items = delivery.messages[0]["quickReply"]["items"]
    assert items[0]["action"] == {
        "type": "postback",
        "label": "選択肢0",
        "data": "tok|step|0",
        "displayText": "選択肢0",
    }
    assert items[-1]["action"] == {
        "type": "datetimepicker",
        "label": "日時を選ぶ",
        "data": "tok|when|pick",
        "mode": "datetime",
        "initial": "2026-12-01T10:00",
        "min": "2026-11-26T09:00",
        "max": "2027-01-31T17:00",
    }
    assert api.reply(token, messages).outcome is Outcome.TOKEN_REFUSED  # single use
    key = "123e4567-e89b-12d3-a456-426614174000"
    assert api.push("Uabc", messages, key).outcome is Outcome.DELIVERED
    assert api.push("Uabc", messages, key).outcome is Outcome.DUPLICATE
    assert api.show_loading("Uabc").outcome is Outcome.DELIVERED
    api.close()


def test_a_claim_whose_lease_ran_out_mid_call_does_not_send_twice(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    # One sender, a one-second lease, and LINE keeping a reply hanging after accepting it: the lease runs
    # out mid-call, a second process claims the row again, and the first call's late answer must not lead
    # to a push of what was already delivered, for this owner or the one whose row came next.
    tuning = {"MADOGUCHI_LINE_SENDERS": "1", "MADOGUCHI_LINE_LEASE": "1", "MADOGUCHI_LINE_READ_TIMEOUT": "8"}
    first = start_server(**tuning)
    x, y = LineUser(first.url, standin), LineUser(first.url, standin)
    standin.hang_after_accepting("/v2/bot/message/reply", 2.5)
    assert x.post(x.text("相談したい"), y.text("相談したい")).status_code == 200
    standin.wait_for(lambda: len(standin.deliveries) == 1, what="the first reply accepted and hanging")
    second = start_server(database_url=first.services.settings.database_url, **tuning)
    rows = wait_settled(first.db, count=2, timeout=15)
    standin.release_hangs()
    wait_servers_idle(first, second)  # and what the first process does once its hanging call returns
    assert [r.status for r in outbox(first.db)] == ["sent", "sent"], [r.last_error for r in rows]
    for user in (x, y):
        assert [d.kind for d in standin.deliveries_to(user.user_id)] == ["reply"]
