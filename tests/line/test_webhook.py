"""POST /line/webhook over HTTP: signatures, raw bytes, the Verify payload, duplicates, order, a slow LINE."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from linebot.v3.webhook import WebhookParser
from sqlalchemy import select

from handlers.line.sync import WriteGate
from handlers.line.webhook import InboxWriter
from storage.clock import SystemClock
from storage.database import Database
from storage.inbox import NewEvent
from storage.models import InboxEvent, Interaction, OutboxMessage
from tests.idle import wait_servers_idle
from tests.line.conftest import SECRET, InProcessServer, LineUser, sign
from tests.line.standin import LineStandIn


def inbox(db: Database) -> list[InboxEvent]:
    with db.session() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def inbound_texts(db: Database) -> list[str | None]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Interaction.text).where(Interaction.direction == "in").order_by(Interaction.id)
            )
        )


def wait_processed(db: Database, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(e.status == "processed" for e in inbox(db)) < count:
        assert time.monotonic() < deadline, [e.status for e in inbox(db)]
        time.sleep(0.02)


def test_forged_and_missing_signatures_get_400_and_store_nothing(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    body = json.dumps({"destination": "Ubot", "events": [user.text("相談したい")]}).encode()
    assert user.post(body=body, signature=sign(body, "another-secret")).status_code == 400
    assert user.post(body=body, signature=sign(body)[:-4] + "AAA=").status_code == 400
    assert user.post(body=body, signature="not base64 at all ✗".encode()).status_code == 400
    missing = user.client.post(
        f"{server.url}/line/webhook", content=body, headers={"Content-Type": "application/json"}
    )
    assert missing.status_code == 400
    wait_servers_idle(server)
    assert inbox(server.db) == [] and standin.deliveries == []


def test_the_raw_bytes_are_signed_so_escaped_emoji_and_surrogate_pairs_verify(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    event = user.text("相談したい😀")
    # LINE escapes non-ASCII as \uXXXX, the emoji as a surrogate pair; re-serialising would change the bytes.
    escaped = json.dumps({"destination": "Ubot", "events": [event]}, ensure_ascii=True).encode()
    assert b"\\ud83d\\ude00" in escaped
    reserialised = json.dumps(json.loads(escaped), ensure_ascii=False).encode()
    assert user.post(body=escaped, signature=sign(reserialised)).status_code == 400
    assert user.post(body=escaped).status_code == 200
    WebhookParser(SECRET).parse(escaped.decode(), sign(escaped))  # the SDK agrees with the signature
    standin.wait_for_deliveries(user.user_id, 1)
    assert inbound_texts(server.db) == ["相談したい😀"]


def test_the_console_verify_payload_and_dummy_tokens_get_200(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    assert user.post(body=b'{"destination":"Ubot","events":[]}').status_code == 200
    dummy = [
        user.text("Hello, world", reply=False) | {"replyToken": "0" * 32},
        user.text("Hello, world", reply=False) | {"replyToken": "f" * 32},
    ]
    assert user.post(*dummy).status_code == 200
    wait_processed(server.db, 2)
    assert standin.deliveries == []


def test_a_malformed_or_unexpected_body_gets_a_4xx_never_a_5xx(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    for body in (b"not json", b"\xff\xfe\x00", b'{"events": {}}', b'{"events": [1]}', b"[" * 100_000):
        assert user.post(body=body).status_code == 400
    odd = {"type": "somethingNew", "timestamp": 1, "webhookEventId": "01ODD", "source": {"type": "group"}}
    assert user.post(odd).status_code == 200
    wait_processed(server.db, 1)
    assert standin.deliveries == []


def test_signed_events_with_values_no_database_can_store_are_kept_and_answered(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    users = [LineUser(server.url, standin) for _ in range(3)]
    far = users[0].text("相談したい")
    far["timestamp"] = 2**63  # not a time: stored as unknown
    lone = users[1].text("相談したい")
    lone["webhookEventId"] += "\x00"  # PostgreSQL refuses NUL in text
    bodies = [json.dumps({"destination": "U", "events": [event]}).encode() for event in (far, lone)]
    # A lone surrogate, escaped as JSON allows, cannot be encoded to be stored: replaced, the rest kept.
    broken = users[2].text("相談したい")
    raw = json.dumps({"destination": "U", "events": [broken]}, ensure_ascii=False)
    bodies.append(raw.replace("相談したい", "\\ud800相談したい").encode())
    assert b"\\ud800" in bodies[-1]
    for user, body in zip(users, bodies, strict=True):
        assert user.post(body=body).status_code == 200
    for user in users:
        assert "個人情報" in standin.wait_for_deliveries(user.user_id, 1)[0].texts[0]


def test_duplicates_and_redeliveries_have_one_effect_even_across_a_restart(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    event = user.text("相談したい")
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert user.post(event, event).status_code == 200
    assert user.post(redelivered).status_code == 200
    standin.wait_for_deliveries(user.user_id, 1)
    url = server.db.url
    server.stop()
    again = start_server(database_url=url)
    user.url = again.url
    assert user.post(redelivered).status_code == 200
    wait_servers_idle(again)
    assert len(standin.deliveries_to(user.user_id)) == 1
    assert len(inbox(again.db)) == 1 and inbound_texts(again.db) == ["相談したい"]
    with again.db.session() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_one_users_events_are_processed_in_timestamp_order(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server(MADOGUCHI_LINE_REORDER_WINDOW="0.3")
    user = LineUser(server.url, standin)
    base = int(time.time() * 1000)
    first, second, third = (user.text(t, ts=base + i) for i, t in enumerate(("一", "二", "三")))
    assert user.post(third, first).status_code == 200  # one batch, out of order
    assert user.post(second).status_code == 200  # and a late request with an earlier event
    wait_processed(server.db, 3)
    assert inbound_texts(server.db) == ["一", "二", "三"]
    standin.wait_for_deliveries(user.user_id, 3)


def test_a_slow_line_api_does_not_slow_the_ack(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    standin.set_delay(1.5)
    server = start_server(MADOGUCHI_LINE_READ_TIMEOUT="5", MADOGUCHI_LINE_LEASE="10")
    users = [LineUser(server.url, standin) for _ in range(6)]
    acks = []
    for user in users:
        started = time.perf_counter()
        assert user.post(user.text("相談したい")).status_code == 200
        acks.append(time.perf_counter() - started)
    assert max(acks) < 0.5, acks
    for user in users:
        standin.wait_for_deliveries(user.user_id, 1, timeout=15)


def test_one_request_that_cannot_be_stored_does_not_fail_the_others_stored_with_it(
    new_database: Callable[[], str],
) -> None:
    db = Database(new_database())
    gate = WriteGate(enabled=True)
    writer = InboxWriter(db=db, clock=SystemClock(), gate=gate, on_stored=lambda: None)
    writer.start()

    def event(n: int, body: dict) -> list[NewEvent]:
        return [NewEvent(f"01BATCH{n}", f"Ubatch{n}", 1_700_000_000_000 + n, body)]

    async def three_requests() -> list[bool]:
        with gate.hold():  # the writer takes the first request, then waits here while two more queue up
            first = asyncio.ensure_future(writer.store(event(1, {"type": "message"})))
            await asyncio.sleep(0.2)
            bad = asyncio.ensure_future(writer.store(event(2, {"type": "message", "x": {1, 2}})))  # not JSON
            good = asyncio.ensure_future(writer.store(event(3, {"type": "message"})))
            await asyncio.sleep(0.2)
        return list(await asyncio.gather(first, bad, good))

    try:
        assert asyncio.run(three_requests()) == [True, False, True]
        with db.session() as session:
            assert sorted(session.scalars(select(InboxEvent.event_id))) == ["01BATCH1", "01BATCH3"]
    finally:
        writer.stop()
        db.dispose()
