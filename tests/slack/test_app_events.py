"""POST /slack/events over HTTP: signatures and their age, the URL check, events handled once however often
Slack delivers them (retries, replays, two servers), the slash command, 429 with Retry-After, demo mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import cast

import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Table

from handlers.slack.bolt_app import signed
from handlers.slack.texts import HELP
from storage.slack_events import SlackEvent, get_slack_event
from tests.line.conftest import InProcessServer
from tests.slack.appserver import SlackSender, home_opened, members, new_event_id, url_verification
from tests.slack.signing import SIGNING_SECRET, command_body, event_body, signature, signed_headers
from tests.slack.standin import COORDINATORS, SlackStandIn

COORDINATOR = "U0EXYAMADA"  # the shipped example coordinator 例）山田 太郎
STRANGER = next(iter(COORDINATORS))  # a member of the workspace who is no coordinator of the desk


@pytest.fixture
def senders() -> Iterator[Callable[[InProcessServer], SlackSender]]:
    made: list[SlackSender] = []

    def make(server: InProcessServer) -> SlackSender:
        made.append(SlackSender(server.url))
        return made[-1]

    yield make
    for sender in made:
        sender.close()


def publishes(slack: SlackStandIn, user: str) -> int:
    return sum(1 for c in slack.calls("views.publish") if c.args.get("user_id") == user)


def settle(slack: SlackStandIn, seconds: float = 0.5) -> None:
    """Waits long enough for a listener that was (wrongly) started to have called Slack."""
    time.sleep(seconds)


def test_a_signed_event_is_acked_and_handled_after_the_ack(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    answer = senders(server).event(home_opened(COORDINATOR))
    assert answer.status_code == 200
    call = slack.wait_for_calls("views.publish", 1)[0]
    assert call.ok and call.args["user_id"] == COORDINATOR
    home = slack.home(COORDINATOR)
    assert home is not None
    shown = str(home.as_slack())
    assert "例）山田 太郎 さんとして登録されています" in shown and "/madoguchi help" in shown
    assert [c.method for c in slack.calls()] == ["views.publish"]  # no auth.test, no other call


def test_forged_stale_and_unsigned_requests_get_401_and_do_nothing(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    sender = senders(server)
    refused_id = new_event_id()
    body = event_body(home_opened(COORDINATOR), event_id=refused_id)
    forged = sender.post(body, content_type="application/json", secret="another-signing-secret")
    stale = sender.post(body, content_type="application/json", timestamp=int(time.time()) - 301)
    future = sender.post(body, content_type="application/json", timestamp=int(time.time()) + 301)
    unsigned = sender.client.post(
        f"{server.url}/slack/events", content=body, headers={"Content-Type": "application/json"}
    )
    genuine = event_body(home_opened(COORDINATOR), event_id=new_event_id())
    tampered = sender.client.post(
        f"{server.url}/slack/events",
        content=genuine.replace(COORDINATOR.encode(), STRANGER.encode()),
        headers=dict(sender.post(genuine, content_type="application/json").request.headers),
    )
    not_a_time = sender.client.post(
        f"{server.url}/slack/events",
        content=body,
        headers={
            **signed_headers(body),
            "X-Slack-Request-Timestamp": "soon",
            "Content-Type": "application/json",
        },
    )
    assert [r.status_code for r in (forged, stale, future, unsigned, not_a_time)] == [401] * 5
    assert tampered.status_code == 401
    command = command_body("/madoguchi", "", user_id=COORDINATOR, channel_id="C0INTAKE01")
    assert (
        sender.post(command, content_type="application/x-www-form-urlencoded", secret="x").status_code == 401
    )
    slack.wait_for_calls("views.publish", 1)  # only the one genuine delivery among them
    settle(slack)
    assert publishes(slack, COORDINATOR) == 1
    with server.db.session() as session:
        assert get_slack_event(session=session, event_id=refused_id) is None


def test_the_request_url_check_is_answered_with_its_challenge(
    slack_servers: Callable[..., InProcessServer], senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    answer = senders(server).post(url_verification("chal-123"), content_type="application/json")
    assert answer.status_code == 200 and answer.json() == {"challenge": "chal-123"}


def test_retries_and_replays_of_an_event_have_one_effect(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    sender = senders(server)
    event, event_id = home_opened(COORDINATOR), new_event_id()
    assert sender.event(event, event_id=event_id).status_code == 200
    assert sender.event(event, event_id=event_id, retry=1).status_code == 200
    assert sender.event(event, event_id=event_id, retry=2).status_code == 200
    assert sender.event(event, event_id=event_id).status_code == 200  # a captured request, replayed
    slack.wait_for_calls("views.publish", 1)
    settle(slack)
    assert publishes(slack, COORDINATOR) == 1
    with server.db.session() as session:
        row = get_slack_event(session=session, event_id=event_id)
        assert row is not None and row.deliveries == 4 and row.processed_at is not None
    another = sender.event(event)  # the same member opening the tab again: a new event, handled
    assert another.status_code == 200
    slack.wait_for(lambda: publishes(slack, COORDINATOR) == 2)


def test_one_event_delivered_to_two_servers_on_one_database_has_one_effect(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    first = slack_servers()
    second = slack_servers(database_url=first.db.url)
    event_ids = [new_event_id() for _ in range(10)]
    for n, (event_id, user) in enumerate(zip(event_ids, members(slack, 10), strict=True)):
        for server in (first, second) if n % 2 else (second, first):
            assert senders(server).event(home_opened(user), event_id=event_id).status_code == 200
    slack.wait_for(lambda: len(slack.calls("views.publish")) >= 10)
    settle(slack)
    calls = slack.calls("views.publish")
    assert all(c.ok for c in calls)
    assert sorted(c.args["user_id"] for c in calls) == [f"U0MEMBER{n:02d}" for n in range(10)]


def test_the_slash_command_answers_with_its_help_only_to_the_one_who_typed_it(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    sender = senders(server)
    started = time.perf_counter()
    answer = sender.command("", user_id=STRANGER)
    assert time.perf_counter() - started < 1.0
    assert answer.status_code == 200
    assert answer.json() == {"response_type": "ephemeral", "text": HELP}
    assert "承認" in HELP and "/madoguchi help" in HELP
    other = sender.command("今日の予定", user_id=COORDINATOR).json()
    assert other["response_type"] == "ephemeral"
    assert other["text"].startswith("「今日の予定」には対応していません。") and HELP in other["text"]
    assert slack.calls() == []  # answered in the ack: nothing posted to a channel


def test_a_429_is_retried_after_its_retry_after(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    slack.rate_limit(1, method="views.publish", retry_after=1)
    assert senders(server).event(home_opened(COORDINATOR)).status_code == 200
    refused, published = slack.wait_for_calls("views.publish", 2, timeout=10)
    assert refused.status == 429 and published.ok
    assert published.at - refused.at >= 1.0
    assert slack.home(COORDINATOR) is not None


def test_a_slow_slack_does_not_delay_the_ack(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    sender = senders(server)
    slack.delay(4.0, method="views.publish")
    acks = []
    for member in members(slack, 5):
        started = time.perf_counter()
        assert sender.event(home_opened(member)).status_code == 200
        acks.append(time.perf_counter() - started)
    assert max(acks) < 1.0, acks  # well inside Slack's 3 s, while each publish takes 4 s
    assert all(c.ok for c in slack.wait_for_calls("views.publish", 5, timeout=15))


def test_without_slack_credentials_there_is_no_slack_route(
    slack_servers: Callable[..., InProcessServer], senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers(SLACK_SIGNING_SECRET="", SLACK_BOT_TOKEN="")
    assert server.app.state.slack is None
    answer = senders(server).event(home_opened(COORDINATOR))
    assert answer.status_code == 404


def test_in_demo_mode_without_slack_credentials_the_route_is_absent(client: TestClient) -> None:
    body = event_body(home_opened(COORDINATOR), event_id=new_event_id())
    answer = client.post("/slack/events", content=body, headers=signed_headers(body))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b"{", "application/json"),
        (b"[]", "application/json"),
        (b'{"type": "event_callback"}', "application/json"),
        (b'{"type": "event_callback", "event_id": 5, "event": "x"}', "application/json"),
        (b'{"type": "event_callback", "event_id": "Ev1", "event": []}', "application/json"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    ],
)
def test_a_signed_but_malformed_request_gets_400_never_a_5xx(
    slack_servers: Callable[..., InProcessServer],
    senders: Callable[..., SlackSender],
    body: bytes,
    content_type: str,
) -> None:
    server = slack_servers()
    sender = senders(server)
    assert sender.post(body, content_type=content_type).status_code == 400
    bare = sender.post(b"command=%2Fmadoguchi", content_type="application/x-www-form-urlencoded")
    assert bare.status_code == 200 and bare.json()["text"] == HELP  # a command with no other field


def test_the_signature_is_checked_on_the_raw_bytes_as_slack_makes_it() -> None:
    now = int(time.time())
    body = event_body({**home_opened(COORDINATOR), "note": "承認🙇 \\u00e9"}, event_id=new_event_id())
    made = signature(body, now)
    assert made == SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=str(now), body=body)
    assert signed(SIGNING_SECRET, body, str(now), made)
    assert not signed(SIGNING_SECRET, body + b" ", str(now), made)
    assert not signed(SIGNING_SECRET, body, str(now + 1), made)
    assert not signed("another-secret", body, str(now), made)
    assert not signed(SIGNING_SECRET, body, str(now - 301), signature(body, now - 301))
    assert signed(SIGNING_SECRET, body, str(now - 299), signature(body, now - 299))
    assert not signed(SIGNING_SECRET, body, "１２３", made) and not signed(SIGNING_SECRET, body, None, made)


def test_an_event_with_japanese_and_emoji_in_its_raw_body_is_verified_and_handled(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    event = {**home_opened(COORDINATOR), "note": "承認をお願いします🙇"}
    assert "🙇".encode() in event_body(event, event_id="EvRAW")  # sent as UTF-8, not \\u escapes
    assert senders(server).event(event).status_code == 200
    assert slack.wait_for_calls("views.publish", 1)[0].ok


def test_an_event_that_could_not_be_stored_gets_503_and_its_retry_is_handled(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, senders: Callable[..., SlackSender]
) -> None:
    server = slack_servers()
    sender = senders(server)
    table = cast(Table, SlackEvent.__table__)
    table.drop(server.db.engine)  # the database refuses the claim (as when it is down)
    event, event_id = home_opened(COORDINATOR), new_event_id()
    assert sender.event(event, event_id=event_id).status_code == 503
    table.create(server.db.engine)
    assert sender.event(event, event_id=event_id, retry=1).status_code == 200
    assert slack.wait_for_calls("views.publish", 1)[0].ok
    assert sender.event(event, event_id=event_id, retry=2).status_code == 200
    settle(slack)
    assert publishes(slack, COORDINATOR) == 1
